// The --help text: every option and variable, one line each. Kept beside the config so the two change together.
#pragma once

#include <string_view>

namespace lambda_bridge {
std::string_view help_text();
}
