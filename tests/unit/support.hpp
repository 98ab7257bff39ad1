// Shared helpers of the unit tests: fixture loading and a translation with default options.
#pragma once

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "lambda_bridge/core/translate.hpp"

namespace test_support {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string fixture(const std::string& name) { return read_file(std::string(LAMBDA_BRIDGE_FIXTURES) + "/" + name); }

inline lambda_bridge::invocation_context sample_context() {
  lambda_bridge::invocation_context c;
  c.request_id = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";
  c.deadline_ms = 1542409706888;
  c.invoked_function_arn = "arn:aws:lambda:us-east-2:123456789012:function:custom-runtime";
  c.trace_id = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1";
  return c;
}

inline lambda_bridge::result<lambda_bridge::translation> translate(
    std::string event, lambda_bridge::translate_options opts = {},
    const lambda_bridge::invocation_context& ctx = sample_context()) {
  static lambda_bridge::translator t;
  if (opts.default_host == "127.0.0.1") opts.default_host = "127.0.0.1:8080";
  return t.translate(std::move(event), ctx, opts);
}

// Every value of header `name` (case-insensitive), in order.
inline std::vector<std::string> header_values(const lambda_bridge::backend_request& r, std::string_view name) {
  std::vector<std::string> out;
  for (const auto& h : r.headers) {
    if (h.name.size() == name.size() &&
        std::equal(h.name.begin(), h.name.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      out.push_back(h.value);
    }
  }
  return out;
}

inline std::string header_value(const lambda_bridge::backend_request& r, std::string_view name) {
  auto v = header_values(r, name);
  return v.empty() ? std::string() : v.front();
}

}  // namespace test_support
