#include "lambda_bridge/util/uri.hpp"

#include <array>

namespace lambda_bridge::uri {
namespace {

enum : unsigned char { unreserved = 1, path_raw = 2, query_raw = 4, tchar = 8 };

constexpr std::array<unsigned char, 256> make_classes() {
  std::array<unsigned char, 256> t{};
  auto set = [&](std::string_view chars, unsigned char cls) {
    for (char c : chars) t[static_cast<unsigned char>(c)] |= cls;
  };
  constexpr std::string_view alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  set(alnum, unreserved | path_raw | query_raw | tchar);
  set("-._~", unreserved | path_raw | query_raw);
  // RFC 3986 sub-delims, ':' and '@' are pchar; '/' separates segments. '?' and '#' are not path bytes.
  set("!$&'()*+,;=:@/", path_raw | query_raw);
  set("?", query_raw);
  set("!#$%&'*+-.^_`|~", tchar);
  return t;
}
constexpr auto classes = make_classes();
constexpr char hex[] = "0123456789ABCDEF";

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f');
}

void append_escaped(std::string& out, unsigned char c) {
  out.push_back('%');
  out.push_back(hex[c >> 4]);
  out.push_back(hex[c & 15]);
}

// Keeps bytes of class `keep` and well-formed %XX escapes; encodes the rest.
void append_keeping(std::string& out, std::string_view s, unsigned char keep) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (classes[c] & keep) {
      out.push_back(static_cast<char>(c));
    } else if (c == '%' && i + 2 < s.size() && is_hex(s[i + 1]) && is_hex(s[i + 2])) {
      out.append(s.data() + i, 3);
      i += 2;
    } else {
      append_escaped(out, c);
    }
  }
}

}  // namespace

void append_path(std::string& out, std::string_view path) { append_keeping(out, path, path_raw); }

void append_raw_query(std::string& out, std::string_view query) { append_keeping(out, query, query_raw); }

void append_query_component(std::string& out, std::string_view component) {
  for (char ch : component) {
    const auto c = static_cast<unsigned char>(ch);
    if (classes[c] & unreserved) {
      out.push_back(ch);
    } else {
      append_escaped(out, c);
    }
  }
}

bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(classes[static_cast<unsigned char>(c)] & tchar)) return false;
  }
  return true;
}

bool is_field_value(std::string_view s) {
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return false;
  }
  return true;
}

std::string_view strip_prefix_segment(std::string_view path, std::string_view prefix) {
  while (!prefix.empty() && prefix.back() == '/') prefix.remove_suffix(1);
  if (prefix.empty() || path.substr(0, prefix.size()) != prefix) return path;
  const std::string_view rest = path.substr(prefix.size());
  if (rest.empty()) return "/";
  if (rest.front() != '/') return path;  // "/apix" does not start with the segment "/api"
  return rest;
}

}  // namespace lambda_bridge::uri
