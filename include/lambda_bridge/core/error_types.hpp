// The errorType values the bridge posts to the Runtime API. Lambda keeps an error type only if it matches
// (Runtime|Function)\.[A-Z][a-zA-Z]+ and turns anything else into Runtime.Unknown, so every name fits that shape.
#pragma once

#include <string_view>

namespace lambda_bridge::error_types {

inline constexpr std::string_view invalid_event = "Runtime.InvalidEvent";
inline constexpr std::string_view unsupported_event = "Runtime.UnsupportedEvent";
inline constexpr std::string_view event_too_large = "Runtime.EventTooLarge";
inline constexpr std::string_view backend_unreachable = "Runtime.BackendUnreachable";
inline constexpr std::string_view backend_timeout = "Runtime.BackendTimeout";
inline constexpr std::string_view backend_invalid_response = "Runtime.BackendInvalidResponse";
inline constexpr std::string_view response_too_large = "Runtime.ResponseTooLarge";
inline constexpr std::string_view error_status = "Function.ErrorStatus";
inline constexpr std::string_view invalid_config = "Runtime.InvalidConfiguration";
inline constexpr std::string_view app_exited = "Runtime.AppExited";
inline constexpr std::string_view internal_error = "Runtime.BridgeError";
inline constexpr std::string_view backend_not_ready = "Runtime.BackendNotReady";
// The invocations in flight when a second SIGTERM or SIGINT forced the bridge to stop without waiting for them.
inline constexpr std::string_view bridge_stopped = "Runtime.BridgeStopped";
// The trailer type of a streamed response that failed after its first bytes; the error body names the cause.
inline constexpr std::string_view stream_error = "Runtime.StreamError";
// The local emulator's: a streamed response whose prelude it cannot read.
inline constexpr std::string_view invalid_stream_prelude = "Runtime.InvalidStreamPrelude";
// The local emulator's, as Lambda's Invoke API names it: the function was shutting down when the invocation came.
inline constexpr std::string_view exit_error = "Runtime.ExitError";

}  // namespace lambda_bridge::error_types
