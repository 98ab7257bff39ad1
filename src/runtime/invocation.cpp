#include "lambda_bridge/runtime/invocation.hpp"

#include <array>
#include <limits>
#include <variant>

#include "lambda_bridge/core/error_types.hpp"
#include "lambda_bridge/core/response.hpp"
#include "lambda_bridge/util/base64.hpp"
#include "lambda_bridge/util/log.hpp"

namespace lambda_bridge {
namespace {

// Without a deadline header (never on Lambda, possible with hand-made Runtime APIs) the request is bounded by
// Lambda's maximum function timeout.
constexpr auto missing_deadline_budget = std::chrono::minutes(15);
// The most of a compressible reply read before giving up even if its encoding still fits: 64 times Lambda's limit,
// past any ratio real content reaches; memory is bounded by read_compressed, not by this.
constexpr std::size_t max_compressed_input_bytes = 64 * max_buffered_result_bytes;

}  // namespace

steady_time invocation::backend_deadline(const invocation_context& ctx, std::chrono::milliseconds reserve,
                                         std::chrono::system_clock::time_point now_system, steady_time now_steady) {
  if (!ctx.deadline_ms) return now_steady + missing_deadline_budget;
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now_system.time_since_epoch()).count();
  // Clamped: a deadline centuries away (a hand-made Runtime API) would overflow the clock's nanoseconds.
  auto remaining = std::chrono::milliseconds(std::min<std::int64_t>(
      *ctx.deadline_ms - now_ms,
      std::chrono::duration_cast<std::chrono::milliseconds>(missing_deadline_budget).count()));
  // Keep the reserve only while it leaves the app some time; a deadline already past still gets a try of 1 ms.
  if (remaining > reserve * 2) remaining -= reserve;
  if (remaining < std::chrono::milliseconds(1)) remaining = std::chrono::milliseconds(1);
  return now_steady + remaining;
}

translate_options make_translate_options(const config& cfg, const std::string& default_host) {
  translate_options o;
  o.pass_through_path = cfg.pass_through_path;
  o.remove_base_path = cfg.remove_base_path;
  o.strip_stage = cfg.strip_stage;
  o.authorization_source = cfg.authorization_source;
  o.default_host = default_host;
  o.function = &cfg.function;
  return o;
}

invocation::invocation(next_event& event, const config& cfg, backend_pool& pool, shutdown_signal& stop,
                       readiness_check* readiness)
    : event_(event), cfg_(cfg), pool_(pool), stop_(stop), readiness_(readiness) {}

awaitable<void> invocation::post_failure(runtime_client& runtime, const failure& f) {
  error_type_ = f.type;
  log::error(event_.ctx.request_id, "invocation failed: {}: {}", f.type, f.message);
  const auto outcome = co_await runtime.post_error(event_.ctx, f.type, f.message);
  if (outcome == post_outcome::gone) {
    log::warn(event_.ctx.request_id, "the invocation had already timed out when its error was posted (410)");
  }
}

