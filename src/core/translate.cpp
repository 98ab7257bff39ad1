#include "lambda_bridge/core/translate.hpp"

#include <rapidjson/document.h>
#include <rapidjson/internal/dtoa.h>

#include <array>
#include <charconv>
#include <cstddef>
#include <cstring>

#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/util/base64.hpp"
#include "lambda_bridge/util/json_writer.hpp"
#include "lambda_bridge/util/uri.hpp"

namespace lambda_bridge {

std::string_view to_string(event_source s) {
  switch (s) {
    case event_source::alb: return "alb";
    case event_source::lattice_v1: return "vpc-lattice-v1";
    case event_source::lattice_v2: return "vpc-lattice-v2";
    case event_source::http_api_v2: return "http-api-v2";
    case event_source::function_url: return "function-url";
    case event_source::rest: return "rest";
    case event_source::pass_through: return "pass-through";
  }
  return "unknown";
}

namespace {

using allocator = rapidjson::MemoryPoolAllocator<>;
// The parse stack holds each string whole before it is stored: on the C allocator it grows by realloc (mremap for a
// large body) instead of the pool's allocate-and-copy, which copied a 1 MB body about twice over.
using document = rapidjson::GenericDocument<rapidjson::UTF8<>, allocator, rapidjson::CrtAllocator>;
using value = document::ValueType;

// Real events nest a dozen levels; anything far deeper is an attack on recursive code, not an event.
constexpr std::size_t max_json_depth = 128;
std::size_t json_nesting_depth(std::string_view json);

std::string_view view(const value& v) { return {v.GetString(), v.GetStringLength()}; }

// A member that is present and not JSON null (API Gateway console test events send nulls for absent maps).
const value* find(const value& obj, std::string_view name) {
  if (!obj.IsObject()) return nullptr;
  const auto it = obj.FindMember(rapidjson::StringRef(name.data(), name.size()));
  if (it == obj.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

// Set by the bridge from the invocation, overwriting whatever the client sent.
namespace context_header {
constexpr std::string_view request_context = "x-amzn-request-context";
constexpr std::string_view lambda_context = "x-amzn-lambda-context";
constexpr std::string_view trace_id = "x-amzn-trace-id";
constexpr std::string_view tenant_id = "x-amz-tenant-id";
}  // namespace context_header

// The same header to an app behind CGI-style naming: WSGI, PHP and CGI servers turn both '-' and '_' into '_'
// (RFC 3875 4.1.18), so `x_amzn_lambda_context` reaches such an app as HTTP_X_AMZN_LAMBDA_CONTEXT — the name of the
// bridge's own header, sent after it; wsgiref then joins the two, others keep the first. Names the bridge sets or
// frames are therefore matched with '_' counted as '-', or a client could still spoof them.
bool same_name_as_cgi_sees_it(std::string_view name, std::string_view reserved) {
  if (name.size() != reserved.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '_') c = '-';
    if (c != reserved[i]) return false;
  }
  return true;
}

// Framing headers (http_message.hpp) as a CGI-style app would read them: the bridge frames the request itself.
bool is_hop_by_hop(std::string_view name) {
  for (auto h : framing_headers) {
    if (same_name_as_cgi_sees_it(name, h)) return true;
  }
  return false;
}

bool is_context_header(std::string_view name) {
  return same_name_as_cgi_sees_it(name, context_header::request_context) ||
         same_name_as_cgi_sees_it(name, context_header::lambda_context) ||
         same_name_as_cgi_sees_it(name, context_header::trace_id) ||
         same_name_as_cgi_sees_it(name, context_header::tenant_id);
}

// Appends `v` re-serialised compactly with non-ASCII escaped, so it is always a valid one-line header value. Written
// directly rather than through RapidJSON's Writer with an ASCII target, which transcoded every character one by one
// (6 % of a 1 KB invocation's instructions). Recursive, but only over events whose nesting was bounded first
// (max_json_depth).
void append_compact_json(std::string& out, const value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType: out.append("null"); break;
    case rapidjson::kFalseType: out.append("false"); break;
    case rapidjson::kTrueType: out.append("true"); break;
    case rapidjson::kStringType: append_json_string_ascii(out, view(v)); break;
    case rapidjson::kNumberType: {
      char buf[32];
      // Doubles through RapidJSON's Grisu2 (shortest round trip), as its Writer did: std::to_chars for double
      // pulls about 160 KB of tables into the static binary.
      const char* end = v.IsUint64()  ? std::to_chars(buf, buf + sizeof buf, v.GetUint64()).ptr
                        : v.IsInt64() ? std::to_chars(buf, buf + sizeof buf, v.GetInt64()).ptr
                                      : rapidjson::internal::dtoa(v.GetDouble(), buf);
      out.append(buf, static_cast<std::size_t>(end - buf));
      break;
    }
    case rapidjson::kObjectType: {
      out.push_back('{');
      bool first = true;
      for (const auto& m : v.GetObject()) {
        if (!first) out.push_back(',');
        first = false;
        append_json_string_ascii(out, view(m.name));
        out.push_back(':');
        append_compact_json(out, m.value);
      }
      out.push_back('}');
      break;
    }
    case rapidjson::kArrayType: {
      out.push_back('[');
      bool first = true;
      for (const auto& e : v.GetArray()) {
        if (!first) out.push_back(',');
        first = false;
        append_compact_json(out, e);
      }
      out.push_back(']');
      break;
    }
  }
}

// The per-event work: reads fields with type checks that name the field, and builds the request.
class builder {
 public:
  builder(const value& event, const translate_options& opts, translation& out)
      : event_(event), opts_(opts), out_(out), req_(out.request) {}

