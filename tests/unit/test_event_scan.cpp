// The event's scan taken in pieces, as the runtime client takes it while an event arrives (core/event_scan.hpp):
// whatever the cuts, finish() must find what one pass over the whole event finds. Each case is scanned whole, then
// fed at every cut (and at every pair of cuts for the short ones), so a piece boundary meets each byte: inside a
// UTF-8 sequence, between a backslash and what it escapes, inside a string, between strings. Each is taken both
// ways the scan has, 64-byte steps and a byte at a time, which must agree with each other too.
#include <doctest/doctest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "lambda_bridge/core/event_scan.hpp"
#include "support.hpp"

using lambda_bridge::events::event_scan;
using lambda_bridge::events::event_scanner;
using lambda_bridge::events::scan_event_text;

namespace {

std::string describe(const event_scan& s) {
  return "depth " + std::to_string(s.depth) + ", utf8 " + std::to_string(s.valid_utf8) + ", nul " +
         std::to_string(s.has_nul) + ", backslash " + std::to_string(s.has_backslash) + ", plain string at " +
         std::to_string(s.plain_string_offset) + " of " + std::to_string(s.plain_string_size) + " with " +
         std::to_string(s.plain_string_escapes) + " escapes";
}

// The scan of `event` fed in the pieces that `cuts` (ascending offsets) make, finished on the whole.
event_scan scan_in_pieces(const std::string& event, const std::vector<std::size_t>& cuts) {
  event_scanner scanner;
  for (const std::size_t cut : cuts) {
    // Each feed sees a copy holding only the bytes received so far, as the socket's reads leave them: a scan that
    // looked past the cut would read what follows in the copy (a NUL, then nothing), not the event.
    const std::string received = event.substr(0, cut);
    scanner.feed(received);
    CHECK(scanner.scanned() <= cut);
  }
  return scanner.finish(event);
}

// The scan's two ways through the bytes: 64-byte steps (where the CPU has AVX2) and a byte at a time.
std::vector<bool> levels() {
  std::vector<bool> all{false};
  if (event_scanner::use_blocks(true)) all.push_back(true);
  return all;
}

struct blocks_restored {
  ~blocks_restored() { event_scanner::use_blocks(true); }
};

void check_every_cut(const std::string& event, bool pairs) {
  const blocks_restored restore;
  event_scanner::use_blocks(false);
  const event_scan whole = scan_event_text(event);
  for (const bool blocks : levels()) {
    event_scanner::use_blocks(blocks);
    CAPTURE(blocks);
    CHECK(scan_event_text(event) == whole);
  }
  for (const bool blocks : levels()) {
    event_scanner::use_blocks(blocks);
    for (std::size_t a = 0; a <= event.size(); ++a) {
      const event_scan one = scan_in_pieces(event, {a});
      if (!(one == whole)) FAIL("cut at " << a << ": " << describe(one) << "; whole: " << describe(whole));
      if (!pairs) continue;
      for (std::size_t b = a; b <= event.size(); ++b) {
        const event_scan two = scan_in_pieces(event, {a, b});
        if (!(two == whole)) FAIL("cuts at " << a << ", " << b << ": " << describe(two) << "; whole: " << describe(whole));
      }
    }
  }
}

}  // namespace

