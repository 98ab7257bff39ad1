// Lambda's payload limits, in one place (runtime-api.md §1, §2 and §5): what an invocation may carry in and out.
#pragma once

#include <cstddef>

namespace lambda_bridge {

// A synchronous invocation's payload, as the Invoke API enforces it (the local emulator refuses more with 413).
inline constexpr std::size_t max_invoke_request_bytes = 6'291'456;
// A buffered result, in bytes of its JSON document; the Runtime API answers more with 413.
inline constexpr std::size_t max_buffered_result_bytes = 6'291'556;
// The largest event the bridge reads from /next unless LAMBDA_BRIDGE_MAX_EVENT_BYTES says otherwise: the same
// figure, so that whatever Lambda can deliver is read.
inline constexpr std::size_t default_max_event_bytes = max_buffered_result_bytes;
// A streamed response: its JSON prelude, and its body.
inline constexpr std::size_t max_stream_prelude_bytes = 16 * 1024;
inline constexpr std::size_t max_streamed_body_bytes = 200 * 1024 * 1024;

}  // namespace lambda_bridge
