// Lambda's error document, the one JSON shape every failure takes on the wire: {"errorMessage":…,"errorType":…}, with
// "stackTrace":[] where the Runtime API expects it. Written by the Runtime API client (errors it posts), the local
// emulator (what its invoke API answers) and the local HTTP server (its own refusals); read back by the emulator and
// its stream relay from what a runtime posted.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace lambda_bridge {

enum class stack_trace { omitted, empty };

// Appends the document. The Runtime API's /error and /init/error take `stackTrace` (empty: the bridge has none);
// the invoke API's answers have none.
void append_error_json(std::string& out, std::string_view type, std::string_view message,
                       stack_trace trace = stack_trace::empty);

struct error_document {
  std::string type;     // "" when absent or not a string
  std::string message;  // "" when absent or not a string
};

// Reads a posted error document; nullopt when `json` is not a JSON object.
std::optional<error_document> parse_error_json(std::string_view json);

}  // namespace lambda_bridge
