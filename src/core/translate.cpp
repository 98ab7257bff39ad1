// The event side's dispatcher: checks the event as JSON, finds its source, lets the source's file (events/*.cpp)
// read its fields into the request, then adds the headers every request gets. What each source reads is in its
// file.
#include "lambda_bridge/core/translate.hpp"

#include <cstring>

#include "events/sources.hpp"
#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/util/text.hpp"

namespace lambda_bridge {

std::string_view to_string(event_source s) {
  static constexpr std::string_view names[] = {"alb",          "vpc-lattice-v1", "vpc-lattice-v2", "http-api-v2",
                                               "function-url", "rest",           "pass-through"};  // enum order
  static_assert(std::size(names) == static_cast<std::size_t>(event_source::pass_through) + 1);
  const auto i = static_cast<std::size_t>(s);
  return i < std::size(names) ? names[i] : "unknown";
}

namespace events {

const source_rules& rules_for(event_source source) {
  switch (source) {
    case event_source::rest:
      return rest_rules;
    case event_source::http_api_v2:
    case event_source::function_url:
      return http_api_rules;
    case event_source::alb:
      return alb_rules;
    case event_source::lattice_v1:
    case event_source::lattice_v2:
      return lattice_rules;
    case event_source::pass_through:
      break;
  }
  return pass_through_rules;
}

}  // namespace events

namespace {

using events::json_value;

// In this order: an ALB event also has httpMethod, a Lattice v2 event also has version 2.0, and a WebSocket event
// has a requestContext like REST's; whatever matches nothing is forwarded as it is.
event_source detect(const json_value& e) {
  if (events::is_alb(e)) return event_source::alb;
  if (const auto lattice = events::lattice_version(e)) return *lattice;
  if (const auto http_api = events::http_api_kind(e)) return *http_api;
  if (events::is_websocket(e)) return event_source::pass_through;
  if (events::is_rest(e)) return event_source::rest;
  return event_source::pass_through;
}

bool is_lambda_edge(const json_value& e) {
  const json_value* records = events::find(e, "Records");
  return records != nullptr && records->IsArray() && !records->Empty() &&
         events::find((*records)[0], "cf") != nullptr;
}

// Refuses what is not an event before any parse or recursion: hostile nesting, invalid UTF-8, a raw NUL. UTF-8 is
// checked in the scan rather than by RapidJSON's validating reader, which costs several times more per byte.
maybe_failure check_event_text(const events::event_scan& scan) {
  if (scan.depth > events::max_json_depth) {
    return failure{error_types::invalid_event, "the event nests arrays or objects " + std::to_string(scan.depth) +
                                                   " levels deep; at most " +
                                                   std::to_string(events::max_json_depth) + " are accepted"};
  }
  if (!scan.valid_utf8) {
    return failure{error_types::invalid_event, "the event is not valid JSON: its bytes are not valid UTF-8"};
  }
  // A raw NUL is never valid JSON; refusing it here lets the parse take the NUL-terminated string, the form for
  // which RapidJSON copies strings with SIMD (RAPIDJSON_SSE2).
  if (scan.has_nul) {
    return failure{error_types::invalid_event, "the event is not valid JSON: it contains a NUL byte"};
  }
  return std::nullopt;
}

}  // namespace

bool is_framing_header(std::string_view name) {
  for (auto h : framing_headers) {
    if (text::iequals(name, h)) return true;
  }
  return false;
}

std::string_view find_header(const std::vector<header>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (text::iequals(h.name, name)) return h.value;
  }
  return {};
}

void backend_request::append_head(std::string& out) const {
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  for (const auto& h : headers) out.append(h.name).append(": ").append(h.value).append("\r\n");
  out.append("\r\n");
}

struct translator::impl {
  // The parse pools keep their first chunk across invocations, so small events parse without a malloc.
  static constexpr std::size_t pool_bytes = 64 * 1024;
  alignas(std::max_align_t) char value_buffer[pool_bytes];
  events::json_allocator value_alloc{value_buffer, sizeof value_buffer};
  events::parse_stack_allocator stack_alloc;
  events::builder_scratch scratch;
  // The copy of an event without its body that the parse reads (events::event_text); the DOM's strings lie in it.
  std::string aside;
  // The last request's header list and target, reused (recycle).
  std::vector<header> spare_list;
  std::string spare_target;
};

// `new impl`, not std::make_unique<impl>(): make_unique value-initialises, which zero-filled the 64 KB pool at start-up
// (16 page faults, a sixth of those before the first /next; docs/performance.md, "Start-up faults"). RapidJSON writes
// the pool before it reads it, so it is left as the allocator found it.
translator::translator() : impl_(new impl) {}
translator::~translator() = default;

result<translation> translator::translate(std::string&& event, const invocation_context& ctx,
                                          const translate_options& opts, events::event_scanner* scanned) {
  const events::event_scan scan = scanned != nullptr ? scanned->finish(event) : events::scan_event_text(event);
  if (auto refused = check_event_text(scan)) return std::move(*refused);
  events::event_text text(event, scan, impl_->aside);
  impl_->value_alloc.Clear();
  // The document's stack starts in an 8 KB block of the block cache, size in front included (request_builder.hpp).
  events::json_document doc(&impl_->value_alloc, 8 * 1024 - events::parse_stack_allocator::header_bytes,
                            &impl_->stack_alloc);
  text.parse(doc);
  if (doc.HasParseError()) {
    return failure{error_types::invalid_event,
                   "the event is not valid JSON (error at byte " + std::to_string(doc.GetErrorOffset()) + ")"};
  }
  if (is_lambda_edge(doc)) {
    return failure{error_types::unsupported_event,
                   "Lambda@Edge (CloudFront) events cannot be served by a container image function"};
  }

  translation out;
  out.request.headers.swap(impl_->spare_list);
  out.request.target.swap(impl_->spare_target);
  out.request.target.clear();
  out.shape.source = detect(doc);
  events::request_builder b(doc, text, opts, out, impl_->scratch);
  // Type-checked for HTTP sources only: a custom event may hold anything under this name.
  if (out.shape.source != event_source::pass_through) b.read_request_context();
  events::rules_for(out.shape.source).build_request(b);
  if (b.error) return std::move(*b.error);
  b.finish_headers(ctx);
  b.finish_body();
  if (b.error) return std::move(*b.error);
  return out;
}

void translator::recycle(backend_request&& used) {
  // Bounded, so that one event with a thousand headers or a 60 KB cookie does not stay in memory for good: what is
  // kept is what the next ordinary request will reuse.
  constexpr std::size_t max_spare_headers = 64, max_spare_string = 4096;
  auto& spare = impl_->scratch.spare_headers;
  for (auto& h : used.headers) {
    if (spare.size() == max_spare_headers) break;
    if (h.name.capacity() <= max_spare_string && h.value.capacity() <= max_spare_string) spare.push_back(std::move(h));
  }
  used.headers.clear();
  if (used.headers.capacity() <= max_spare_headers) impl_->spare_list = std::move(used.headers);
  if (used.target.capacity() <= max_spare_string) impl_->spare_target = std::move(used.target);
}

}  // namespace lambda_bridge
