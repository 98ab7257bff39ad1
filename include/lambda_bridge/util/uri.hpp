// Request-line hygiene for the translation core: what may appear raw in a path or query, and how to encode the
// rest, plus the RFC 9110 token and field-value checks that keep an event from smuggling bytes onto the wire.
#pragma once

#include <string>
#include <string_view>

namespace lambda_bridge::uri {

// Appends a path: bytes allowed in an RFC 3986 path stay, an existing %XX stays, everything else (space, '?',
// '#', '"', non-ASCII, controls, a stray '%') becomes %XX. The result never holds a space, CR, LF or NUL.
void append_path(std::string& out, std::string_view path);

// Appends an already-encoded query string as the client sent it: only bytes that cannot appear raw in a request
// line (space, controls, non-ASCII, '#', a stray '%' …) are encoded, so `%3A` stays `%3A` (no double encoding).
void append_raw_query(std::string& out, std::string_view query);

// Appends a decoded query key or value, encoded: everything but RFC 3986 unreserved bytes becomes %XX.
void append_query_component(std::string& out, std::string_view component);

// RFC 9110 token (method, header name): one or more tchar.
bool is_token(std::string_view s);

// A header value that may go on the wire: no CR, LF or NUL (other controls except HTAB are refused too).
bool is_field_value(std::string_view s);

// Strips one leading `prefix` on a segment boundary: "/api" turns "/api/x" into "/x" and "/api" into "/", and
// leaves "/apix" alone. An empty or "/" prefix strips nothing.
std::string_view strip_prefix_segment(std::string_view path, std::string_view prefix);

}  // namespace lambda_bridge::uri