TEST_CASE("the scan fed in pieces finds what one pass finds, wherever the pieces are cut") {
  const std::vector<std::string> cases = {
      // Valid UTF-8 of two, three and four bytes, in a string and out of one, and at the very end.
      "{\"a\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\",\"b\":[1,{\"c\":\"\xf0\x9f\x98\x80\"}]}\xc3\xa9",
      // Invalid UTF-8: a lone continuation byte, a cut-short sequence before ASCII, an overlong form, a surrogate,
      // and a lead byte as the last byte of the event.
      "{\"a\":\"\x80x\",\"b\":\"\xe2\x82x\",\"c\":\"\xc0\xaf\",\"d\":\"\xed\xa0\x80\"}\xf0",
      // Escapes, an escaped quote and backslash that do not end the string, and a backslash as the last byte.
      R"({"a":"x\"y\\","b":"\n\u00e9","c":"\\\"","d":["]"]})"
      "\\",
      // A NUL and a control byte inside a string and outside.
      std::string("{\"a\":\"x\0y\",\"b\":\"\t\"}\0", 19),
      // Nesting that closes more than it opens, and brackets inside strings.
      R"([[[{"a":"[[[{{{"}]]]]]}}}[)",
      // The longest plain string (one with a short escape counts), against longer ones with a \u escape, an invalid
      // escape, and a control byte.
      R"({"short":"abcd","escaped":"abcdefghij\\klmnop","plain":"abcdefghijklmn",)"
      R"("uni":"abcdefghij\u0041klmnopqrst","bad":"abcdefghij\xklmnopqrstuv","ctl":")"
      "abcdefghijklmnopqrst\x01\"}",
  };
  // What one pass finds in each, worked out by hand (depth, UTF-8, NUL, backslash, longest plain string and its
  // escapes): the cuts and the two ways are held to the one pass, and the one pass to these.
  const event_scan expected[] = {
      {3, true, false, false, 6, 14},    // "café € 😀": 14 bytes, non-ASCII but plain
      {1, false, false, false, 15, 3},   // the first of the 3-byte values ("\xe2\x82x")
      {2, true, false, true, 6, 6, 2},   // "x\"y\\": 6 bytes, two short escapes ("\n\u00e9" is not plain)
      {1, true, true, false, 2, 1},      // "x\0y" and a raw tab are not plain
      {4, true, false, false, 9, 6},     // brackets inside the string count for nothing
      {1, true, false, true, 27, 18, 1}, // "escaped", not the longer ones with \u, \x or a control byte
  };
  REQUIRE(cases.size() == std::size(expected));
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const std::string& event = cases[k];
    CAPTURE(event);
    const event_scan whole = scan_event_text(event);
    if (!(whole == expected[k])) FAIL("case " << k << ": " << describe(whole) << "; expected " << describe(expected[k]));
    check_every_cut(event, true);
  }
}

TEST_CASE("the scan fed in pieces agrees with one pass on long strings, where it skips in wide steps") {
  // A 300-byte string with one special byte every 7 offsets from 100 on, so that it falls at many places of the
  // string skip's 128- and 16-byte steps and of the scan's 64-byte ones: a cut anywhere must not change where a step
  // stops or what it finds.
  for (const std::string& special : {std::string("\""), std::string("\\n"), std::string("\xc3\xa9"), std::string("\x01")}) {
    for (std::size_t at = 100; at < 300; at += 7) {
      std::string body(300, 'a');
      body.replace(at, special.size(), special);
      const std::string event = "{\"body\":\"" + body + "\",\"x\":\"" + std::string(40, 'b') + "\"}";
      CAPTURE(at);
      check_every_cut(event, false);
    }
  }
}

TEST_CASE("the scan fed in pieces agrees with one pass on every fixture event") {
  for (const auto& entry : std::filesystem::recursive_directory_iterator(LAMBDA_BRIDGE_FIXTURES)) {
    if (entry.path().extension() != ".json") continue;
    const std::string event = test_support::read_file(entry.path().string());
    CAPTURE(entry.path().string());
    check_every_cut(event, false);
    // And in many small pieces, as a slow connection delivers it.
    std::vector<std::size_t> cuts;
    for (std::size_t c = 1; c < event.size(); c += 1 + c % 13) cuts.push_back(c);
    CHECK(scan_in_pieces(event, cuts) == scan_event_text(event));
  }
}

TEST_CASE("a scan fed the whole event leaves nothing for finish, and reset readies it for another event") {
  const std::string first = R"({"a":"x","b":[[1]]})";
  const std::string second = R"({"a":"\u00e9"})";
  event_scanner scanner;
  scanner.feed(first);
  CHECK(scanner.scanned() == first.size());
  CHECK(scanner.finish(first) == scan_event_text(first));
  scanner.reset();
  CHECK(scanner.scanned() == 0);
  CHECK(scanner.finish(second) == scan_event_text(second));
  CHECK(scanner.finish(second).depth == 1);
}

TEST_CASE("the scan's 64-byte steps agree with its byte loop on any mix of the bytes that matter") {
  // Every byte the scan treats apart (quotes, backslashes, brackets, control bytes and NUL, the parts of valid and
  // invalid UTF-8) among plain ones, in events of 64 to 400 bytes: steps that hand over to the byte loop and back at
  // every kind of byte, inside strings and out.
  const std::string alphabet[] = {"\"", "\\", "{", "}", "[", "]", "a", "a", "a", "a", " ", ":", ",", "\n",
                                  std::string(1, '\0'), "\x01", "\xc3\xa9", "\xe2\x82\xac", "\x80", "\xc3",
                                  "\\\"", "\\n", "\\/", "\\\\", "\\u00e9", "n", "u", std::string(70, 'x')};
  std::mt19937 random(20261202);
  const blocks_restored restore;
  for (int round = 0; round < 3000; ++round) {
    std::string event;
    const std::size_t size = 64 + random() % 337;
    while (event.size() < size) event += alphabet[random() % std::size(alphabet)];
    event_scanner::use_blocks(false);
    const event_scan bytes = scan_event_text(event);
    for (const bool blocks : levels()) {
      event_scanner::use_blocks(blocks);
      const event_scan got = scan_event_text(event);
      if (!(got == bytes)) FAIL("blocks " << blocks << ": " << describe(got) << "; byte loop: " << describe(bytes));
      const std::size_t cut = random() % (event.size() + 1);
      const event_scan cut_once = scan_in_pieces(event, {cut});
      if (!(cut_once == bytes)) FAIL("cut at " << cut << ": " << describe(cut_once) << "; whole: " << describe(bytes));
    }
  }
}

TEST_CASE("the 64-byte steps are on wherever the CPU has AVX2, as the bridge runs the scan") {
  // The bridge never chooses: this is the default it starts with (a static initialisation once left it off in the
  // linked bridge alone). The tests that switch it restore it.
  bool avx2 = false;
#if defined(__x86_64__)
  const std::string cpuinfo = test_support::read_file("/proc/cpuinfo");
  avx2 = cpuinfo.find(" avx2") != std::string::npos;
#endif
  CHECK(event_scanner::using_blocks() == avx2);
  if (!avx2) WARN_MESSAGE(false, "no AVX2 here: the scan's 64-byte steps are not tested on this machine");
}

TEST_CASE("a scanner fed a longer text than the event it is finished on starts over") {
  const std::string longer = R"({"a":[[[["x"]]]],"b":"yyyyyyyyyyyy"})";
  const std::string event = R"({"c":1})";
  event_scanner scanner;
  scanner.feed(longer);
  CHECK(scanner.finish(event) == scan_event_text(event));
}