  std::optional<failure> error;

  void type_error(std::string_view field, std::string_view expected) {
    if (!error) {
      error = failure{error_types::invalid_event,
                      "event field '" + std::string(field) + "' must be " + std::string(expected)};
    }
  }

  // Optional string member: absent or null gives nullopt; another type is an error naming the field.
  std::optional<std::string_view> string_member(const value& obj, std::string_view name, std::string_view field) {
    const value* v = find(obj, name);
    if (v == nullptr) return std::nullopt;
    if (!v->IsString()) {
      type_error(field, "a string");
      return std::nullopt;
    }
    return view(*v);
  }

  const value* object_member(const value& obj, std::string_view name, std::string_view field) {
    const value* v = find(obj, name);
    if (v != nullptr && !v->IsObject()) {
      type_error(field, "an object");
      return nullptr;
    }
    return v;
  }

  bool bool_member(const value& obj, std::string_view name, std::string_view field) {
    const value* v = find(obj, name);
    if (v == nullptr) return false;
    if (v->IsBool()) return v->GetBool();
    // Hand-written events sometimes quote it.
    if (v->IsString() && (view(*v) == "true" || view(*v) == "false")) return view(*v) == "true";
    type_error(field, "a boolean");
    return false;
  }

  // Calls f(name, value) for each value of a map whose values are strings, or arrays of strings when
  // `multi` — a plain string where an array belongs counts as a one-element array (hand-written events do it).
  template <class F>
  void for_each_value(const value* map, std::string_view field, F&& f) {
    if (map == nullptr) return;
    for (auto it = map->MemberBegin(); it != map->MemberEnd(); ++it) {
      const std::string_view name = view(it->name);
      const value& v = it->value;
      if (v.IsString()) {
        f(name, view(v));
      } else if (v.IsArray()) {
        for (const auto& item : v.GetArray()) {
          if (item.IsString()) {
            f(name, view(item));
          } else if (!item.IsNull()) {
            type_error(std::string(field) + "." + std::string(name), "an array of strings");
            return;
          }
        }
      } else if (!v.IsNull()) {
        type_error(std::string(field) + "." + std::string(name), "a string or an array of strings");
        return;
      }
    }
  }

  void set_method(std::optional<std::string_view> method, std::string_view field) {
    if (!method) {
      type_error(field, "a string (the HTTP method)");
      return;
    }
    if (!uri::is_token(*method)) {
      if (!error) {
        error = failure{error_types::invalid_event, "event field '" + std::string(field) +
                                                        "' is not a valid HTTP method (an RFC 9110 token)"};
      }
      return;
    }
    req_.method.assign(*method);
    out_.shape.head = *method == "HEAD";
  }

  void set_path(std::string_view path) {
    if (path.empty()) path = "/";
    path = uri::strip_prefix_segment(path, opts_.remove_base_path);
    req_.target.clear();
    if (path.front() != '/') req_.target.push_back('/');
    uri::append_path(req_.target, path);
  }

  // Query separators: '?' before the first pair, '&' between pairs.
  void begin_pair() { req_.target.push_back(query_started_ ? '&' : '?'); query_started_ = true; }

