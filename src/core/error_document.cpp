#include "lambda_bridge/core/error_document.hpp"

#include <rapidjson/document.h>

#include "lambda_bridge/util/json_writer.hpp"

namespace lambda_bridge {

void append_error_json(std::string& out, std::string_view type, std::string_view message, stack_trace trace) {
  json_writer w(out);
  w.begin_object();
  w.key("errorMessage").string(message);
  w.key("errorType").string(type);
  if (trace == stack_trace::empty) w.key("stackTrace").begin_array().end_array();
  w.end_object();
}

std::optional<error_document> parse_error_json(std::string_view json) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseIterativeFlag>(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return std::nullopt;
  error_document doc;
  // HasMember and operator[] rather than FindMember: comparing RapidJSON's member iterators is ambiguous in C++20.
  if (d.HasMember("errorType") && d["errorType"].IsString()) {
    doc.type.assign(d["errorType"].GetString(), d["errorType"].GetStringLength());
  }
  if (d.HasMember("errorMessage") && d["errorMessage"].IsString()) {
    doc.message.assign(d["errorMessage"].GetString(), d["errorMessage"].GetStringLength());
  }
  return doc;
}

}  // namespace lambda_bridge
