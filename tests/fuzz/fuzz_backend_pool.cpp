// Proves that one invocation's reply never reaches another (issue 11), whatever bytes the app sends: the real
// backend pool and exchanges, over real loopback sockets, against an app scripted by the input.
//
// Input: a sequence of replies, one per request. Byte 0 picks how many clients run at once (1 to 3); then, for each
// request, one byte picks the request method (GET or HEAD), whether the app closes the connection after writing, and
// a template — a well-framed reply, one followed by a smuggled second reply, 204 or HEAD replies with bodies, 100/103,
// 102 and 101 interim replies, chunked replies with trailers, a Content-Length shorter than the body, Connection:
// close — and the next bytes, up to a length byte, are raw bytes the app writes in place of or after the template.
//
// Every byte the app writes in answer to request i that can carry a mark carries `#i#` (in bodies and in an X-From
// header); raw input bytes never contain '#'. The app writes each answer whole with one blocking write before it
// reads the next request, so whatever it sent for request i is on the bridge's socket before request i+1 can take
// a connection. Invariant: an exchange that succeeds for request j shows no mark but `#j#`. A failure must be a known
// error type with a message.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "lambda_bridge/app/backend_client.hpp"

using namespace lambda_bridge;

namespace {

struct planned_answer {
  bool head = false;     // the request is HEAD
  bool close = false;    // the app closes the connection after writing its answer
  std::string bytes;     // what the app writes for this request
};

std::string mark(std::size_t i) { return "#" + std::to_string(i) + "#"; }

std::string framed(std::string_view status, std::size_t i, std::string_view extra_head = {}) {
  const std::string body = "reply " + mark(i);
  return "HTTP/1.1 " + std::string(status) + "\r\nX-From: " + mark(i) + "\r\n" + std::string(extra_head) +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

std::string answer_for(std::uint8_t kind, std::size_t i, std::string_view raw) {
  const std::string smuggled = framed("302 Found", i, "Location: https://evil.example/" + mark(i) + "\r\n");
  switch (kind % 12) {
    case 0: return framed("200 OK", i);
    case 1: return framed("200 OK", i) + smuggled;
    case 2: return "HTTP/1.1 204 No Content\r\nX-From: " + mark(i) + "\r\n\r\n" + smuggled;
    case 3: return "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </" + mark(i) + ">\r\n\r\n" +
                   framed("200 OK", i);
    case 4: return "HTTP/1.1 102 Processing\r\n\r\n" + framed("200 OK", i) + smuggled;
    case 5: return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n" + smuggled;
    case 6: return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n" + mark(i).substr(0, 3) + "\r\n0\r\nX-T: " +
                   mark(i) + "\r\n\r\n" + smuggled;
    case 7: return "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" + mark(i) + std::string(raw) + smuggled;
    case 8: return framed("200 OK", i, "Connection: close\r\n") + smuggled;
    case 9: return std::string(raw);
    case 10: return std::string(raw) + smuggled;
    default: return framed("200 OK", i) + std::string(raw);
  }
}

std::vector<planned_answer> plan(const std::uint8_t* data, std::size_t size) {
  std::vector<planned_answer> out;
  std::size_t at = 0;
  while (at < size && out.size() < 12) {
    const std::uint8_t pick = data[at++];
    std::size_t n = at < size ? data[at++] : 0;
    n = std::min(n, size - at);
    std::string raw(reinterpret_cast<const char*>(data) + at, n);
    at += n;
    for (char& c : raw) {
      if (c == '#') c = '_';  // marks come only from the templates
    }
    planned_answer a;
    a.head = (pick & 0x80) != 0;
    a.close = (pick & 0x40) != 0;
    a.bytes = answer_for(pick & 0x3f, out.size(), raw);
    out.push_back(std::move(a));
  }
  return out;
}

// The index in the request target "/r/<i>", or -1.
long request_index(std::string_view head) {
  const auto at = head.find(" /r/");
  if (at == std::string_view::npos) return -1;
  long i = 0;
  for (std::size_t p = at + 4; p < head.size() && head[p] >= '0' && head[p] <= '9'; ++p) i = i * 10 + (head[p] - '0');
  return i;
}

awaitable<void> serve_connection(tcp::socket socket, const std::vector<planned_answer>& answers) {
  std::string buf;
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n = co_await asio::async_read_until(socket, asio::dynamic_buffer(buf), "\r\n\r\n",
                                                          asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    const long i = request_index(std::string_view(buf).substr(0, n));
    buf.erase(0, n);  // requests carry no body (Content-Length: 0)
    if (i < 0 || static_cast<std::size_t>(i) >= answers.size()) co_return;
    const auto& a = answers[static_cast<std::size_t>(i)];
    // One blocking write: the whole answer is on the bridge's socket before this coroutine yields.
    asio::write(socket, asio::buffer(a.bytes), ec);
    if (ec || a.close) co_return;
  }
}

awaitable<void> accept_loop(tcp::acceptor& acceptor, const std::vector<planned_answer>& answers) {
  for (;;) {
    boost::system::error_code ec;
    tcp::socket s = co_await acceptor.async_accept(asio::redirect_error(asio::use_awaitable, ec));
    if (ec) co_return;
    asio::co_spawn(acceptor.get_executor(), serve_connection(std::move(s), answers), asio::detached);
  }
}

void check_own(std::size_t j, const reply_head& head, const std::string& body) {
  std::string everything = body;
  for (const auto& h : head.headers) everything += h.name + ":" + h.value + "\n";
  const std::string own = mark(j);
  for (std::size_t p = 0; (p = everything.find('#', p)) != std::string::npos; ++p) {
    std::size_t q = p + 1;
    while (q < everything.size() && everything[q] >= '0' && everything[q] <= '9') ++q;
    if (q == p + 1 || q == everything.size() || everything[q] != '#') continue;
    const std::string_view m(everything.data() + p, q - p + 1);
    FUZZ_CHECK(m == own, "request " + std::to_string(j) + " got the mark " + std::string(m) + ": " + everything);
  }
}

awaitable<void> client(backend_pool& pool, const std::vector<planned_answer>& answers, std::size_t first,
                       std::size_t step, std::size_t& running, asio::io_context& io) {
  for (std::size_t j = first; j < answers.size(); j += step) {
    // Short: an answer whose framing asks for more than the app sends waits for the deadline.
    backend_exchange ex(pool, std::chrono::steady_clock::now() + std::chrono::milliseconds(30), 1 << 20);
    backend_request req;
    req.method = answers[j].head ? "HEAD" : "GET";
    req.target = "/r/" + std::to_string(j);
    req.headers = {{"Host", "app"}, {"Content-Length", "0"}};
    auto head = co_await ex.send(req);
    if (!head) {
      fuzz::check_failure(head.error());
      continue;
    }
    std::string body;
    if (auto err = co_await ex.read_body(body, 1 << 20)) {
      fuzz::check_failure(*err);
      continue;
    }
    check_own(j, *head, body);
  }
  // The app's coroutines still wait on their connections; stopping the io_context ends them with it.
  if (--running == 0) io.stop();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  const std::size_t clients = 1 + data[0] % 3;
  const auto answers = plan(data + 1, size - 1);
  if (answers.empty()) return 0;

  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  backend_pool pool(io.get_executor(), acceptor.local_endpoint(), std::chrono::seconds(4));
  std::size_t running = clients;
  asio::co_spawn(io, accept_loop(acceptor, answers), asio::detached);
  for (std::size_t c = 0; c < clients; ++c) {
    asio::co_spawn(io, client(pool, answers, c, clients, running, io), asio::detached);
  }
  io.run_for(std::chrono::seconds(10));
  FUZZ_CHECK(running == 0, "the exchanges did not finish within 10 s");
  return 0;
}