  void add_encoded_pairs(const value* map, std::string_view field) {
    for_each_value(map, field, [&](std::string_view k, std::string_view v) {
      begin_pair();
      uri::append_query_component(req_.target, k);
      req_.target.push_back('=');
      uri::append_query_component(req_.target, v);
    });
  }

  // ALB hands query keys and values over as the client encoded them: re-encoding would turn %3A into %253A.
  void add_raw_pairs(const value* map, std::string_view field) {
    for_each_value(map, field, [&](std::string_view k, std::string_view v) {
      begin_pair();
      uri::append_raw_query(req_.target, k);
      req_.target.push_back('=');
      uri::append_raw_query(req_.target, v);
    });
  }

  void add_raw_query(std::string_view query) {
    if (query.empty()) return;
    begin_pair();
    uri::append_raw_query(req_.target, query);
  }

  void add_header(std::string_view name, std::string_view v) { req_.headers.push_back({std::string(name), std::string(v)}); }

  void add_headers(const value* map, std::string_view field) {
    for_each_value(map, field, [&](std::string_view n, std::string_view v) { add_header(n, v); });
  }

  // REST and ALB: multiValueHeaders is the truth; `headers` only adds names it lacks (API Gateway sends both).
  void add_v1_headers() {
    const value* multi = object_member(event_, "multiValueHeaders", "multiValueHeaders");
    const value* single = object_member(event_, "headers", "headers");
    add_headers(multi, "multiValueHeaders");
    if (single == nullptr) return;
    for (auto it = single->MemberBegin(); it != single->MemberEnd(); ++it) {
      const std::string_view name = view(it->name);
      bool in_multi = false;
      if (multi != nullptr) {
        for (auto m = multi->MemberBegin(); m != multi->MemberEnd() && !in_multi; ++m) in_multi = uri::iequals(view(m->name), name);
      }
      if (in_multi) continue;
      if (it->value.IsString()) {
        add_header(name, view(it->value));
      } else if (!it->value.IsNull()) {
        type_error("headers." + std::string(name), "a string");
      }
    }
  }

  void set_body(std::string_view body_field, std::string_view base64_field) {
    const auto body = string_member(event_, body_field, body_field);
    const bool encoded = bool_member(event_, base64_field, base64_field);
    if (!body) return;
    if (!encoded) {
      req_.body.assign(*body);
    } else if (!base64::append_decoded(req_.body, *body)) {
      if (!error) {
        error = failure{error_types::invalid_event,
                        "event field '" + std::string(body_field) + "' is not valid base64 although '" +
                            std::string(base64_field) + "' is true"};
      }
    }
  }

  // The final header pass: drops what may not reach the app, applies the authorization source, then adds Host,
  // Content-Length and the context headers.
  void finish_headers(std::string_view domain_name, const value* request_context, const invocation_context& ctx) {
    auto& hs = req_.headers;
    bool has_host = false;
    const bool source_present = !opts_.authorization_source.empty() && !uri::iequals(opts_.authorization_source, "authorization") &&
                                has_header(opts_.authorization_source);
    std::size_t kept = 0;
    for (std::size_t i = 0; i < hs.size(); ++i) {
      auto& h = hs[i];
      if (!uri::is_token(h.name) || !uri::is_field_value(h.value)) {
        out_.dropped_headers.push_back(h.name);
        continue;
      }
      if (is_hop_by_hop(h.name) || is_context_header(h.name)) continue;
      if (source_present && uri::iequals(h.name, "authorization")) {
        continue;  // replaced by the configured source below
      }
      if (source_present && uri::iequals(h.name, opts_.authorization_source)) {
        h.name = "authorization";
      }
      if (uri::iequals(h.name, "host")) {
        // One Host only: a second one is a request apps must refuse, and a host-confusion trick.
        if (has_host) continue;
        has_host = true;
      }
      if (uri::iequals(h.name, "accept-encoding")) {
        if (!out_.shape.accept_encoding.empty()) out_.shape.accept_encoding.push_back(',');
        out_.shape.accept_encoding.append(h.value);
      }
      if (kept != i) hs[kept] = std::move(h);
      ++kept;
    }
    hs.resize(kept);

    if (!has_host) {
      // domainName comes from the event: used only when it is a plain host name (no CR/LF, spaces or slashes).
      const bool usable = !domain_name.empty() && uri::is_field_value(domain_name) &&
                          domain_name.find_first_of(" \t/\\?#@") == std::string_view::npos;
      hs.push_back({"host", std::string(usable ? domain_name : opts_.default_host)});
    }
    hs.push_back({"content-length", std::to_string(req_.body.size())});

    header rc{std::string(context_header::request_context), {}};
    if (request_context != nullptr) {
      append_compact_json(rc.value, *request_context);
    } else {
      rc.value = "null";
    }
    hs.push_back(std::move(rc));
    hs.push_back({std::string(context_header::lambda_context), lambda_context_json(ctx)});
    if (!ctx.trace_id.empty() && uri::is_field_value(ctx.trace_id)) {
      hs.push_back({std::string(context_header::trace_id), ctx.trace_id});
    }
    if (!ctx.tenant_id.empty() && uri::is_field_value(ctx.tenant_id)) {
      hs.push_back({std::string(context_header::tenant_id), ctx.tenant_id});
    }
  }

