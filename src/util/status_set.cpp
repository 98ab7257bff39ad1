#include "lambda_bridge/util/status_set.hpp"

#include "lambda_bridge/util/text.hpp"
#include "lambda_bridge/util/text.hpp"

#include <charconv>

namespace lambda_bridge {
namespace {

using text::trim;

std::optional<int> parse_code(std::string_view s) {
  s = trim(s);
  int v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || r.ec != std::errc{} || r.ptr != s.data() + s.size() || v < 100 || v > 599) return std::nullopt;
  return v;
}

}  // namespace

std::optional<status_set> status_set::parse(std::string_view text) {
  status_set set;
  if (trim(text).empty()) return std::nullopt;
  while (true) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const auto dash = item.find('-');
    const auto first = parse_code(item.substr(0, dash));
    const auto last = dash == std::string_view::npos ? first : parse_code(item.substr(dash + 1));
    if (!first || !last || *last < *first) return std::nullopt;
    set.ranges_.push_back({*first, *last});
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return set;
}

bool status_set::contains(int status) const {
  for (const auto& r : ranges_) {
    if (status >= r.first && status <= r.last) return true;
  }
  return false;
}

}  // namespace lambda_bridge
