// The whole stack (issue 14): a real app instead of the in-process one — the sample FastAPI app (examples/fastapi)
// under Debian's uvicorn with uvloop and httptools — with the bridge and the null forwarder in front of the same app
// process, on the same route, end to end.
#pragma once

#include <vector>

#include "options.hpp"
#include "report.hpp"
#include "scenarios.hpp"
#include "world.hpp"

namespace bench {

// The rows of a real_app scenario: the bridge's, then the null forwarder's. None when the app is not there to run
// (no app.py under --fastapi DIR: a note on stderr); a failed row when it is there but does not start.
std::vector<figures> run_whole_stack(bench_world& w, const options& o, const scenario& s);

}  // namespace bench
