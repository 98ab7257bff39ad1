#include "lambda_bridge/local/emulator.hpp"

#include <rapidjson/document.h>

#include <cstdio>
#include <random>

#include "emulated_extensions.hpp"
#include "lambda_bridge/core/error_document.hpp"
#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/core/gateway_events.hpp"
#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/lambda/protocol.hpp"
#include "lambda_bridge/lambda/runtime_client.hpp"
#include "lambda_bridge/util/base64.hpp"
#include "lambda_bridge/util/json_writer.hpp"
#include "lambda_bridge/util/log.hpp"
#include "lambda_bridge/util/text.hpp"
#include "lambda_bridge/util/uri.hpp"

namespace lambda_bridge {
namespace {


std::string random_hex(std::size_t digits) {
  static std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < digits; ++i) out.push_back(hex[rng() & 15]);
  return out;
}

std::string uuid4() {
  std::string h = random_hex(32);
  h[12] = '4';
  h[16] = "89ab"[h[16] % 4];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

std::string trace_id() {
  char epoch[9];
  std::snprintf(epoch, sizeof epoch, "%08llx",
                static_cast<unsigned long long>(std::chrono::duration_cast<std::chrono::seconds>(
                                                    std::chrono::system_clock::now().time_since_epoch())
                                                    .count()));
  return "Root=1-" + std::string(epoch) + "-" + random_hex(24) + ";Parent=" + random_hex(16) + ";Sampled=0";
}

std::int64_t epoch_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string_view target_path(const http_request& req) {
  std::string_view t(req.target().data(), req.target().size());
  return t.substr(0, t.find('?'));
}

std::string invoke_path_of(bool streaming, std::string_view function) {
  std::string path(streaming ? api_path::streaming_invoke_prefix : api_path::invoke_prefix);
  path.append(function).append(streaming ? api_path::streaming_invoke_suffix : api_path::invoke_suffix);
  return path;
}

http_response json_response(http::status status, std::string body) {
  return make_response(status, "application/json", std::move(body));
}

}  // namespace

std::string invoke_error_json(std::string_view type, std::string_view message) {
  std::string out;
  append_error_json(out, type, message, stack_trace::omitted);
  return out;
}

std::string emulated_function_name(const config& cfg) {
  return cfg.function.function_name.empty() ? "function" : cfg.function.function_name;
}

std::string emulated_function_arn(std::string_view name) {
  return "arn:aws:lambda:us-east-1:012345678912:function:" + std::string(name);
}

std::optional<invoke_path> parse_invoke_path(std::string_view path) {
  for (const bool streaming : {false, true}) {
    const std::string_view prefix = streaming ? api_path::streaming_invoke_prefix : api_path::invoke_prefix;
    const std::string_view suffix = streaming ? api_path::streaming_invoke_suffix : api_path::invoke_suffix;
    if (path.size() > prefix.size() + suffix.size() && path.starts_with(prefix) && path.ends_with(suffix)) {
      const std::string_view function = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
      if (function.find('/') == std::string_view::npos) return invoke_path{streaming, function};
    }
  }
  return std::nullopt;
}

std::string function_name_of(std::string_view requested) {
  const std::string decoded = percent_decode(requested);
  std::vector<std::string_view> parts;
  for (std::string_view rest = decoded;;) {
    const auto colon = rest.find(':');
    parts.push_back(rest.substr(0, colon));
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
  }
  std::size_t name = 0;  // name or name:qualifier
  if (parts.size() >= 7 && parts[0] == "arn" && parts[5] == "function") {
    name = 6;  // arn:partition:lambda:region:account:function:name[:qualifier]
  } else if (parts.size() >= 3 && parts[1] == "function") {
    name = 2;  // account:function:name[:qualifier]
  }
  if (parts.size() > name + 2 || parts[name].empty()) return {};
  return std::string(parts[name]);
}

struct emulator::pending {
  explicit pending(asio::io_context& io) : done_event(io) { done_event.expires_at(steady_time::max()); }
  std::string request_id = uuid4();
  invoke_request request;
  bool dispatched = false;
  bool done = false;
  steady_time deadline = steady_time::max();
  std::chrono::milliseconds timeout{0};
  invoke_result result;
  asio::steady_timer done_event;  // re-armed at dispatch (the deadline), cancelled on completion
};

emulator::emulator(asio::io_context& io, const config& cfg)
    : io_(io),
      cfg_(cfg),
      work_available_(io),
      extensions_(std::make_unique<emulated_extensions>(
          io, [] { return uuid4(); }, emulated_function_name(cfg))) {
  work_available_.expires_at(steady_time::max());
}

emulator::~emulator() = default;

void emulator::start() {
  const tcp::endpoint invoke_ep(asio::ip::make_address(cfg_.emulator.host), cfg_.emulator.port);
  invoke_server_ = std::make_unique<http_server>(
      io_, invoke_ep, max_invoke_request_bytes,
      [this](http_request& r, http_connection& c) { return handle_invoke(r, c); }, "emulator's invoke API",
      env::emulator_port);
  // Results may exceed Lambda's limit: they must arrive whole to be refused with the right error.
  runtime_server_ = std::make_unique<http_server>(
      io_, tcp::endpoint(asio::ip::address_v4::loopback(), cfg_.runtime_api_port), 64 * 1024 * 1024,
      [this](http_request& r, http_connection& c) { return handle_runtime(r, c); }, "emulated Runtime API",
      env::runtime_api_port,
      [](const http::request_header<>& h) {
        // A streamed response is taken piece by piece, to be relayed live and never held whole.
        const auto mode = h.find(runtime_header::response_mode);
        return h.method() == http::verb::post && mode != h.end() && text::iequals(mode->value(), "streaming");
      });
  invoke_server_->start();
  runtime_server_->start();
  const auto ep = invoke_server_->local_endpoint();
  log::info("", "emulator: invoke API listening on {}", to_string(ep));
}

tcp::endpoint emulator::runtime_endpoint() const { return runtime_server_->local_endpoint(); }
tcp::endpoint emulator::invoke_endpoint() const { return invoke_server_->local_endpoint(); }

awaitable<invoke_result> emulator::invoke(invoke_request req) {
  if (init_failure_) co_return *init_failure_;
  if (req.event.size() > max_invoke_request_bytes) {
    // The gateway's events can outgrow the request that made them (base64): Lambda refuses them the same way.
    co_return invoke_result{413, false, "application/json",
                            invoke_error_json("RequestEntityTooLargeException",
                                              "the event is " + std::to_string(req.event.size()) +
                                                  " bytes, over Lambda's limit of " +
                                                  std::to_string(max_invoke_request_bytes) + " bytes")};
  }
  if (shutting_down_) {
    co_return invoke_result{502, true, "application/json",
                            invoke_error_json(error_types::exit_error, "the function is shutting down")};
  }
  auto p = std::make_shared<pending>(io_);
  p->request = std::move(req);
  p->timeout = cfg_.function_timeout;
  queue_.push_back(p);
  work_available_.cancel();
  std::optional<task_count::guard> reply_pending(replies_);
  for (;;) {
    boost::system::error_code ec;
    co_await p->done_event.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (p->done) break;
    // Woken without completion: either the deadline was armed at dispatch (operation_aborted) or it passed.
    if (!ec && p->dispatched && std::chrono::steady_clock::now() >= p->deadline) {
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%.2f", std::chrono::duration<double>(p->timeout).count());
      complete(*p, invoke_result{200, true, "application/json",
                                 invoke_error_json("Sandbox.Timedout", std::string("Task timed out after ") + seconds +
                                                                           " seconds")});
      log::warn(p->request_id, "emulator: the invocation timed out after {} seconds", seconds);
      break;
    }
  }
  reply_pending.reset();
  p->result.request_id = p->request_id;
  co_return std::move(p->result);
}

void emulator::complete(pending& p, invoke_result r) {
  if (p.done) return;
  p.done = true;
  p.result = std::move(r);
  p.done_event.cancel();
}

void emulator::fail_all(const invoke_result& r) {
  for (auto& p : queue_) complete(*p, r);
  queue_.clear();
  for (auto& [id, p] : dispatched_) complete(*p, r);
}

awaitable<std::optional<http_response>> emulator::handle_invoke(http_request& req, http_connection& conn) {
  const std::string name = emulated_function_name(cfg_);
  const auto path = parse_invoke_path(target_path(req));
  if (req.method() != http::verb::post || !path) {
    co_return json_response(
        http::status::not_found,
        invoke_error_json("ResourceNotFoundException", "the emulator serves POST " + invoke_path_of(false, name) +
                                                           " and " + invoke_path_of(true, name)));
  }
  // "function" always works (AWS's emulator and every local guide use it), and so does the configured name, which
  // the AWS CLI and SDKs put in the path.
  const std::string requested = function_name_of(path->function);
  if (requested != "function" && requested != name) {
    const std::string arn = emulated_function_arn(requested.empty() ? percent_decode(path->function) : requested);
    const std::string message = "Function not found: " + arn + " (this emulator runs one function, '" + name +
                                "': POST " + invoke_path_of(path->streaming, name) + ")";
    http_response res =
        json_response(http::status::not_found, invoke_error_json("ResourceNotFoundException", message));
    res.set("X-Amzn-ErrorType", "ResourceNotFoundException");  // where the AWS CLI and SDKs read the error's type
    co_return res;
  }
  const bool event_stream = path->streaming;
  invoke_request ir;
  ir.event = std::move(req.body());
  if (ir.event.empty()) ir.event = "{}";  // the Invoke API's default payload
  if (const auto cc = req.find("X-Amz-Client-Context"); cc != req.end()) {
    // Decoded bytes go into a header of the emulated Runtime API: only a JSON object on one line may pass.
    rapidjson::Document cc_doc;
    const bool decoded = base64::append_decoded(ir.client_context, std::string_view(cc->value().data(), cc->value().size()));
    if (decoded) cc_doc.Parse<rapidjson::kParseIterativeFlag>(ir.client_context.data(), ir.client_context.size());
    if (!decoded || cc_doc.HasParseError() || !cc_doc.IsObject() || !uri::is_field_value(ir.client_context)) {
      co_return json_response(http::status::bad_request,
                              invoke_error_json("InvalidRequestContentException",
                                                "X-Amz-Client-Context must be the base64 of a JSON object"));
    }
  }
  if (const auto t = req.find("X-Amz-Tenant-Id"); t != req.end()) ir.tenant_id = std::string(t->value());
  invoke_result r = co_await invoke(std::move(ir));
  if (event_stream && r.status == 200) {
    // InvokeWithResponseStream: the result, streamed or not, as PayloadChunk events then InvokeComplete.
    co_await relay_event_stream(r.stream.get(), r.function_error, r.body, conn);
    co_return std::nullopt;
  }
  if (r.stream) {
    co_await relay_http_stream(*r.stream, conn, r.request_id, true);
    co_return std::nullopt;
  }
  http_response res = make_response(static_cast<http::status>(r.status), r.content_type, r.body);
  if (r.function_error) res.set("X-Amz-Function-Error", "Unhandled");
  res.set("X-Amz-Executed-Version", "$LATEST");
  co_return res;
}

awaitable<http_response> emulator::next_invocation() {
  for (;;) {
    if (shutting_down_) {
      co_return json_response(http::status::internal_server_error,
                              invoke_error_json("Runtime.ShuttingDown", "the emulator is shutting down"));
    }
    if (!queue_.empty()) break;
    boost::system::error_code ec;
    ++parked_next_;
    co_await work_available_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    --parked_next_;
    work_available_.expires_at(steady_time::max());
  }
  auto p = queue_.front();
  queue_.pop_front();
  p->dispatched = true;
  const auto deadline_ms = epoch_ms() + p->timeout.count();
  p->deadline = std::chrono::steady_clock::now() + p->timeout;
  p->done_event.expires_at(p->deadline);  // wakes the invoker, which then waits for the deadline
  dispatched_[p->request_id] = p;

  http_response res = make_response(http::status::ok, "application/json", p->request.event);
  res.set(runtime_header::request_id, p->request_id);
  res.set(runtime_header::deadline_ms, std::to_string(deadline_ms));
  const std::string arn = emulated_function_arn(emulated_function_name(cfg_));
  const std::string trace = trace_id();
  res.set(runtime_header::function_arn, arn);
  res.set(runtime_header::trace_id, trace);
  extensions_->invoke_dispatched(deadline_ms, p->request_id, arn, trace);
  if (!p->request.client_context.empty()) res.set(runtime_header::client_context, p->request.client_context);
  if (!p->request.tenant_id.empty()) res.set(runtime_header::tenant_id, p->request.tenant_id);
  co_return res;
}

awaitable<std::optional<http_response>> emulator::handle_runtime(http_request& req, http_connection& conn) {
  const std::string_view path = target_path(req);
  if (path.starts_with(api_path::extension)) co_return co_await extensions_->handle(req, path.substr(api_path::extension.size()));
  if (!path.starts_with(api_path::runtime)) {
    co_return json_response(http::status::not_found, invoke_error_json("NotFound", "unknown path"));
  }
  const std::string_view what = path.substr(api_path::runtime.size());
  if (what == "invocation/next" && req.method() == http::verb::get) co_return co_await next_invocation();
  if (what == "init/error") {
    // The bridge logs its own init failure; a runtime of another process (emulator-only mode) has only this line.
    const auto doc = parse_error_json(req.body()).value_or(error_document{});
    if (cfg_.emulator_only) log::error("", "emulator: init failed: {}: {}", doc.type, doc.message);
    init_failure_ = invoke_result{502, true, "application/json", req.body()};
    fail_all(*init_failure_);
    co_return json_response(http::status::accepted, R"({"status":"OK"})");
  }
  // invocation/{id}/response or invocation/{id}/error
  constexpr std::string_view inv = "invocation/";
  if (!what.starts_with(inv) || req.method() != http::verb::post) {
    co_return json_response(http::status::not_found, invoke_error_json("NotFound", "unknown path"));
  }
  const std::string_view rest = what.substr(inv.size());
  const auto slash = rest.find('/');
  const std::string_view id = rest.substr(0, slash);
  const std::string_view kind = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  const auto it = dispatched_.find(id);
  if (it == dispatched_.end()) {
    co_return json_response(http::status::bad_request, invoke_error_json("InvalidRequestID", "unknown request id"));
  }
  auto p = it->second;
  if (p->done) {
    dispatched_.erase(it);
    co_return json_response(http::status::gone, invoke_error_json("InvocationGone", "the invocation already ended"));
  }
  if (kind == "response" && text::iequals(req[runtime_header::response_mode], "streaming")) {
    dispatched_.erase(it);
    co_return co_await receive_stream(std::move(p), req, conn);
  }
  if (kind == "response") {
    if (req.body().size() > max_buffered_result_bytes) {
      complete(*p, invoke_result{200, true, "application/json",
                                 invoke_error_json("Function.ResponseSizeTooLarge",
                                                   "Response payload size (" + std::to_string(req.body().size()) +
                                                       " bytes) exceeded maximum allowed payload size (" +
                                                       std::to_string(max_buffered_result_bytes) + " bytes).")});
      co_return json_response(http::status::payload_too_large,
                              invoke_error_json("RequestEntityTooLarge", "the result is over the 6 MB limit"));
    }
    const auto ct = req.find(http::field::content_type);
    complete(*p, invoke_result{200, false, ct != req.end() ? std::string(ct->value()) : "application/json",
                               std::move(req.body())});
  } else if (kind == "error") {
    const error_document doc = parse_error_json(req.body()).value_or(error_document{});
    if (doc.type == error_types::app_exited) {
      // A 502, as the real Invoke API answers when the runtime exits mid-invocation; the type is the bridge's, the
      // one its log and docs name.
      complete(*p, invoke_result{502, true, "application/json", invoke_error_json(doc.type, doc.message)});
    } else {
      complete(*p, invoke_result{200, true, "application/json", std::move(req.body())});
    }
  } else {
    co_return json_response(http::status::not_found, invoke_error_json("NotFound", "unknown path"));
  }
  dispatched_.erase(it);
  co_return json_response(http::status::accepted, R"({"status":"OK"})");
}

awaitable<std::optional<http_response>> emulator::receive_stream(std::shared_ptr<pending> p, http_request& req,
                                                                  http_connection& conn) {
  auto pipe = std::make_shared<stream_pipe>(io_.get_executor());
  const auto ct = req.find(http::field::content_type);
  pipe->content_type = ct != req.end() ? std::string(ct->value()) : "application/octet-stream";
  invoke_result started;
  started.content_type = pipe->content_type;
  started.stream = pipe;
  complete(*p, std::move(started));  // the invoker starts relaying now

  std::string buffer(64 * 1024, '\0');
  std::size_t total = 0;
  bool relaying = true;
  for (;;) {
    auto got = co_await conn.read_some(buffer.data(), buffer.size());
    if (!got) {
      log::error(p->request_id, "emulator: the streamed response broke off: {}", got.error().message);
      pipe->finish(std::string(error_types::stream_error), got.error().message);
      co_return std::nullopt;  // the connection is unusable
    }
    if (*got == 0) break;
    total += *got;
    if (relaying && total > max_streamed_body_bytes) {
      // Lambda's limit: the caller's stream ends in an error; the rest is read and dropped.
      const std::string why = "the streamed response exceeded " + std::to_string(max_streamed_body_bytes) + " bytes";
      log::error(p->request_id, "emulator: {}", why);
      pipe->finish("Function.ResponseSizeTooLarge", why);
      relaying = false;
    }
    if (relaying) relaying = co_await pipe->push(std::string_view(buffer.data(), *got));
  }
  const auto& trailers = conn.trailers();
  const auto type = trailers.find(runtime_header::function_error_type);
  if (type != trailers.end()) {
    const auto body = trailers.find(runtime_header::function_error_body);
    std::string decoded;
    if (body != trailers.end() && !base64::append_decoded(decoded, std::string_view(body->value().data(), body->value().size()))) {
      decoded = std::string(body->value());
    }
    pipe->finish(std::string(type->value()), std::move(decoded));
  } else {
    pipe->finish();
  }
  log::debug(p->request_id, "emulator: streamed response of {} bytes ended", total);
  co_return json_response(http::status::accepted, R"({"status":"OK"})");
}

awaitable<void> emulator::shut_down(std::string_view error_type, std::string_view message) {
  shutting_down_ = true;
  if (invoke_server_) invoke_server_->close();
  asio::steady_timer t(io_);
  if (extensions_->deliver_shutdown("spindown", epoch_ms() + extension_shutdown_time.count()) > 0) {
    // An extension that runs the invocation loop (lambda-bridge in extension mode) finishes what it has in flight
    // and leaves; until then its /next stays parked, never failed, or it would take that for a Runtime API error.
    // Done when every connection left is a parked poll, whose owner may be gone.
    log::info("", "emulator: SHUTDOWN sent to the extensions; waiting up to {} ms for them",
              extension_shutdown_time.count());
    const auto end = std::chrono::steady_clock::now() + extension_shutdown_time;
    while (std::chrono::steady_clock::now() < end &&
           runtime_server_->open_connections() > parked_next_ + extensions_->parked()) {
      t.expires_after(std::chrono::milliseconds(5));
      co_await t.async_wait(asio::use_awaitable);
    }
  }
  fail_all(invoke_result{502, true, "application/json", invoke_error_json(error_type, message)});
  work_available_.cancel();
  // Let the replies just completed reach their callers before the process ends.
  co_await replies_.wait_all_until(std::chrono::steady_clock::now() + std::chrono::seconds(1));
  t.expires_after(std::chrono::milliseconds(20));  // the write itself, after the handler returned
  co_await t.async_wait(asio::use_awaitable);
}

}  // namespace lambda_bridge
