// One timer for many deadlines (deadline_watch.hpp): what the app's exchanges and the Runtime API's posts are bounded
// by, instead of Beast's timer per operation.
#include <doctest/doctest.h>

#include <chrono>
#include <vector>

#include "lambda_bridge/util/deadline_watch.hpp"

using namespace lambda_bridge;
using namespace std::chrono_literals;

namespace {

struct expiry_log {
  steady_time start = std::chrono::steady_clock::now();
  std::vector<std::pair<char, std::chrono::milliseconds>> fired;
};

struct named_entry {
  expiry_log* log;
  char name;
  deadline_watch::entry entry{[](void* self) {
                                auto* e = static_cast<named_entry*>(self);
                                e->log->fired.emplace_back(e->name, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                                        std::chrono::steady_clock::now() - e->log->start));
                              },
                              this};
};

std::chrono::milliseconds run_to_end(asio::io_context& io) {
  const auto start = std::chrono::steady_clock::now();
  io.run_for(10s);
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
}

}  // namespace

TEST_CASE("each entry expires at its own deadline, one added later with an earlier deadline first") {
  asio::io_context io;
  deadline_watch watch(io.get_executor());
  expiry_log log;
  named_entry late{&log, 'a'}, early{&log, 'b'};
  watch.add(late.entry, log.start + 300ms);
  watch.add(early.entry, log.start + 100ms);  // earlier than what the timer is armed for: re-armed
  run_to_end(io);
  REQUIRE(log.fired.size() == 2);
  CHECK(log.fired[0].first == 'b');
  CHECK(log.fired[0].second >= 100ms);
  CHECK(log.fired[0].second < 300ms);
  CHECK(log.fired[1].first == 'a');
  CHECK(log.fired[1].second >= 300ms);
  CHECK(early.entry.expired());
  CHECK(late.entry.expired());
}

TEST_CASE("an entry removed before its deadline never expires, and the io_context is left with nothing to wait for") {
  asio::io_context io;
  deadline_watch watch(io.get_executor());
  expiry_log log;
  named_entry e{&log, 'a'};
  watch.add(e.entry, log.start + 5s);
  watch.remove(e.entry);
  CHECK(run_to_end(io) < 1s);  // the timer was cancelled with its last entry: run() returns at once
  CHECK(log.fired.empty());
}

TEST_CASE("kept armed, the timer outlives its last entry until its time, then stops without firing anything") {
  asio::io_context io;
  deadline_watch watch(io.get_executor());
  watch.keep_armed(true);
  expiry_log log;
  named_entry first{&log, 'a'}, second{&log, 'b'};
  watch.add(first.entry, log.start + 200ms);
  watch.remove(first.entry);
  // A later deadline needs no re-arming; the timer, firing for the first, re-arms for the second.
  watch.add(second.entry, log.start + 400ms);
  const auto took = run_to_end(io);
  REQUIRE(log.fired.size() == 1);
  CHECK(log.fired[0].first == 'b');
  CHECK(log.fired[0].second >= 400ms);
  CHECK(took < 2s);  // and once nothing is left, it stops: run() returns
}

TEST_CASE("an entry registered again gets its new deadline and a fresh start") {
  asio::io_context io;
  deadline_watch watch(io.get_executor());
  expiry_log log;
  named_entry e{&log, 'a'};
  watch.add(e.entry, log.start + 100ms);
  watch.add(e.entry, log.start + 300ms);  // a post's second attempt, say
  run_to_end(io);
  REQUIRE(log.fired.size() == 1);
  CHECK(log.fired[0].second >= 300ms);
}
