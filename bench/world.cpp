#include "world.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cstdio>
#include <thread>

#include "process.hpp"

namespace bench {

using namespace std::chrono_literals;

namespace {

// The app keeps the first 16 MB of a body while capturing; the Runtime API 64 KB, or 16 MB of a result while
// capturing.
size_t body_to_keep(const http_head& h, bool capture, bool app) {
  if (app) return capture ? size_t(16) << 20 : 0;
  const bool is_result = h.method == "POST" && h.target.find("/runtime/invocation/") != std::string::npos;
  return is_result && capture ? size_t(16) << 20 : 64 * 1024;
}

}  // namespace

bench_world::bench_world()
    : runtime_([this](int fd) { serve(fd, false); }), app_([this](int fd) { serve(fd, true); }) {}

void bench_world::set_scenario(const scenario* s, bool capture) {
  std::lock_guard lk(m_);
  sc_ = s;
  capture_ = capture;
  captured_request_.clear();
  captured_result_.clear();
  captured_content_type_.clear();
  next_polls_ = 0;
  first_next_ns_ = 0;
  failures_.clear();
}

void bench_world::stop_capturing() {
  std::lock_guard lk(m_);
  capture_ = false;
}

void bench_world::use_scenario(const scenario* s) {
  std::lock_guard lk(m_);
  sc_ = s;
}

uint64_t bench_world::push(const scenario& s) {
  std::string event;
  std::lock_guard lk(m_);
  const uint64_t id = ++last_id_;
  char ids[16];
  std::snprintf(ids, sizeof ids, "%08llu", static_cast<unsigned long long>(id % 100000000));
  size_t from = 0;
  for (;;) {
    const auto at = s.event_template.find(id_marker, from);
    event.append(s.event_template, from, at == std::string::npos ? std::string::npos : at - from);
    if (at == std::string::npos) break;
    event += ids;
    from = at + id_marker.size();
  }
  inv_[id] = invocation{};
  queue_.emplace_back(id, std::move(event));
  cv_.notify_all();
  return id;
}

bool bench_world::wait_done(uint64_t id, std::chrono::milliseconds timeout) {
  std::unique_lock lk(m_);
  return cv_.wait_for(lk, timeout, [&] { return inv_[id].done; });
}

bool bench_world::wait_polls(int count, std::chrono::milliseconds timeout) {
  std::unique_lock lk(m_);
  return cv_.wait_for(lk, timeout, [&] { return next_polls_ >= count; });
}

bool bench_world::wait_no_parked(std::chrono::milliseconds timeout) {
  std::unique_lock lk(m_);
  return cv_.wait_for(lk, timeout, [&] { return parked_ == 0; });
}

bool bench_world::wait_parked(int count, std::chrono::milliseconds timeout) {
  std::unique_lock lk(m_);
  return cv_.wait_for(lk, timeout, [&] { return parked_ >= count; });
}

int64_t bench_world::first_next_ns() {
  std::lock_guard lk(m_);
  return first_next_ns_;
}

invocation bench_world::get(uint64_t id) {
  std::lock_guard lk(m_);
  return inv_[id];
}

void bench_world::forget(uint64_t id) {
  std::lock_guard lk(m_);
  inv_.erase(id);
}

std::vector<std::string> bench_world::failures() {
  std::lock_guard lk(m_);
  return failures_;
}

std::string bench_world::captured_request() {
  std::lock_guard lk(m_);
  return captured_request_;
}

std::string bench_world::captured_result() {
  std::lock_guard lk(m_);
  return captured_result_;
}

std::string bench_world::captured_content_type() {
  std::lock_guard lk(m_);
  return captured_content_type_;
}

void bench_world::clear_queue() {
  std::lock_guard lk(m_);
  queue_.clear();
}

void bench_world::stop() {
  {
    std::lock_guard lk(m_);
    closed_ = true;
    cv_.notify_all();
  }
  runtime_.stop();
  app_.stop();
}

// "nullnull" (the null forwarder's fixed id) stands for the invocation handed out last: it only runs one at a time.
uint64_t bench_world::resolve(std::string_view id) const {
  if (id == "nullnull") return current_;
  uint64_t n = 0;
  for (char c : id) {
    if (c < '0' || c > '9') return 0;
    n = n * 10 + uint64_t(c - '0');
  }
  // ids wrap at 10^8 in the 8 digits; the bench never gets near that.
  return n;
}

void bench_world::note_failure(std::string what) {
  if (failures_.size() < 20) failures_.push_back(std::move(what));
  cv_.notify_all();
}

bool bench_world::capturing() {
  std::lock_guard lk(m_);
  return capture_;
}

// One connection of either peer: each request read whole, then answered.
void bench_world::serve(int fd, bool app) {
  reader r(fd);
  http_head h;
  while (r.read_head(h)) {
    const bool capture = capturing();
    uint64_t body_len = 0;
    std::string body;
    if (!r.read_body(h, body_len, &body, body_to_keep(h, capture, app))) return;
    const received rq{h, body, body_len, now_ns(), capture};
    if (!(app ? answer_app(fd, rq) : answer_runtime(fd, rq))) return;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The Runtime API

bool bench_world::answer_runtime(int fd, const received& rq) {
  const std::string& t = rq.head.target;
  const std::string& method = rq.head.method;
  if (method == "GET" && t.ends_with("/runtime/invocation/next")) return serve_next(fd);
  if (method == "POST" && t.find("/runtime/invocation/") != std::string::npos) {  // .../{id}/response|error
    record_result(rq);
    return write_str(fd, "HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n"
                         "{\"status\":\"OK\"}\n");
  }
  if (method == "POST" && t.ends_with("/extension/register"))
    return write_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                         "Lambda-Extension-Identifier: 9f3b0a62-bench-4d2e-9c1e-000000000001\r\nContent-Length: 75\r\n\r\n"
                         R"({"functionName":"bench","functionVersion":"$LATEST","handler":"bench.handler"})");
  if (method == "GET" && t.ends_with("/extension/event/next")) {
    // Parked for ever, as an internal extension registered for no events is (runtime-api.md §3).
    std::unique_lock lk(m_);
    while (!closed_ && !peer_closed(fd)) cv_.wait_for(lk, 20ms);
    return false;
  }
  if (method == "POST" && t.find("/error") != std::string::npos) {
    {
      std::lock_guard lk(m_);
      note_failure(t + ": " + rq.body.substr(0, 300));
    }
    write_str(fd, "HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n");
    return true;
  }
  write_str(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  return true;
}

// A POST to .../invocation/{id}/response|error.
void bench_world::record_result(const received& rq) {
  const std::string& t = rq.head.target;
  const std::string& body = rq.body;
  const auto slash = t.rfind('/');
  const auto prev = t.rfind('/', slash - 1);
  const std::string id_text = t.substr(prev + 1, slash - prev - 1);
  const bool error = t.substr(slash + 1) == "error";
  std::lock_guard lk(m_);
  const uint64_t id = resolve(id_text);
  auto it = inv_.find(id);
  if (it == inv_.end()) {
    note_failure("result for unknown invocation " + id_text);
    return;
  }
  auto& inv = it->second;
  inv.t3 = rq.t_end;
  inv.error = error;
  inv.result_bytes = rq.body_len;
  inv.result_prefix = body.substr(0, 64 * 1024);
  if (error && !(sc_ && sc_->expect_error)) note_failure("invocation " + id_text + " failed: " + body.substr(0, 300));
  if (rq.capture) {
    inv.captured = true;
    captured_result_ = body;
    captured_content_type_ = rq.head.header("content-type").value_or("application/json");
  }
  inv.done = true;
  cv_.notify_all();
}

// The long poll: no timeout, as on Lambda; it ends when an event is queued, the child goes away or the bench stops.
bool bench_world::serve_next(int fd) {
  uint64_t id = 0;
  std::string event;
  int64_t t0 = 0;
  {
    std::unique_lock lk(m_);
    ++next_polls_;
    if (!first_next_ns_) first_next_ns_ = now_ns();
    ++parked_;
    cv_.notify_all();
    for (;;) {
      if (closed_ || peer_closed(fd)) {
        --parked_;
        cv_.notify_all();
        return false;
      }
      if (!queue_.empty()) break;
      cv_.wait_for(lk, 20ms);
    }
    --parked_;
    id = queue_.front().first;
    event = std::move(queue_.front().second);
    queue_.pop_front();
    current_ = id;
    t0 = now_ns();
    inv_[id].t0 = t0;
    cv_.notify_all();
  }
  char head[512];
  char ids[16];
  std::snprintf(ids, sizeof ids, "%08llu", static_cast<unsigned long long>(id % 100000000));
  const auto deadline_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch() + 60s)
                               .count();
  const int n = std::snprintf(head, sizeof head,
                              "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                              "Lambda-Runtime-Aws-Request-Id: %s\r\nLambda-Runtime-Deadline-Ms: %lld\r\n"
                              "Lambda-Runtime-Invoked-Function-Arn: arn:aws:lambda:us-east-1:123456789012:function:bench\r\n"
                              "Lambda-Runtime-Trace-Id: Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1\r\n"
                              "Content-Length: %zu\r\n\r\n",
                              ids, static_cast<long long>(deadline_ms), event.size());
  return write_str(fd, std::string_view(head, size_t(n)), event);
}

// ---------------------------------------------------------------------------------------------------------------
// The app

namespace {

// The head, then the body in `pieces` writes, with Nagle's algorithm on for this connection (the app's sockets have it
// off otherwise; each scenario's child opens its own): each write after the first leaves only once the one before is
// acknowledged.
bool write_in_pieces(int fd, std::string_view head, std::string_view body, int pieces) {
  const int off = 0;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &off, sizeof off);
  if (!write_str(fd, head)) return false;
  const size_t step = (body.size() + size_t(pieces) - 1) / size_t(pieces);
  for (size_t at = 0; at < body.size(); at += step)
    if (!write_str(fd, body.substr(at, step))) return false;
  return true;  // Nagle stays on: turning TCP_NODELAY back on would push the held piece out at once
}

}  // namespace

// The readiness probe (GET /), or an invocation's request: answered after the scenario's sleep, streamed when it
// streams.
bool bench_world::answer_app(int fd, const received& rq) {
  const http_head& h = rq.head;
  const scenario* s;
  {
    std::lock_guard lk(m_);
    s = sc_;
  }
  // A real app's route (its capture run) carries no id: the invocation is the one handed out last.
  const bool routed = s && !s->app_route.empty() && h.target.starts_with(s->app_route);
  if (!routed && !h.target.starts_with("/bench/"))  // the readiness probe (GET /)
    return write_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok");
  uint64_t id;
  {
    std::lock_guard lk(m_);
    s = sc_;
    id = routed ? current_ : resolve(std::string_view(h.target).substr(7, id_width));
    auto it = inv_.find(id);
    if (it == inv_.end() || !s) {
      note_failure("app request for unknown invocation " + h.target);
      return false;
    }
    it->second.t1 = rq.t_end;
    if (s->expect_request_body && *s->expect_request_body != rq.body_len)
      note_failure("app received " + std::to_string(rq.body_len) + " body bytes, expected " +
                   std::to_string(*s->expect_request_body));
    if (rq.capture) {
      captured_request_ = h.raw + rq.body;
      it->second.captured = true;
    }
  }
  if (s->app_sleep_ms) std::this_thread::sleep_for(std::chrono::milliseconds(s->app_sleep_ms));
  const uint64_t total = s->stream_bytes ? s->stream_bytes : s->reply_body.size();
  const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: " + s->reply_content_type +
                           "\r\nContent-Length: " + std::to_string(total) + "\r\n\r\n";
  {
    std::lock_guard lk(m_);
    inv_[id].t2 = now_ns();
  }
  if (s->app_body_writes > 0) return write_in_pieces(fd, head, s->reply_body, s->app_body_writes);
  if (!s->stream_bytes) return write_str(fd, head, s->reply_body);
  if (!write_str(fd, head)) return false;
  for (uint64_t sent = 0; sent < total;) {
    const size_t n = size_t(std::min<uint64_t>(s->reply_body.size(), total - sent));
    if (!write_str(fd, std::string_view(s->reply_body).substr(0, n))) return false;
    sent += n;
  }
  return true;
}

}  // namespace bench
