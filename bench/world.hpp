// The two peers of the child under test, on loopback: the Lambda Runtime API it polls and the app it forwards to.
// Both follow the current scenario and record t0..t3 of every invocation (see main.cpp).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "scenarios.hpp"
#include "wire.hpp"

namespace bench {

struct invocation {
  int64_t t0 = 0, t1 = 0, t2 = 0, t3 = 0;
  bool done = false, error = false;
  bool captured = false;  // its request or result was kept whole for the null forwarder: not to be measured
  uint64_t result_bytes = 0;
  std::string result_prefix;
};

class bench_world {
 public:
  bench_world();

  int runtime_port() const { return runtime_.port(); }
  int app_port() const { return app_.port(); }
  server& app() { return app_; }

  // The scenario the app and the result checks follow until the next call; with `capture`, the app's requests and
  // the results are kept whole for the null forwarder to replay (captured_request, captured_result).
  void set_scenario(const scenario* s, bool capture);
  // Keeps what was captured and captures no more. Called once the warm-up has been captured: keeping a body
  // costs the bench's app (and its Runtime API) a copy of it before the time it records, so invocations measured while
  // capturing looked slower than the null forwarder's, which are never captured (docs/performance.md, "The bench
  // copied the bridge's bodies").
  void stop_capturing();
  // Switches the app to another scenario between two invocations, keeping everything else (the soak's mix).
  void use_scenario(const scenario* s);

  uint64_t push(const scenario& s);

  // Waits for the result of `id`; false after `timeout`.
  bool wait_done(uint64_t id, std::chrono::milliseconds timeout);
  bool wait_polls(int count, std::chrono::milliseconds timeout);
  // After a child is killed: its parked /next must be gone before the next child runs, or it would take an event.
  bool wait_no_parked(std::chrono::milliseconds timeout);
  bool wait_parked(int count, std::chrono::milliseconds timeout);

  int64_t first_next_ns();
  invocation get(uint64_t id);
  void forget(uint64_t id);
  std::vector<std::string> failures();
  std::string captured_request();
  std::string captured_result();
  std::string captured_content_type();
  void clear_queue();
  void stop();

 private:
  // A request read whole: its head, its body's length and first bytes, and when its last byte arrived.
  struct received {
    const http_head& head;
    const std::string& body;
    uint64_t body_len;
    int64_t t_end;
    bool capture;  // the scenario's bytes are being captured for the null forwarder
  };

  uint64_t resolve(std::string_view id) const;
  void note_failure(std::string what);
  bool capturing();
  void serve(int fd, bool app);
  // Both false when the connection is to end.
  bool answer_runtime(int fd, const received& rq);
  bool answer_app(int fd, const received& rq);
  void record_result(const received& rq);
  bool serve_next(int fd);

  server runtime_, app_;
  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::pair<uint64_t, std::string>> queue_;
  std::unordered_map<uint64_t, invocation> inv_;
  const scenario* sc_ = nullptr;
  bool capture_ = false, closed_ = false;
  uint64_t last_id_ = 0, current_ = 0;
  int next_polls_ = 0, parked_ = 0;
  int64_t first_next_ns_ = 0;
  std::string captured_request_, captured_result_, captured_content_type_;
  std::vector<std::string> failures_;
};

}  // namespace bench
