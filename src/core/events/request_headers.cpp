// The headers every request gets, whatever its source: the final pass over the event's headers (what may not reach
// the app, the authorization source, one Host), then Content-Length and the context headers the bridge sets from the
// invocation (x-amzn-request-context, x-amzn-lambda-context, x-amzn-trace-id, x-amz-tenant-id).
#include "request_builder.hpp"

#include <charconv>

#include "lambda_bridge/util/json_writer.hpp"
#include "lambda_bridge/util/text.hpp"
#include "lambda_bridge/util/uri.hpp"

namespace lambda_bridge::events {
namespace {

// Set by the bridge from the invocation, overwriting whatever the client sent.
namespace context_header {
constexpr std::string_view request_context = "x-amzn-request-context";
constexpr std::string_view lambda_context = "x-amzn-lambda-context";
constexpr std::string_view trace_id = "x-amzn-trace-id";
constexpr std::string_view tenant_id = "x-amz-tenant-id";
}  // namespace context_header

// The same header to an app behind CGI-style naming: WSGI, PHP and CGI servers turn both '-' and '_' into '_'
// (RFC 3875 4.1.18), so `x_amzn_lambda_context` reaches such an app as HTTP_X_AMZN_LAMBDA_CONTEXT — the name of
// the bridge's own header, sent after it; wsgiref then joins the two, others keep the first. Names the bridge sets
// or frames are therefore matched with '_' counted as '-', or a client could still spoof them.
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

// Appends `v` re-serialised compactly with non-ASCII escaped, so it is always a valid one-line header value.
// Written directly rather than through RapidJSON's Writer with an ASCII target, which transcoded every character
// one by one (6 % of a 1 KB invocation's instructions). Recursive, but only over events whose nesting was bounded
// first (max_json_depth).
void append_compact_json(std::string& out, const json_value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      out.append("null");
      break;
    case rapidjson::kFalseType:
      out.append("false");
      break;
    case rapidjson::kTrueType:
      out.append("true");
      break;
    case rapidjson::kStringType:
      append_json_string_ascii(out, view(v));
      break;
    case rapidjson::kNumberType:
      append_number(out, v);
      break;
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

// Client context and Cognito identity arrive as JSON text in Runtime API headers; they are embedded as objects
// when they parse, else as null (never raw, so they cannot break the header).
void embedded_json(json_writer& w, std::string_view text) {
  if (text.empty()) {
    w.null();
    return;
  }
  rapidjson::Document d;
  if (json_nesting_depth(text) <= max_json_depth)
    d.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (d.HasParseError() || !d.IsObject()) {
    w.null();
    return;
  }
  std::string compact;
  append_compact_json(compact, d);
  w.raw(compact);
}

}  // namespace

void request_builder::finish_headers(const invocation_context& ctx) {
  auto& hs = req_.headers;
  bool has_host = false;
  const bool source_present = !opts_.authorization_source.empty() &&
                              !text::iequals(opts_.authorization_source, "authorization") &&
                              has_header(opts_.authorization_source);
  std::size_t kept = 0;
  for (std::size_t i = 0; i < hs.size(); ++i) {
    auto& h = hs[i];
    if (!uri::is_token(h.name) || !uri::is_field_value(h.value)) {
      out_.dropped_headers.push_back(h.name);
      continue;
    }
    if (is_hop_by_hop(h.name) || is_context_header(h.name)) continue;
    if (source_present && text::iequals(h.name, "authorization")) continue;  // replaced by the configured source
    if (source_present && text::iequals(h.name, opts_.authorization_source)) h.name = "authorization";
    if (text::iequals(h.name, "host")) {
      // One Host only: a second one is a request apps must refuse, and a host-confusion trick.
      if (has_host) continue;
      has_host = true;
    }
    if (text::iequals(h.name, "accept-encoding")) {
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
    hs.push_back(make_header("host", usable ? domain_name : opts_.default_host));
  }
  char length[24];
  hs.push_back(make_header("content-length", {length, std::to_chars(length, length + sizeof length, body_size()).ptr}));

  // The two JSON values are composed in the translator's scratch string, which keeps its capacity from one
  // invocation to the next, and then copied into a header's strings. Grown in place from empty, as before, each took
  // four to eight allocations (counted with the bench's counting bridge, docs/performance.md).
  auto& json = scratch_.json;
  json.clear();
  if (request_context != nullptr)
    append_compact_json(json, *request_context);
  else
    json = "null";
  hs.push_back(make_header(context_header::request_context, json));
  compose_lambda_context(ctx);
  hs.push_back(make_header(context_header::lambda_context, json));
  if (!ctx.trace_id.empty() && uri::is_field_value(ctx.trace_id)) {
    hs.push_back(make_header(context_header::trace_id, ctx.trace_id));
  }
  if (!ctx.tenant_id.empty() && uri::is_field_value(ctx.tenant_id)) {
    hs.push_back(make_header(context_header::tenant_id, ctx.tenant_id));
  }
}

bool request_builder::has_header(std::string_view name) const {
  for (const auto& h : req_.headers) {
    if (text::iequals(h.name, name)) return true;
  }
  return false;
}

// The JSON aws-lambda-web-adapter sends as x-amzn-lambda-context (lambda_runtime's Context), so apps written for
// it read the same fields. json_writer escapes controls but passes UTF-8 through: the value stays on one line.
void request_builder::compose_lambda_context(const invocation_context& ctx) {
  scratch_.json.clear();
  json_writer w(scratch_.json);
  w.begin_object();
  w.key("request_id").string(ctx.request_id);
  w.key("deadline").integer(ctx.deadline_ms.value_or(0));
  w.key("invoked_function_arn").string(ctx.invoked_function_arn);
  w.key("xray_trace_id");
  if (ctx.trace_id.empty())
    w.null();
  else
    w.string(ctx.trace_id);
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
  if (ctx.tenant_id.empty())
    w.null();
  else
    w.string(ctx.tenant_id);
  w.end_object();
}

}  // namespace lambda_bridge::events
