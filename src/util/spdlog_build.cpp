// spdlog's own code, compiled once for the whole build. Every target uses spdlog in its compiled-library mode
// (SPDLOG_COMPILED_LIB, set by lambda_bridge_deps in CMakeLists.txt), where its headers only declare; this file
// defines, as spdlog's src/*.cpp do in its own build. Header-only, each of the fourteen sources that log compiled
// all of spdlog again, about 10 s of CPU each at -O3 (issue 15). Debian ships spdlog compiled only as a shared
// library, which the static binary cannot link: hence here, in lambda_bridge_core.
#ifndef SPDLOG_COMPILED_LIB
#error "spdlog_build.cpp defines spdlog for its compiled-library mode: build with SPDLOG_COMPILED_LIB"
#endif

#include <spdlog/common-inl.h>
#include <spdlog/details/backtracer-inl.h>
#include <spdlog/details/log_msg-inl.h>
#include <spdlog/details/log_msg_buffer-inl.h>
#include <spdlog/details/os-inl.h>
#include <spdlog/details/periodic_worker-inl.h>
#include <spdlog/details/registry-inl.h>
#include <spdlog/logger-inl.h>
#include <spdlog/pattern_formatter-inl.h>
#include <spdlog/sinks/ansicolor_sink-inl.h>
#include <spdlog/sinks/base_sink-inl.h>
#include <spdlog/sinks/sink-inl.h>
#include <spdlog/sinks/stdout_sinks-inl.h>
#include <spdlog/spdlog-inl.h>

// The one template of spdlog that lambda-bridge instantiates itself (log.cpp's unsynchronised stderr sink); those the
// registry needs for its default logger are instantiated by the code above.
template class spdlog::sinks::stdout_sink_base<spdlog::details::console_nullmutex>;
template class spdlog::sinks::stderr_sink<spdlog::details::console_nullmutex>;