awaitable<maybe_failure> invocation::settle(const failure& f) {
  // An app that crashes closes its connections a moment before the bridge reaps it: when the failure could be
  // that, wait briefly for the exit so the invocation reports the cause, not the symptom.
  const bool may_be_exit = f.type == error_types::backend_invalid_response || f.type == error_types::backend_unreachable;
  if (!may_be_exit || !pool_.app_supervised()) co_return f;
  // The app's exit aborts the pool and stops the bridge: the stop is the event awaited.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  const bool stopped = co_await stop_.wait_until(until);
  if (stopped && !pool_.aborted()) {
    // A stop under way for another reason (a signal) leaves nothing to wake this: the exit may still follow.
    asio::steady_timer t(co_await asio::this_coro::executor, until);
    boost::system::error_code ec;
    co_await t.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  if (pool_.aborted()) co_return *pool_.aborted();
  co_return f;
}

namespace {

// The reply as far as its head: the buffered path then reads the body into it, the streamed one relays it.
backend_reply reply_from(reply_head& head) {
  backend_reply reply;
  reply.status = head.status;
  reply.reason = std::move(head.reason);
  reply.headers = std::move(head.headers);
  return reply;
}

}  // namespace

awaitable<maybe_failure> invocation::wait_until_ready(steady_time deadline) {
  // One co_return at the end: g++ 12 miscompiles this coroutine with an early co_return before any suspension.
  maybe_failure outcome;
  // Async init: the first invocations finish the readiness wait, within their own deadline.
  log::info(event_.ctx.request_id, "waiting for the app to become ready before forwarding");
  const bool ready = co_await readiness_->wait_ready(deadline);
  if (!ready && readiness_->failed()) {
    outcome = *readiness_->failed();
  } else if (!ready) {
    outcome = failure{error_types::backend_not_ready, "the app was still not ready at the invocation deadline"};
  }
  co_return outcome;
}

steady_time invocation::deadline() const {
  return backend_deadline(event_.ctx, cfg_.deadline_reserve, std::chrono::system_clock::now(),
                          std::chrono::steady_clock::now());
}

awaitable<maybe_failure> invocation::exchange(translation& t, const worker_resources& res) {
  const auto until = deadline();
  maybe_failure not_ready;
  if (!app_ready()) not_ready = co_await wait_until_ready(until);
  if (not_ready) co_return not_ready;
  // With compression a reply larger than Lambda's limit may still fit once encoded: it is read to the parser's limit
  // only when it is being compressed, as it arrives (read_compressed); any other reply stops at Lambda's limit.
  const std::size_t max_reply = cfg_.compression ? max_compressed_input_bytes : max_buffered_result_bytes;
  backend_exchange ex(pool_, until, max_reply);
  auto head = co_await ex.send(t.request, std::move(res.reply_headers));
  if (!head) {
    const maybe_failure settled = co_await settle(head.error());
    co_return settled;
  }

  status_ = head->status;
  backend_reply reply = reply_from(*head);
  // The header list goes back to the worker however the exchange ends, for the next reply to fill; bounded, so one
  // reply with a thousand headers or a 60 KB cookie is not kept for good.
  struct give_back_headers {
    std::vector<header>& from;
    std::vector<header>& to;
    ~give_back_headers() {
      // At most 16 KB of strings: memory the buffer budget does not count, kept by each worker.
      constexpr std::size_t max_headers = 64, max_bytes = 16 * 1024;
      if (from.size() > max_headers) return;
      std::size_t bytes = 0;
      for (const auto& h : from) bytes += h.name.capacity() + h.value.capacity();
      if (bytes <= max_bytes) to = std::move(from);
    }
  } keep_headers{reply.headers, res.reply_headers};
  // Compressed already, if at all.
  const response_options opts{cfg_.error_status_codes ? &*cfg_.error_status_codes : nullptr,
                              max_buffered_result_bytes, false};
  const content_coding coding = cfg_.compression ? reply_coding(t.shape, reply.headers) : content_coding::identity;
  if (coding == content_coding::identity && begin_result(t.shape, reply, res.result_buffer, opts)) {
    const maybe_failure direct = co_await read_into_result(ex, reply, res.result_buffer, opts);
    co_return direct;
  }
  reply.body = std::move(res.reply_buffer);
  reply.body.clear();
  // Handed back however the exchange ends; the capacity is what is reused. Up to what a buffered result can carry:
  // a larger body (a compressible reply may reach 64 times that) is freed rather than pinned for the process's life.
  struct give_back {
    std::string& from;
    std::string& to;
    ~give_back() {
      if (from.capacity() <= 2 * max_buffered_result_bytes) to = std::move(from);
    }
  } keep{reply.body, res.reply_buffer};
  // One co_await per statement: g++ 12 destroys temporaries of a conditional co_await expression twice.
  maybe_failure read;
  if (coding == content_coding::identity) {
    read = co_await ex.read_body(reply.body, max_buffered_result_bytes);
  } else {
    read = co_await read_compressed(ex, reply, coding);
  }
  if (read) {
    const maybe_failure settled = co_await settle(*read);
    co_return settled;
  }
  log::debug(event_.ctx.request_id, "app answered {} with {} body bytes", reply.status, reply.body.size());
  const maybe_failure converted = convert_reply(t.shape, reply, res.result_buffer, opts);
  co_return converted;
}

awaitable<maybe_failure> invocation::read_into_result(backend_exchange& ex, const backend_reply& head,
                                                      std::string& result, const response_options& opts) {
  // The body goes from the socket straight to its place in the result, and is converted there: no body string, no
  // copy. Room is made up front for its base64 form (the larger), so that the conversion never moves it.
  const std::size_t body_start = result.size();
  if (const auto declared = ex.declared_length()) {
    const auto body = static_cast<std::size_t>(std::min<std::uint64_t>(*declared, max_buffered_result_bytes));
    result.reserve(body_start + base64::encoded_size(body) + 64);
  }
  const maybe_failure read = co_await ex.read_body(result, max_buffered_result_bytes);
  if (read) {
    result.clear();
    const maybe_failure settled = co_await settle(*read);
    co_return settled;
  }
  log::debug(event_.ctx.request_id, "app answered {} with {} body bytes", head.status, result.size() - body_start);
  co_return finish_result(head, result, body_start, opts);
}

awaitable<maybe_failure> invocation::read_compressed(backend_exchange& ex, backend_reply& reply,
                                                     content_coding coding) {
  // The reply is kept as it is only while it could still be sent that way, and its encoding may not grow past what
  // fits a result once base64-encoded: memory stays near twice Lambda's limit (plus the encoder's window) whatever
  // the app sends (issue 11: a 300 MB reply was held whole before it was compressed).
  constexpr std::size_t max_encoded = max_buffered_result_bytes / 4 * 3;
  compressor encoder(coding);
  std::string encoded;
  std::string piece(64 * 1024, '\0');
  std::string& original = reply.body;
  bool original_kept = true;
  std::size_t total = 0;
  for (bool last = false; !last;) {
    auto got = co_await ex.read_some(piece.data(), piece.size());
    if (!got) co_return got.error();
    last = *got == 0;
    const std::string_view in(piece.data(), *got);
    total += in.size();
    if (original_kept && original.size() + in.size() > max_buffered_result_bytes) {
      original_kept = false;
      original.clear();
    }
    if (original_kept) original.append(in);
    if (!encoder.feed(in, encoded, last)) {
      co_return failure{error_types::internal_error, "the " + std::string(to_string(coding)) +
                                                         " encoder failed on the app's reply"};
    }
    if (encoded.size() > max_encoded) {
      co_return failure{error_types::response_too_large,
                        "the app's reply, compressed with " + std::string(to_string(coding)) + ", passed " +
                            std::to_string(max_encoded) + " bytes (Lambda's limit of " +
                            std::to_string(max_buffered_result_bytes) + " once base64-encoded) after " +
                            std::to_string(total) + " bytes of the reply"};
    }
  }
  if (!original_kept || worth_compressing(original.size(), encoded.size())) use_compressed(reply, coding, encoded);
  co_return std::nullopt;
}

awaitable<invocation::outcome> invocation::stream(translation& t, runtime_client& runtime, std::string& buffer,
                                                     splice_pipe* pipe) {
  const auto& rid = event_.ctx.request_id;
  const auto until = deadline();
  maybe_failure not_ready;
  if (!app_ready()) not_ready = co_await wait_until_ready(until);
  if (not_ready) co_return *not_ready;
  // Lambda's own limit is enforced below, with a message about streaming rather than the parser's.
  backend_exchange ex(pool_, until, std::numeric_limits<std::size_t>::max());
  auto head = co_await ex.send(t.request);
  if (!head) {
    const maybe_failure settled = co_await settle(head.error());
    co_return *settled;
  }
  status_ = head->status;
  backend_reply reply = reply_from(*head);

  if (cfg_.error_status_codes && cfg_.error_status_codes->contains(reply.status)) {
    // The invocation fails as in buffered mode, with the start of the body in the message; nothing is streamed.
    buffer.resize(64 * 1024);
    auto got = co_await ex.read_some(buffer.data(), buffer.size());
    if (got) reply.body.assign(buffer.data(), *got);
    const response_options opts{&*cfg_.error_status_codes};
    const maybe_failure err = convert_reply(t.shape, reply, buffer, opts);
    co_return *err;
  }

  buffer.clear();
  if (auto err = append_stream_prelude(t.shape, reply, buffer)) co_return *err;
  runtime.begin_stream(event_.ctx);
  bool sent = co_await runtime.write_stream(buffer);

  // Each piece goes on as soon as it arrives; the next is read only once it is written, so memory stays at one
  // buffer whatever the size and a slow reader slows the app instead of filling the bridge.
  // Big pieces: each is one read from the app and one chunk to the Runtime API, so the calls per byte fall with
  // their size (a read returns at once with whatever has arrived, so a slow app is not waited for). 512 KB rather
  // than 256: the bridge's CPU per 100 MB stream fell from 61-67 to 48-53 ms (four quiet runs), for 0.3 MB more
  // peak memory; 1 MB saved little more (44-51 ms) for another 0.5 MB (docs/performance.md).
  // A body framed by Content-Length (a file, a download), once the connection's buffer holds none of it, goes
  // through `pipe` instead: the pieces never enter the bridge's memory (util/splice_pipe.hpp). A chunked body is
  // decoded by the parser, so it is read.
  buffer.resize(stream_piece_bytes);
  if (pipe != nullptr && !pipe->ready()) pipe = nullptr;
  std::size_t total = 0;
  bool spliced = false;  // some of the body went through the pipe (for the log)
  std::optional<failure> broken;
  while (sent) {
    const bool splice = pipe != nullptr && ex.direct_body();
    result<std::size_t> got = std::size_t{0};
    if (splice) {
      got = co_await ex.splice_some(*pipe, stream_piece_bytes);
      if (!pipe->valid()) {  // refused by the kernel before anything moved: this piece and the rest are read
        pipe = nullptr;
        continue;
      }
    } else {
      got = co_await ex.read_some(buffer.data(), buffer.size());
    }
    if (!got) {
      const maybe_failure settled = co_await settle(got.error());
      broken = *settled;
      break;
    }
    if (*got == 0) break;
    spliced = spliced || splice;
    total += *got;
    if (total > max_streamed_body_bytes) {
      broken = failure{error_types::response_too_large, "the app's streamed body is over Lambda's limit of " +
                                                            std::to_string(max_streamed_body_bytes) + " bytes"};
      break;
    }
    if (splice) {
      sent = co_await runtime.write_stream(*pipe);
    } else {
      sent = co_await runtime.write_stream(std::string_view(buffer.data(), *got));
    }
  }
  if (pipe != nullptr && pipe->held() > 0) pipe->discard();  // a piece over the limit, never sent
  buffer.clear();
  bytes_out_ = total;
  if (!sent) co_return stream_ended{};  // the Runtime API connection broke; logged by the client
  if (broken) {
    error_type_ = broken->type;
    log::error(rid, "the stream failed after {} body bytes: {}: {}", total, broken->type, broken->message);
  } else {
    log::debug(rid, "app answered {}; streamed {} body bytes{}", reply.status, total,
               spliced ? " (spliced: from the app's socket to the Runtime API's, not copied)" : "");
  }
  const post_outcome outcome = co_await runtime.end_stream(broken ? &*broken : nullptr);
  if (outcome == post_outcome::gone) {
    log::warn(rid, "the invocation had already timed out when its stream ended (410)");
  } else if (outcome == post_outcome::too_large) {
    log::error(rid, "the Runtime API refused the {}-byte stream as too large (413)", total);
  }
  co_return stream_ended{};
}

awaitable<invocation::outcome> invocation::handle(runtime_client& runtime, const worker_resources& res) {
  const auto& rid = event_.ctx.request_id;
  // One co_return at the end: g++ 12 miscompiles a coroutine with an early co_return before any suspension.
  outcome o = result_ready{};
  if (event_.problem) {
    o = *event_.problem;
  } else {
    log::debug(rid, "event: {}", event_.body);
    auto t = res.translate.translate(std::move(event_.body), event_.ctx, res.options, &event_.scan);
    if (!t) {
      o = t.error();
    } else {
      translated_ = std::move(*t);
      for (const auto& name : translated_->dropped_headers) {
        log::warn(rid,
                  "dropped header '{}': its name or value may not appear on the wire (CR, LF, NUL or not a token)",
                  name);
      }
      // One co_await per statement: g++ 12 destroys temporaries of a conditional co_await expression twice.
      if (cfg_.response_stream && can_stream(translated_->shape)) {
        const outcome streamed = co_await stream(*translated_, runtime, res.result_buffer, res.stream_pipe);
        o = streamed;
      } else {
        const maybe_failure err = co_await exchange(*translated_, res);
        if (err) o = *err;
      }
    }
  }
  co_return o;
}

awaitable<void> invocation::post(runtime_client& runtime, const outcome& o, std::string_view result) {
  const auto& rid = event_.ctx.request_id;
  // What the app wrote while serving this invocation is in the pipes by now (its reply came after): read before
  // the invocation ends, it still gets this id, not none or the next invocation's.
  if (app_log_ != nullptr) app_log_->drain();
  if (const auto* f = std::get_if<failure>(&o)) {
    co_await post_failure(runtime, *f);
  } else if (std::holds_alternative<result_ready>(o)) {
    // Outcomes and failures are named before they are awaited: g++ 12 destroys some temporaries of a co_await
    // full-expression twice.
    bytes_out_ = result.size();
    const post_outcome posted = co_await runtime.post_response(event_.ctx, result);
    switch (posted) {
      case post_outcome::accepted:
        break;
      case post_outcome::too_large: {
        const failure too_large{error_types::response_too_large, "the Runtime API refused the " +
                                                                     std::to_string(result.size()) +
                                                                     "-byte result as too large (413)"};
        bytes_out_ = 0;
        co_await post_failure(runtime, too_large);
        break;
      }
      case post_outcome::gone:
        log::warn(rid, "the invocation had already timed out when its result was posted (410)");
        break;
      case post_outcome::refused:
        break;  // logged by the client
    }
  }
  // A stream has ended already, its error trailers included.
  log_access();
}

void invocation::log_access() {
  if (access_logged_ || !spdlog::should_log(spdlog::level::info)) return;
  access_logged_ = true;
  const auto us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - started_);
  const std::size_t bytes_in = translated_ ? translated_->request.payload().size() : 0;
  // A non-HTTP event has no method or path of its own (it is POSTed to AWS_LWA_PASS_THROUGH_PATH); an event that
  // could not be read has no source either.
  const bool http = translated_ && translated_->shape.source != event_source::pass_through;
  std::string_view method, path, source;
  if (translated_) source = to_string(translated_->shape.source);
  if (http) {
    method = translated_->request.method;
    // Without the query, which may carry secrets: it is logged at DEBUG only, in the event.
    path = translated_->request.target;
    path = path.substr(0, path.find('?'));
  }

  // Appended piece by piece: fmt would parse a format string for each, which costs more than the pieces.
  fmt::memory_buffer message;
  const auto add = [&](std::string_view s) { message.append(s.data(), s.data() + s.size()); };
  const auto add_number = [&](std::uint64_t v) {
    const fmt::format_int digits(v);
    add({digits.data(), digits.size()});
  };
  if (http) {
    add(method);
    add(" ");
    add(path);
    add(" ");
  } else {
    add("event ");
  }
  if (!source.empty()) {
    add("(");
    add(source);
    add(") ");
  }
  if (status_ != 0) {
    add_number(static_cast<std::uint64_t>(status_));
    add(" ");
  }
  if (!error_type_.empty()) {
    add(error_type_);
    add(" ");
  }
  add("in ");
  add(log::millis_text(us).view());
  add(" ms, ");
  add_number(bytes_in);
  add(" bytes in, ");
  add_number(bytes_out_);
  add(" bytes out");
  const std::string_view text(message.data(), message.size());

  // Absent values are left out of the JSON record rather than written empty, so queries need no special cases.
  std::array<log::field, 8> fields;
  std::size_t n = 0;
  if (!source.empty()) fields[n++] = {"source", source};
  if (http) {
    fields[n++] = {"method", method};
    fields[n++] = {"path", path};
  }
  if (status_ != 0) fields[n++] = {"status", status_};
  if (!error_type_.empty()) fields[n++] = {"errorType", error_type_};
  fields[n++] = {"durationMs", us};
  fields[n++] = {"bytesIn", bytes_in};
  fields[n++] = {"bytesOut", bytes_out_};
  log::write(spdlog::level::info, event_.ctx.request_id, text, {fields.data(), n});
}

awaitable<void> invocation::run(runtime_client& runtime, worker_resources res) {
  app_log_ = res.app_log;
  std::optional<std::string> unexpected;
  try {
    const outcome o = co_await handle(runtime, res);
    co_await post(runtime, o, res.result_buffer);
  } catch (const runtime_api_fatal&) {
    log_access();  // the bridge exits next: the line still says how far the invocation got
    throw;
  } catch (const std::exception& e) {
    // A bug of ours must cost one invocation, not the environment.
    unexpected = e.what();
  } catch (...) {
    unexpected = "an exception that is not a std::exception";
  }
  if (unexpected) {
    const outcome internal = failure{error_types::internal_error, "lambda-bridge internal error: " + *unexpected};
    bytes_out_ = 0;
    co_await post(runtime, internal, {});
  }
  if (translated_) {
    runtime.recycle_event_buffer(translated_->request.take_body());
    res.translate.recycle(std::move(translated_->request));
  }
}

}  // namespace lambda_bridge
