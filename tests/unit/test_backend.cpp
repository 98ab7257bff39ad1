// The connection to the app against a real loopback socket: how much of a reply head the bridge accepts, and how a
// body framed by Content-Length is read.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <optional>
#include <vector>

#include "lambda_bridge/app/backend_client.hpp"
#include "lambda_bridge/core/error_types.hpp"

using namespace lambda_bridge;

namespace {

struct outcome {
  std::optional<failure> error;
  int status = 0;
  std::string body;
  std::vector<header> headers;
  std::chrono::milliseconds took{};
  std::size_t pooled = 0;        // connections back in the pool once the body was read
  bool reusable_after = false;   // whether the pool then handed that connection out again
};

// Accepts one connection, reads the request head, and writes `reply` in pieces of `piece` bytes; then, with
// `hold_open`, keeps the connection open until the bridge closes it.
awaitable<void> serve(tcp::acceptor& acceptor, std::string reply, std::size_t piece, bool hold_open = false) {
  tcp::socket s = co_await acceptor.async_accept(asio::use_awaitable);
  std::string request;
  boost::system::error_code ec;
  auto into = asio::dynamic_buffer(request);
  co_await asio::async_read_until(s, into, "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
  for (std::size_t at = 0; !ec && at < reply.size(); at += piece) {
    const auto part = asio::buffer(reply.data() + at, std::min(piece, reply.size() - at));
    co_await asio::async_write(s, part, asio::redirect_error(asio::use_awaitable, ec));
  }
  char byte;
  if (hold_open && !ec) co_await s.async_read_some(asio::buffer(&byte, 1), asio::redirect_error(asio::use_awaitable, ec));
}

awaitable<void> fetch(backend_pool& pool, outcome& out, std::chrono::milliseconds budget,
                      std::vector<header> spare = {}) {
  const auto started = std::chrono::steady_clock::now();
  backend_exchange ex(pool, started + budget, 1 << 20);
  backend_request req;
  req.method = "GET";
  req.target = "/";
  req.headers = {{"host", "app"}, {"content-length", "0"}};
  auto head = co_await ex.send(req, std::move(spare));
  if (!head) {
    out.error = head.error();
  } else {
    out.status = head->status;
    out.headers = std::move(head->headers);
    const maybe_failure err = co_await ex.read_body(out.body, 1 << 20);
    if (err) out.error = *err;
  }
  out.pooled = pool.idle_count();
  out.reusable_after = pool.take_idle() != nullptr;
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
}

outcome exchange_with_app_replying(std::string reply, std::size_t piece, bool hold_open = false,
                                   std::chrono::milliseconds budget = std::chrono::seconds(5),
                                   std::vector<header> spare = {}) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  backend_pool pool(io.get_executor(), acceptor.local_endpoint(), std::chrono::seconds(4));
  outcome out;
  asio::co_spawn(io, serve(acceptor, std::move(reply), piece, hold_open), asio::detached);
  asio::co_spawn(io, fetch(pool, out, budget, std::move(spare)), asio::detached);
  io.run_for(std::chrono::seconds(10));
  return out;
}

std::string header_lines(std::size_t total_bytes) {
  std::string out;
  for (int i = 0; out.size() < total_bytes; ++i) {
    out += "X-Filler-" + std::to_string(i) + ": " + std::string(48, 'f') + "\r\n";
  }
  return out;
}

}  // namespace

TEST_CASE("a reply head over 64 KB arriving in pieces is refused, not accepted field by field") {
  // Boost 1.74 counts its header limit per read: this head used to be accepted whole.
  const auto out = exchange_with_app_replying(
      "HTTP/1.1 200 OK\r\n" + header_lines(100 * 1024) + "Content-Length: 2\r\n\r\nok", 4096);
  REQUIRE(out.error);
  CHECK(out.error->type == error_types::backend_invalid_response);
  CHECK(out.error->message.find("reply header is over the bridge's limit of 65536 bytes") != std::string::npos);
}

TEST_CASE("a header line longer than 64 KB is refused at once, not waited on until the deadline") {
  const auto out = exchange_with_app_replying(
      "HTTP/1.1 200 OK\r\nX-Long: " + std::string(100 * 1024, 'l') + "\r\nContent-Length: 2\r\n\r\nok",
      100 * 1024);
  REQUIRE(out.error);
  CHECK(out.error->type == error_types::backend_invalid_response);
  CHECK(out.error->message.find("over the bridge's limit") != std::string::npos);
  CHECK(out.took < std::chrono::seconds(2));
}

