// The Lambda Extensions API (runtime-api.md §3), its pure pieces: who am I (extension mode), and
// the event and registration documents. In extension mode the bridge is an external extension
// (/opt/extensions/lambda-bridge) that registers for SHUTDOWN and parks on event/next; its HTTP calls are in
// runtime_client (one connection per peer). The local emulator's side of the same API is emulated_extensions
// (src/local/), which builds and reads the same documents with these functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lambda_bridge/core/result.hpp"
#include "lambda_bridge/lambda/protocol.hpp"

namespace lambda_bridge {

// Extension error types have the shape Extension.<Reason>; the emulator answers with the same shape.
inline constexpr std::string_view extension_invalid_request = "Extension.InvalidRequest";

// The name to register under when this process is a Lambda external extension, else nullopt. `argv0` is taken
// as given (Lambda runs extensions by their full path); `setting` is LAMBDA_BRIDGE_EXTENSION_MODE: true forces
// extension mode, false forbids it, unset decides by whether argv0's directory is /opt/extensions. The name is
// argv0's file name: Lambda accepts an external extension's registration only under its file name.
std::optional<std::string> extension_name_for(std::string_view argv0, std::optional<bool> setting);

// One event from /extension/event/next.
struct extension_event {
  std::string event_type;       // "INVOKE", "SHUTDOWN", or whatever a newer Lambda sends
  std::string shutdown_reason;  // SHUTDOWN: spindown, timeout or failure
  std::int64_t deadline_ms = 0;
  std::string request_id;       // INVOKE
};

// Parses an event document; a failure names what is wrong (not JSON, no eventType). Pure.
result<extension_event> parse_extension_event(std::string_view json);

// The events a /register body subscribes to: {"events":[...]} with INVOKE and SHUTDOWN only. A failure names the
// problem, for the 400 reply. Pure.
result<std::vector<std::string>> parse_register_events(std::string_view json);

// Event documents as Lambda sends them.
std::string shutdown_event_json(std::string_view reason, std::int64_t deadline_ms);
std::string invoke_event_json(std::int64_t deadline_ms, std::string_view request_id, std::string_view function_arn,
                              std::string_view trace_id);

}  // namespace lambda_bridge