  bool has_header(std::string_view name) const {
    for (const auto& h : req_.headers) {
      if (uri::iequals(h.name, name)) return true;
    }
    return false;
  }

  // The JSON aws-lambda-web-adapter sends as x-amzn-lambda-context (lambda_runtime's Context), so apps written
  // for it read the same fields.
  std::string lambda_context_json(const invocation_context& ctx) {
    std::string out;
    json_writer w(out);
    w.begin_object();
    w.key("request_id").string(ctx.request_id);
    w.key("deadline").integer(ctx.deadline_ms.value_or(0));
    w.key("invoked_function_arn").string(ctx.invoked_function_arn);
    w.key("xray_trace_id");
    if (ctx.trace_id.empty()) w.null(); else w.string(ctx.trace_id);
    w.key("client_context");
    embedded_json(w, ctx.client_context);
    w.key("identity");
    embedded_json(w, ctx.cognito_identity);
    w.key("env_config").begin_object();
    const function_environment empty;
    const function_environment& fn = opts_.function != nullptr ? *opts_.function : empty;
    w.key("function_name").string(fn.function_name);
    w.key("memory").integer(fn.memory_mb);
    w.key("version").string(fn.version);
    w.key("log_stream").string(fn.log_stream);
    w.key("log_group").string(fn.log_group);
    w.end_object();
    w.key("tenant_id");
    if (ctx.tenant_id.empty()) w.null(); else w.string(ctx.tenant_id);
    w.end_object();
    // json_writer escapes controls but passes UTF-8 through; a header value must stay on one line, which it does.
    return out;
  }

  // Client context and Cognito identity arrive as JSON text in Runtime API headers; they are embedded as
  // objects when they parse, else as null (never raw, so they cannot break the header).
  static void embedded_json(json_writer& w, std::string_view text) {
    if (text.empty()) {
      w.null();
      return;
    }
    rapidjson::Document d;
    if (json_nesting_depth(text) <= max_json_depth) d.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
    if (d.HasParseError() || !d.IsObject()) {
      w.null();
      return;
    }
    std::string compact;
    append_compact_json(compact, d);
    w.raw(compact);
  }

