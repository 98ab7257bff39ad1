// The pieces shared by the sources' writers of local gateway events (gateway_events.hpp): the request's target
// split, its headers grouped by name, its query split into pairs, its body as an event carries it.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lambda_bridge/core/gateway_events.hpp"
#include "lambda_bridge/util/json_writer.hpp"

namespace lambda_bridge::events {

inline constexpr std::string_view local_account_id = "123456789012";

struct split_target {
  std::string_view raw_path;
  std::string_view raw_query;
};
split_target split(std::string_view target);

// Distinct header names in order of first appearance, each with its values; names lower-cased when asked.
using header_groups = std::vector<std::pair<std::string, std::vector<std::string>>>;
header_groups group_headers(const std::vector<header>& hs, bool lower_names, bool skip_cookie);

struct query_pair {
  std::string key;
  std::string value;
};
// The query's key=value pairs, percent-decoded when `decode`.
std::vector<query_pair> split_query(std::string_view q, bool decode);

// "headers" with one value per name, the last (the single-value map of payload 1.0 events).
void write_single_value_headers(json_writer& w, const header_groups& groups);
// "queryStringParameters": one value per key, the last, as the gateways do in their single-value maps; null when
// there is no query.
void write_single_value_query(json_writer& w, const std::vector<query_pair>& pairs);

// The Host header, or "localhost".
std::string host_of(const gateway_request& req);

// "body" (null when empty) and "isBase64Encoded", text or base64 by the request's Content-Type and bytes.
void write_request_body(json_writer& w, const gateway_request& req);

}  // namespace lambda_bridge::events
