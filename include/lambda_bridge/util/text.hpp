// ASCII text helpers for protocol names and values: header names, media types, codings and environment values are
// compared without regard to case and with optional whitespace (RFC 9110 OWS) around them.
#pragma once

#include <string>
#include <string_view>

namespace lambda_bridge::text {

bool iequals(std::string_view a, std::string_view b);
bool starts_with_ci(std::string_view s, std::string_view prefix);
bool ends_with_ci(std::string_view s, std::string_view suffix);
// Without leading and trailing spaces and tabs (RFC 9110 OWS).
std::string_view trim(std::string_view s);
std::string lower(std::string_view s);

}  // namespace lambda_bridge::text
