// The log settings the configuration reads (AWS_LAMBDA_LOG_FORMAT, AWS_LAMBDA_LOG_LEVEL) and the logger applies:
// apart from log.hpp so that the configuration needs no spdlog.
#pragma once

namespace lambda_bridge {

enum class log_format { text, json };
enum class log_level { trace, debug, info, warn, error, fatal };

}  // namespace lambda_bridge
