// The pure translation core, reply side: the app's HTTP reply in, the result JSON Lambda expects for the event's
// source out (docs/event-mapping.md, "Response"). Written in one pass into a buffer the caller reuses.
#pragma once

#include <optional>
#include <string>

#include "lambda_bridge/core/compression.hpp"
#include "lambda_bridge/core/http_message.hpp"
#include "lambda_bridge/core/lambda_limits.hpp"
#include "lambda_bridge/core/result.hpp"
#include "lambda_bridge/core/translate.hpp"
#include "lambda_bridge/util/status_set.hpp"

namespace lambda_bridge {

struct response_options {
  const status_set* error_status_codes = nullptr;  // statuses that make the invocation fail
  std::size_t max_result_bytes = max_buffered_result_bytes;
  bool compression = false;  // gzip/br by the event's Accept-Encoding (AWS_LWA_ENABLE_COMPRESSION)
};

// Writes the result JSON into `out` (cleared first). Fails with Function.ErrorStatus when the status is listed
// in the error codes (the body goes into the message), or Runtime.ResponseTooLarge past the limit.
maybe_failure convert_reply(const response_shape& shape, backend_reply& reply, std::string& out,
                     const response_options& opts);

// The same conversion in two steps, for a body read straight into the result buffer with no copy (the invocation's
// buffered path). begin_result writes the result up to its body, ending in `"body":"`, into `out` (cleared first);
// it returns false, leaving `out` empty, when the body does not go there as it is: the status is an error code, the
// source is pass-through (the body is the result), or `opts` asks for compression. Then convert_reply serves.
// finish_result converts the body appended to `out` from `body_start` on, where it lies (escaped text, or base64),
// and closes the result; on failure `out` is left empty.
bool begin_result(const response_shape& shape, const backend_reply& head, std::string& out,
                  const response_options& opts);
maybe_failure finish_result(const backend_reply& head, std::string& out, std::size_t body_start,
                            const response_options& opts);

// Response compression (AWS_LWA_ENABLE_COMPRESSION), decided from the reply's head alone so that the body can be
// compressed as it arrives: the coding the client accepts, or identity for a HEAD request or a type not worth it.
content_coding reply_coding(const response_shape& shape, const std::vector<header>& reply_headers);
// Whether a compressed body is worth sending instead of the `original_size` bytes it encodes.
bool worth_compressing(std::size_t original_size, std::size_t compressed_size);
// Puts `compressed` (encoded with `coding`) in place of the reply's body, with Content-Encoding and Vary.
void use_compressed(backend_reply& reply, content_coding coding, std::string& compressed);

// Response streaming (runtime-api.md §2): the HTTP-integration prelude and its delimiter (limits: lambda_limits.hpp).
inline constexpr std::string_view stream_content_type = "application/vnd.awslambda.http-integration-response";
inline constexpr std::string_view stream_prelude_delimiter{"\0\0\0\0\0\0\0\0", 8};

// Whether the event's invoker can receive a streamed response: Function URLs and API Gateway (v2 payloads, as
// Function URLs send them, and REST in stream transfer mode). ALB, VPC Lattice and non-HTTP invokers buffer,
// and would take the prelude's bytes for the body, so their results stay buffered.
bool can_stream(const response_shape& shape);

// Appends the JSON prelude of a streamed response (status, headers, and cookies — or, for REST,
// multiValueHeaders) and the 8 NUL bytes that end it. Fails when the prelude would exceed Lambda's 16 KB.
maybe_failure append_stream_prelude(const response_shape& shape, const backend_reply& head, std::string& out);

// Whether a body is sent as text (true) or base64 (false), from the reply's Content-Type, Content-Encoding and
// bytes. Exposed for tests.
bool is_text_body(std::string_view content_type, std::string_view content_encoding, std::string_view body);
// The first half of that rule: whether the media type and Content-Encoding allow text at all.
bool is_text_type(std::string_view content_type, std::string_view content_encoding);

bool is_valid_utf8(std::string_view s);

// The standard reason phrase for a status code, or "" when there is none.
std::string_view reason_phrase(int status);

}  // namespace lambda_bridge