  const value& event_;
  const translate_options& opts_;
  translation& out_;
  backend_request& req_;
  bool query_started_ = false;
};

event_source detect(const value& e) {
  const value* rc = find(e, "requestContext");
  const value* version = find(e, "version");
  const bool v2 = version != nullptr && version->IsString() && view(*version) == "2.0";
  const value* http = rc != nullptr ? find(*rc, "http") : nullptr;
  if (rc != nullptr && find(*rc, "elb") != nullptr) return event_source::alb;
  if ((rc != nullptr && find(*rc, "serviceNetworkArn") != nullptr) || (v2 && find(e, "method") != nullptr && http == nullptr)) {
    return event_source::lattice_v2;
  }
  if (find(e, "raw_path") != nullptr && find(e, "method") != nullptr) return event_source::lattice_v1;
  if (v2 && http != nullptr) {
    const value* domain = find(*rc, "domainName");
    if (domain != nullptr && domain->IsString() && view(*domain).find(".lambda-url.") != std::string_view::npos) {
      return event_source::function_url;
    }
    return event_source::http_api_v2;
  }
  if (rc != nullptr && (find(*rc, "connectionId") != nullptr || find(*rc, "eventType") != nullptr)) {
    return event_source::pass_through;  // API Gateway WebSocket
  }
  const value* method = find(e, "httpMethod");
  if (method != nullptr && method->IsString()) return event_source::rest;
  return event_source::pass_through;
}

// The deepest nesting of arrays and objects in JSON text, strings skipped; a linear scan, so that a hostile event
// is refused before any recursive code (serialising requestContext) could meet it.
std::size_t json_nesting_depth(std::string_view json) {
  std::size_t depth = 0, deepest = 0;
  const char* p = json.data();
  const char* const end = p + json.size();
  while (p < end) {
    const char c = *p++;
    if (c == '"') {
      // A string ends at the first quote not escaped by an odd run of backslashes; memchr jumps over the rest,
      // which is most of an event (its body).
      for (;;) {
        const auto* q = static_cast<const char*>(std::memchr(p, '"', static_cast<std::size_t>(end - p)));
        if (q == nullptr) return deepest;  // unterminated: the parser reports it
        std::size_t backslashes = 0;
        while (q - backslashes > p && q[-1 - static_cast<std::ptrdiff_t>(backslashes)] == '\\') ++backslashes;
        p = q + 1;
        if (backslashes % 2 == 0) break;
      }
    } else if (c == '{' || c == '[') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

bool is_lambda_edge(const value& e) {
  const value* records = find(e, "Records");
  return records != nullptr && records->IsArray() && !records->Empty() && find((*records)[0], "cf") != nullptr;
}

}  // namespace

bool is_framing_header(std::string_view name) {
  for (auto h : framing_headers) {
    if (uri::iequals(name, h)) return true;
  }
  return false;
}

std::string_view find_header(const std::vector<header>& headers, std::string_view name) {
  for (const auto& h : headers) {
    if (uri::iequals(h.name, name)) return h.value;
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
  allocator value_alloc{value_buffer, sizeof value_buffer};
  rapidjson::CrtAllocator stack_alloc;
};

translator::translator() : impl_(std::make_unique<impl>()) {}
translator::~translator() = default;

result<translation> translator::translate(std::string&& event, const invocation_context& ctx,
                                          const translate_options& opts) {
  impl_->value_alloc.Clear();
  document doc(&impl_->value_alloc, 16 * 1024, &impl_->stack_alloc);
  if (const auto depth = json_nesting_depth(event); depth > max_json_depth) {
    return failure{error_types::invalid_event, "the event nests arrays or objects " + std::to_string(depth) +
                                                   " levels deep; at most " + std::to_string(max_json_depth) +
                                                   " are accepted"};
  }
  // UTF-8 is checked in one fast pass of its own: RapidJSON's validating reader costs several times more per byte.
  if (!is_valid_utf8(event)) {
    return failure{error_types::invalid_event, "the event is not valid JSON: its bytes are not valid UTF-8"};
  }
  // A raw NUL is never valid JSON; refusing it here lets the parse take the NUL-terminated string, the form for
  // which RapidJSON copies strings with SIMD (RAPIDJSON_SSE2).
  if (std::memchr(event.data(), '\0', event.size()) != nullptr) {
    return failure{error_types::invalid_event, "the event is not valid JSON: it contains a NUL byte"};
  }
  // Iterative: no input can exhaust the stack, whatever the parse depth.
  doc.Parse<rapidjson::kParseIterativeFlag>(event.c_str());
  if (doc.HasParseError()) {
    return failure{error_types::invalid_event,
                   "the event is not valid JSON (error at byte " + std::to_string(doc.GetErrorOffset()) + ")"};
  }
  if (is_lambda_edge(doc)) {
    return failure{error_types::unsupported_event,
                   "Lambda@Edge (CloudFront) events cannot be served by a container image function"};
  }

  translation out;
  out.shape.source = detect(doc);
  backend_request& req = out.request;
  builder b(doc, opts, out);
  // Type-checked for HTTP sources only: a custom event may hold anything under these names.
  const value* rc = nullptr;
  std::string_view domain_name;
  if (out.shape.source != event_source::pass_through) {
    rc = b.object_member(doc, "requestContext", "requestContext");
    if (rc != nullptr) domain_name = b.string_member(*rc, "domainName", "requestContext.domainName").value_or("");
  }

  switch (out.shape.source) {
    case event_source::rest:
    case event_source::alb: {
      b.set_method(b.string_member(doc, "httpMethod", "httpMethod"), "httpMethod");
      b.set_path(b.string_member(doc, "path", "path").value_or("/"));
      const value* mvq = b.object_member(doc, "multiValueQueryStringParameters", "multiValueQueryStringParameters");
      const value* q = b.object_member(doc, "queryStringParameters", "queryStringParameters");
      const bool use_multi = mvq != nullptr && mvq->MemberCount() > 0;
      const value* query = use_multi ? mvq : q;
      const std::string_view query_field = use_multi ? "multiValueQueryStringParameters" : "queryStringParameters";
      if (out.shape.source == event_source::alb) {
        out.shape.multi_value = find(doc, "multiValueHeaders") != nullptr || mvq != nullptr;
        b.add_raw_pairs(query, query_field);
      } else {
        b.add_encoded_pairs(query, query_field);
      }
      b.add_v1_headers();
      b.set_body("body", "isBase64Encoded");
      break;
    }
    case event_source::http_api_v2:
    case event_source::function_url: {
      const value* http = b.object_member(*rc, "http", "requestContext.http");
      b.set_method(http != nullptr ? b.string_member(*http, "method", "requestContext.http.method") : std::nullopt,
                   "requestContext.http.method");
      std::string_view path = b.string_member(doc, "rawPath", "rawPath").value_or("/");
      if (opts.strip_stage) {
        const std::string_view stage = b.string_member(*rc, "stage", "requestContext.stage").value_or("");
        if (!stage.empty() && stage != "$default") {
          const std::string prefix = "/" + std::string(stage);
          path = uri::strip_prefix_segment(path, prefix);
        }
      }
      b.set_path(path);
      b.add_raw_query(b.string_member(doc, "rawQueryString", "rawQueryString").value_or(""));
      b.add_headers(b.object_member(doc, "headers", "headers"), "headers");
      if (const value* cookies = find(doc, "cookies")) {
        if (!cookies->IsArray()) {
          b.type_error("cookies", "an array of strings");
        } else {
          // The cookies array is the truth; a cookie header beside it would duplicate them.
          std::erase_if(req.headers, [](const header& h) { return uri::iequals(h.name, "cookie"); });
          std::string joined;
          for (const auto& c : cookies->GetArray()) {
            if (!c.IsString()) {
              b.type_error("cookies", "an array of strings");
              break;
            }
            // Only the entry that may not appear on the wire is dropped (and logged); its neighbours are good cookies.
            if (!uri::is_field_value(view(c))) {
              out.dropped_headers.push_back("cookie");
              continue;
            }
            if (!joined.empty()) joined.append("; ");
            joined.append(view(c));
          }
          if (!joined.empty()) req.headers.push_back({"cookie", std::move(joined)});
        }
      }
      b.set_body("body", "isBase64Encoded");
      break;
    }
    case event_source::lattice_v1:
    case event_source::lattice_v2: {
      const bool v1 = out.shape.source == event_source::lattice_v1;
      b.set_method(b.string_member(doc, "method", "method"), "method");
      std::string_view path = b.string_member(doc, v1 ? "raw_path" : "path", v1 ? "raw_path" : "path").value_or("/");
      // The path may carry the query itself; then it is the raw query, as the client sent it.
      const auto qmark = path.find('?');
      const std::string_view raw_query = qmark == std::string_view::npos ? "" : path.substr(qmark + 1);
      b.set_path(path.substr(0, qmark));
      if (qmark != std::string_view::npos) {
        b.add_raw_query(raw_query);
      } else {
        const char* qname = v1 ? "query_string_parameters" : "queryStringParameters";
        b.add_encoded_pairs(b.object_member(doc, qname, qname), qname);
      }
      b.add_headers(b.object_member(doc, "headers", "headers"), "headers");
      b.set_body("body", v1 ? "is_base64_encoded" : "isBase64Encoded");
      break;
    }
    case event_source::pass_through: {
      req.method = "POST";
      req.target.clear();
      uri::append_path(req.target, opts.pass_through_path);
      req.headers.push_back({"content-type", "application/json"});
      req.body = std::move(event);  // byte for byte; `doc` no longer refers to it (strings were copied)
      rc = nullptr;
      domain_name = {};
      break;
    }
  }
  if (b.error) return std::move(*b.error);
  b.finish_headers(domain_name, rc, ctx);
  return out;
}

}  // namespace lambda_bridge
