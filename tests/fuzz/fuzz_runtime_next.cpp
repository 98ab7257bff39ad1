// Proves that whatever the Runtime API (or anything posing as it) answers to GET /next cannot crash the bridge,
// cannot make it write a /response or /error URL that leaves the invocation's path, and cannot smuggle bytes into
// the request the app receives through the context headers.
//
// Input: the bytes of the /next answer, header parsed by Beast from a buffer as runtime_client::next() reads it,
// then parse_invocation_context. Invariants: a request id the bridge accepts (uri::is_token, as bridge.cpp
// checks it) holds no '/', CR or LF, and the /response target built from it stays one path; a deadline is only
// ever a positive number; and a small REST event translated with that context gives a request whose head passes
// the same wire checks as fuzz_translate's.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "fuzz_support.hpp"
#include "lambda_bridge/core/translate.hpp"
#include "lambda_bridge/lambda/runtime_headers.hpp"
#include "lambda_bridge/util/uri.hpp"

using namespace lambda_bridge;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static translator t;
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  http::response_parser<http::string_body> parser;
  parser.body_limit((std::numeric_limits<std::uint64_t>::max)());  // as runtime_client::next()
  if (!fuzz::parse_response(bytes, parser, true)) return 0;
  const invocation_context ctx = parse_invocation_context(parser.get().base());

  if (ctx.deadline_ms) FUZZ_CHECK(*ctx.deadline_ms > 0, std::to_string(*ctx.deadline_ms));
  for (const std::string* v : {&ctx.request_id, &ctx.invoked_function_arn, &ctx.trace_id, &ctx.client_context,
                               &ctx.cognito_identity, &ctx.tenant_id, &ctx.invocation_id}) {
    FUZZ_CHECK(!fuzz::has_cr_lf_nul(*v), *v);
  }
  if (!uri::is_token(ctx.request_id)) return 0;  // the bridge refuses the event (bridge.cpp)
  FUZZ_CHECK(ctx.request_id.find_first_of(std::string_view("/\r\n\0", 4)) == std::string::npos, ctx.request_id);
  FUZZ_CHECK(fuzz::is_token(ctx.request_id), ctx.request_id);

  std::string event = R"({"path":"/x","httpMethod":"GET","headers":{"a":"b"},"requestContext":{"stage":"p"}})";
  auto r = t.translate(std::move(event), ctx, translate_options{});
  if (!r) {
    fuzz::check_failure(r.error());
    return 0;
  }
  fuzz::check_request(r->request);
  return 0;
}
