// Request-line hygiene: path and query encoding, tokens and field values.
#include <doctest/doctest.h>

#include "lambda_bridge/util/uri.hpp"

using namespace lambda_bridge;

TEST_CASE("path encoding keeps pchars and existing escapes and encodes the rest") {
  std::string out;
  uri::append_path(out, "/a b/%2F/%zz/é/?#[]{}\"<>|\\^`~!$&'()*+,;=:@");
  CHECK(out == "/a%20b/%2F/%25zz/%C3%A9/%3F%23%5B%5D%7B%7D%22%3C%3E%7C%5C%5E%60~!$&'()*+,;=:@");
}

TEST_CASE("a raw query keeps its encoding and only fixes bytes a request line cannot hold") {
  std::string out;
  uri::append_raw_query(out, "a=%3A&b=c d&e=?/&f=#%G1");
  CHECK(out == "a=%3A&b=c%20d&e=?/&f=%23%25G1");
}

TEST_CASE("query components encode everything but unreserved bytes") {
  std::string out;
  uri::append_query_component(out, "a b&c=d/é~");
  CHECK(out == "a%20b%26c%3Dd%2F%C3%A9~");
}

TEST_CASE("tokens and field values follow RFC 9110") {
  CHECK(uri::is_token("X-Custom_Header.1!"));
  CHECK_FALSE(uri::is_token(""));
  CHECK_FALSE(uri::is_token("a b"));
  CHECK_FALSE(uri::is_token("a:b"));
  CHECK(uri::is_field_value("tab\tok é"));
  CHECK_FALSE(uri::is_field_value(std::string("nul\0", 4)));
  CHECK_FALSE(uri::is_field_value("cr\r"));
  CHECK_FALSE(uri::is_field_value("del\x7f"));
}
