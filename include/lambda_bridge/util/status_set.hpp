// A set of HTTP status codes written as a list of codes and ranges ("200-399,404"), as the readiness and
// error-status variables take them. Parsing rejects anything it cannot read instead of guessing.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lambda_bridge {

class status_set {
 public:
  // nullopt when `text` is not a comma-separated list of codes (100-599) or ascending ranges of them.
  static std::optional<status_set> parse(std::string_view text);
  bool contains(int status) const;
  bool empty() const { return ranges_.empty(); }

 private:
  struct range {
    int first;
    int last;
  };
  std::vector<range> ranges_;
};

}  // namespace lambda_bridge
