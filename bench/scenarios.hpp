// What the bench asks of the child: the benchmark's scenarios (events, the app's replies, the checks on both) and
// the soak's weighted mix.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

constexpr std::string_view id_marker = "@ID@";
constexpr size_t id_width = 8;  // ids are 8 digits; the null forwarder's fixed id "nullnull" has the same width

struct scenario {
  std::string name;
  std::string event_template;  // id_marker where the invocation id goes
  std::string reply_content_type = "application/json";
  std::string reply_body;        // what the app answers (a stream repeats it up to stream_bytes)
  uint64_t stream_bytes = 0;     // > 0: the app's body is this long, written from reply_body over and over
  int app_sleep_ms = 0;
  // > 0: the app writes its head, then its body in this many pieces, with Nagle's algorithm on — as Python's
  // http.server (head, then body) and many small-write apps do. 0: head and body in one write, Nagle off.
  int app_body_writes = 0;
  std::vector<std::string> env;  // extra variables for the bridge
  int warmup = 10, measured = 100;
  uint64_t payload = 0;          // the payload that the RSS target scales with
  std::optional<uint64_t> expect_request_body;  // what the app must receive
  uint64_t expect_min_result = 0;
  bool stream = false;
  bool with_null = true;
  int concurrency = 1;           // > 1: a throughput run, events queued all at once
  bool targets_rss = true;
  // The whole stack (issue 14): the app is a real child process (the sample FastAPI app under uvicorn, see
  // whole_stack.hpp), not the in-process one, so only t0 and t3 are seen and the figure is end to end (t3 - t0).
  // app_route is the path it serves; the in-process app answers it too, for the capture run.
  bool real_app = false;
  std::string app_route;
  // Soak only: how often the mix picks it, what the result must contain, and whether it must fail instead.
  int weight = 0;
  std::string expect_in_result = "\"statusCode\":200";
  bool expect_error = false;
};

// The benchmark's scenarios, in the order they run and are reported; `quick` runs fewer invocations of each.
std::vector<scenario> make_scenarios(bool quick);

// The soak's mix (issue 6): every source, sizes from nothing to 1 MB, and events that must fail cleanly, weighted
// towards the small requests that dominate real traffic.
std::vector<scenario> soak_mix();

}  // namespace bench