TEST_CASE("an app that stalls mid-body fails at the deadline with the step it stalled in, and is not pooled") {
  const auto out = exchange_with_app_replying("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345", 1 << 20, true,
                                              std::chrono::milliseconds(300));
  REQUIRE(out.error);
  CHECK(out.error->type == error_types::backend_timeout);
  CHECK(out.error->message.find("the app did not answer before the invocation deadline (reading the reply's body, app at "
                                "127.0.0.1:") == 0);
  CHECK(out.took >= std::chrono::milliseconds(300));
  CHECK(out.took < std::chrono::seconds(2));
  CHECK(out.pooled == 0);
}

TEST_CASE("an app that stalls mid-head fails at the deadline while its header is read") {
  const auto out = exchange_with_app_replying("HTTP/1.1 200 OK\r\nContent-Le", 1 << 20, true,
                                              std::chrono::milliseconds(300));
  REQUIRE(out.error);
  CHECK(out.error->type == error_types::backend_timeout);
  CHECK(out.error->message.find("(reading the reply's header, app at ") != std::string::npos);
  CHECK(out.took >= std::chrono::milliseconds(300));
  CHECK(out.took < std::chrono::seconds(2));
}

TEST_CASE("an exchange over before its deadline leaves no timer behind: the io_context runs out of work") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  backend_pool pool(io.get_executor(), acceptor.local_endpoint(), std::chrono::seconds(4));
  outcome out;
  asio::co_spawn(io, serve(acceptor, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1 << 20), asio::detached);
  asio::co_spawn(io, fetch(pool, out, std::chrono::seconds(8)), asio::detached);
  const auto started = std::chrono::steady_clock::now();
  io.run_for(std::chrono::seconds(10));
  CHECK_FALSE(out.error);
  CHECK(out.body == "ok");
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(4));
}

