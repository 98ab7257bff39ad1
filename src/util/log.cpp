#include "lambda_bridge/util/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>

#include <algorithm>
#include <cstring>

#include "lambda_bridge/util/json_writer.hpp"

namespace lambda_bridge::log {
namespace {

log_format current_format = log_format::text;

spdlog::level::level_enum to_spdlog(log_level l) {
  switch (l) {
    case log_level::trace: return spdlog::level::trace;
    case log_level::debug: return spdlog::level::debug;
    case log_level::info: return spdlog::level::info;
    case log_level::warn: return spdlog::level::warn;
    case log_level::error: return spdlog::level::err;
    case log_level::fatal: return spdlog::level::critical;
  }
  return spdlog::level::info;
}

}  // namespace

void init(log_format format, log_level level) {
  current_format = format;
  // Unsynchronised stderr sink: the bridge logs from one thread, and stderr is unbuffered so lines are never
  // held back when Lambda freezes the process.
  auto logger = std::make_shared<spdlog::logger>("lambda-bridge", std::make_shared<spdlog::sinks::stderr_sink_st>());
  // The line is composed by write(); spdlog supplies time and level. JSON keys follow Lambda's own JSON logs.
  if (format == log_format::json) {
    logger->set_pattern(R"({"timestamp":"%Y-%m-%dT%H:%M:%S.%eZ",%v})", spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(to_spdlog(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

// Lambda's own level names, which its log filtering understands (spdlog would say "warning", "critical").
std::string_view level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "TRACE";
    case spdlog::level::debug: return "DEBUG";
    case spdlog::level::info: return "INFO";
    case spdlog::level::warn: return "WARN";
    case spdlog::level::err: return "ERROR";
    case spdlog::level::critical: return "FATAL";
    default: return "INFO";
  }
}

millis_text::millis_text(std::chrono::microseconds d) {
  const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(d.count(), 0));
  const fmt::format_int whole(us / 1000);
  std::memcpy(buf_, whole.data(), whole.size());
  size_ = whole.size();
  const char fraction[] = {'.', char('0' + us / 100 % 10), char('0' + us / 10 % 10), char('0' + us % 10)};
  std::memcpy(buf_ + size_, fraction, sizeof fraction);
  size_ += sizeof fraction;
}

namespace {

void append_field(std::string& line, const field& f) {
  line.push_back(',');
  append_json_string(line, f.name);
  line.push_back(':');
  if (const auto* s = std::get_if<std::string_view>(&f.value)) {
    append_json_string(line, *s);
  } else if (const auto* i = std::get_if<std::int64_t>(&f.value)) {
    const fmt::format_int digits(*i);
    line.append(digits.data(), digits.size());
  } else {
    line.append(millis_text(std::get<std::chrono::microseconds>(f.value)).view());
  }
}

}  // namespace

void write(spdlog::level::level_enum level, std::string_view request_id, std::string_view message,
           std::span<const field> fields) {
  // One buffer for every line (the bridge logs from one thread), so a line allocates nothing once it has grown; a
  // very long one (an event at DEBUG) does not keep its memory.
  static std::string line;
  line.clear();
  if (line.capacity() > 64 * 1024) std::string().swap(line);
  const auto append = [&](std::string_view s) { line.append(s); };
  if (current_format == log_format::json) {
    append("\"level\":\"");
    append(level_name(level));
    append("\",\"logger\":\"lambda-bridge\",");
    if (!request_id.empty()) {
      append("\"requestId\":");
      append_json_string(line, request_id);
      line.push_back(',');
    }
    append("\"message\":");
    append_json_string(line, message);
    for (const auto& f : fields) append_field(line, f);
  } else {
    append(level_name(level));
    append(" lambda-bridge ");
    if (!request_id.empty()) {
      line.push_back('[');
      append(request_id);
      append("] ");
    }
    // One entry per line: a message quoting the app (an error body) must not break the log into pieces.
    for (char c : message) {
      if (c == '\n') {
        append("\\n");
      } else if (c == '\r') {
        append("\\r");
      } else {
        line.push_back(c);
      }
    }
  }
  spdlog::log(level, "{}", line);
}

}  // namespace lambda_bridge::log