TEST_CASE("interim 1xx heads count towards the reply head limit") {
  std::string storm;
  while (storm.size() < 70 * 1024) storm += "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n";
  const auto out = exchange_with_app_replying(storm + "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 1024);
  REQUIRE(out.error);
  CHECK(out.error->type == error_types::backend_invalid_response);
}

TEST_CASE("a reply head just under 64 KB, in any pieces, is still accepted with its body") {
  for (const std::size_t piece : {std::size_t{7}, std::size_t{4096}, std::size_t{1} << 20}) {
    CAPTURE(piece);
    const auto out = exchange_with_app_replying(
        "HTTP/1.1 200 OK\r\n" + header_lines(60 * 1024) + "Content-Length: 2\r\n\r\nok", piece);
    CHECK_FALSE(out.error);
    CHECK(out.status == 200);
    CHECK(out.body == "ok");
  }
}

TEST_CASE("the reply's fields arrive intact whether they fit the exchange's block or spill to the heap") {
  // Under 2 KB of fields, after an interim 103 whose fields went back to the block; then 6 KB, most of it past it.
  for (const std::size_t filler : {std::size_t{0}, std::size_t{300}, std::size_t{6 * 1024}}) {
    CAPTURE(filler);
    const std::string lines = header_lines(filler);
    const auto out = exchange_with_app_replying("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
                                                "HTTP/1.1 201 Made Up Reason\r\n" + lines +
                                                "Content-Type: application/json; charset=utf-8\r\nContent-Length: 2\r\n\r\nok",
                                                4096);
    REQUIRE_FALSE(out.error);
    CHECK(out.status == 201);
    CHECK(out.body == "ok");
    std::string rebuilt;
    for (const auto& h : out.headers) rebuilt += h.name + ": " + h.value + "\r\n";
    CHECK(rebuilt == lines + "Content-Type: application/json; charset=utf-8\r\nContent-Length: 2\r\n");
  }
}

TEST_CASE("a reply head filled into an earlier reply's header list holds this reply's fields, in their storage") {
  // The worker hands each exchange the last reply's list (issue 14: no allocation for the head's strings); whatever
  // that list held, longer or shorter, the head must be exactly this reply's.
  const std::string reply = "HTTP/1.1 200 OK\r\nContent-Type: application/json; charset=utf-8\r\n"
                            "X-Request-Id: 0123456789abcdef0123\r\nContent-Length: 2\r\n\r\nok";
  const std::string expected =
      "Content-Type: application/json; charset=utf-8\r\nX-Request-Id: 0123456789abcdef0123\r\nContent-Length: 2\r\n";
  std::vector<header> longer;
  for (int i = 0; i < 6; ++i) longer.push_back({"X-Old-Name-" + std::string(40, 'n'), std::string(200, 'v')});
  const std::vector<std::vector<header>> spares{{}, {{"A", "b"}}, longer};
  for (const auto& spare : spares) {
    CAPTURE(spare.size());
    std::vector<header> given = spare;
    std::vector<const char*> storage;
    for (const auto& h : given) storage.push_back(h.value.data());
    const auto out = exchange_with_app_replying(reply, 7, false, std::chrono::seconds(5), std::move(given));
    REQUIRE_FALSE(out.error);
    CHECK(out.body == "ok");
    std::string rebuilt;
    for (const auto& h : out.headers) rebuilt += h.name + ": " + h.value + "\r\n";
    CHECK(rebuilt == expected);
    // Where the earlier list had a string with room, the field went into it instead of a new allocation.
    for (std::size_t i = 0; i < std::min(storage.size(), out.headers.size()); ++i) {
      if (spare[i].value.capacity() >= out.headers[i].value.size()) CHECK(out.headers[i].value.data() == storage[i]);
    }
  }
}

TEST_CASE("the fields block is used again from its start only once all it holds is freed, and spills to the heap") {
  reply_fields_arena arena;
  void* a = arena.allocate(100);
  void* b = arena.allocate(100);
  CHECK(a != b);
  arena.deallocate(a, 100);
  void* c = arena.allocate(100);  // b is still alive: not a's place again
  CHECK(c != a);
  CHECK(c != b);
  arena.deallocate(b, 100);
  arena.deallocate(c, 100);
  CHECK(arena.allocate(50) == a);  // all freed: from the start
  void* big = arena.allocate(reply_fields_arena::capacity);  // does not fit beside it: from the heap
  std::memset(big, 'x', reply_fields_arena::capacity);       // all of it writable (AddressSanitizer checks)
  arena.deallocate(big, reply_fields_arena::capacity);
  arena.deallocate(a, 50);
}

namespace {

// Answers every request of one connection with a 2-byte body, keeping the connection open.
awaitable<void> serve_keep_alive(tcp::acceptor& acceptor) {
  tcp::socket s = co_await acceptor.async_accept(asio::use_awaitable);
  std::string request;
  for (;;) {
    boost::system::error_code ec;
    auto into = asio::dynamic_buffer(request);
    const std::size_t n =
        co_await asio::async_read_until(s, into, "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    request.erase(0, n);
    co_await asio::async_write(s, asio::buffer(std::string_view("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")),
                               asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
  }
}

awaitable<void> get_with_header(backend_pool& pool, std::string value, bool& ok) {
  backend_exchange ex(pool, std::chrono::steady_clock::now() + std::chrono::seconds(5), 1 << 20);
  backend_request req;
  req.method = "GET";
  req.target = "/";
  req.headers = {{"host", "app"}, {"x-value", std::move(value)}};
  auto head = co_await ex.send(req);
  std::string body;
  maybe_failure err;
  if (head) err = co_await ex.read_body(body, 1 << 20);  // g++ 12: no co_await in a conditional expression
  ok = head && !err && body == "ok";
}

}  // namespace

TEST_CASE("a pooled connection keeps the room of its request head, unless the head was unusually large") {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  backend_pool pool(io.get_executor(), acceptor.local_endpoint(), std::chrono::seconds(4));
  asio::co_spawn(io, serve_keep_alive(acceptor), asio::detached);
  std::size_t kept_small = 0, kept_large = 0;
  bool small_ok = false, large_ok = false;
  asio::co_spawn(io, [&]() -> awaitable<void> {
    co_await get_with_header(pool, "small", small_ok);
    auto c = pool.take_idle();
    if (c) kept_small = c->head.capacity();
    if (c) pool.put_back(std::move(c));
    co_await get_with_header(pool, std::string(100 * 1024, 'v'), large_ok);
    c = pool.take_idle();
    if (c) kept_large = c->head.capacity();
  }, asio::detached);
  io.run_for(std::chrono::seconds(10));
  CHECK(small_ok);
  CHECK(large_ok);
  CHECK(kept_small >= 30);  // "GET / HTTP/1.1" and two headers: reused by the next request, no allocation
  CHECK(kept_large <= backend_connection::read_buffer_bytes);
}

std::string pattern_of(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

TEST_CASE("a Content-Length body arriving in any pieces is read whole, and its connection goes back to the pool") {
  // Past the connection's 64 KB buffer the body is read from the socket straight into the caller's buffer.
  const std::string body = pattern_of(300 * 1024);
  for (const std::size_t piece : {std::size_t{1000}, std::size_t{64 * 1024 + 3}, std::size_t{1} << 20}) {
    CAPTURE(piece);
    const auto out = exchange_with_app_replying(
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body, piece, true);
    REQUIRE_FALSE(out.error);
    CHECK(out.body == body);
    CHECK(out.pooled == 1);
    CHECK(out.reusable_after);
  }
}

TEST_CASE("an app that closes before its Content-Length body is complete fails the reply, in any pieces") {
  for (const std::size_t piece : {std::size_t{1000}, std::size_t{1} << 20}) {
    CAPTURE(piece);
    const auto out = exchange_with_app_replying(
        "HTTP/1.1 200 OK\r\nContent-Length: 500000\r\n\r\n" + pattern_of(200 * 1024), piece);
    REQUIRE(out.error);
    CHECK(out.error->type == error_types::backend_invalid_response);
    CHECK(out.error->message.find("closed the connection before its reply was complete") != std::string::npos);
    CHECK(out.pooled == 0);
  }
}

TEST_CASE("bytes after a Content-Length body are not read as body, and the connection holding them is not reused") {
  // A second reply nobody asked for, right behind the first (issue 11): it must reach no other request.
  const std::string body = pattern_of(200 * 1024 + 100);  // in pieces, its end and the stray reply go out together
  const std::string stray = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nstray";
  for (const std::size_t piece : {std::size_t{4096}, std::size_t{1} << 20}) {
    CAPTURE(piece);
    const auto out = exchange_with_app_replying(
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body + stray, piece,
        true);
    REQUIRE_FALSE(out.error);
    CHECK(out.body == body);
    CHECK_FALSE(out.reusable_after);
  }
}

namespace {

// Reads one request with a Content-Length body and answers with that body, as the app received it.
awaitable<void> echo_body(tcp::acceptor& acceptor) {
  tcp::socket s = co_await acceptor.async_accept(asio::use_awaitable);
  std::string request;
  boost::system::error_code ec;
  auto into = asio::dynamic_buffer(request);
  const std::size_t head = co_await asio::async_read_until(s, into, "\r\n\r\n", asio::redirect_error(asio::use_awaitable, ec));
  const auto at = request.find("content-length: ");
  if (ec || at == std::string::npos) co_return;
  const std::size_t length = std::stoul(request.substr(at + 16));
  if (request.size() < head + length) {
    co_await asio::async_read(s, into, asio::transfer_exactly(head + length - request.size()),
                              asio::redirect_error(asio::use_awaitable, ec));
  }
  const std::string body = request.substr(head);  // all that came after the head, not only `length` bytes of it
  const std::string reply = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  co_await asio::async_write(s, asio::buffer(reply), asio::redirect_error(asio::use_awaitable, ec));
}

awaitable<void> post_from_offset(backend_pool& pool, std::string buffer, std::size_t offset, outcome& out) {
  backend_exchange ex(pool, std::chrono::steady_clock::now() + std::chrono::seconds(5), 1 << 20);
  backend_request req;
  req.method = "POST";
  req.target = "/";
  req.headers = {{"host", "app"}, {"content-length", std::to_string(buffer.size() - offset)}};
  req.body = std::move(buffer);
  req.body_offset = offset;
  auto head = co_await ex.send(req);
  if (!head) {
    out.error = head.error();
    co_return;
  }
  const maybe_failure err = co_await ex.read_body(out.body, 1 << 20);
  if (err) out.error = *err;
}

}  // namespace

TEST_CASE("a body that lies after an offset in its buffer reaches the app alone, none of the bytes before it") {
  // A text body sent from where it lay in its event (backend_request::body_offset): the event's head is in front.
  for (const std::size_t size : {std::size_t{0}, std::size_t{5}, std::size_t{200 * 1024}}) {
    CAPTURE(size);
    const std::string payload = pattern_of(size);
    asio::io_context io;
    tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    backend_pool pool(io.get_executor(), acceptor.local_endpoint(), std::chrono::seconds(4));
    outcome out;
    asio::co_spawn(io, echo_body(acceptor), asio::detached);
    asio::co_spawn(io, post_from_offset(pool, R"({"httpMethod":"POST","body":")" + payload, 29, out), asio::detached);
    io.run_for(std::chrono::seconds(10));
    REQUIRE_FALSE(out.error);
    CHECK(out.body == payload);
  }
}
