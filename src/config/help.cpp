#include "lambda_bridge/config/help.hpp"

namespace lambda_bridge {

std::string_view help_text() {
  return R"(Usage: lambda-bridge [--help] [--version] [--] [app command and arguments...]

Runs an unmodified web app on AWS Lambda: starts the app (the image's CMD) and supervises it, polls the Lambda
Runtime API, turns each event into an HTTP/1.1 request to the app on loopback, and posts the app's reply back as
the result Lambda expects. Without AWS_LAMBDA_RUNTIME_API it emulates Lambda locally: the invoke API
(POST /2015-03-31/functions/function/invocations, or the AWS_LAMBDA_FUNCTION_NAME in place of "function") and
gateway emulation for plain HTTP requests. Installed as
/opt/extensions/lambda-bridge (a layer) it runs as a Lambda extension beside the app (docs/extension-mode.md).

Options:
  -h, --help      show this text and exit
  --version       print the version and exit
  --              what follows is the app command, even if it starts with '-'

Environment (aws-lambda-web-adapter's names are honoured unchanged; see docs/configuration.md):
  AWS_LAMBDA_RUNTIME_API                  host:port of the Runtime API (set by Lambda)
  AWS_LWA_PORT (fallback PORT)            app port [8080]
  AWS_LWA_HOST (deprecated HOST)          app host [127.0.0.1]
  AWS_LWA_READINESS_CHECK_PORT            port probed before the first invocation [the app port]
  AWS_LWA_READINESS_CHECK_PATH            HTTP path probed [/]
  AWS_LWA_READINESS_CHECK_PROTOCOL        http or tcp [http]
  AWS_LWA_READINESS_CHECK_HEALTHY_STATUS  statuses that mean ready, e.g. 200-399,404 [100-499]
  AWS_LWA_READINESS_CHECK_TIMEOUT_SECONDS bound on the readiness wait; past it init fails [none]
  AWS_LWA_REMOVE_BASE_PATH                strip this leading path segment(s) from request paths [none]
  AWS_LWA_PASS_THROUGH_PATH               path non-HTTP events (SQS, SNS, ...) are POSTed to [/events]
  AWS_LWA_INVOKE_MODE                     buffered or response_stream (live replies to Function URL/REST) [buffered]
  AWS_LWA_ENABLE_COMPRESSION              gzip/br replies by the event's Accept-Encoding [false]
  AWS_LWA_ERROR_STATUS_CODES              app statuses that fail the invocation, e.g. 500-599 [none]
  AWS_LWA_AUTHORIZATION_SOURCE            header whose value replaces Authorization [none]
  AWS_LWA_POOL_IDLE_TIMEOUT_SECONDS       idle seconds after which a kept-alive app connection is not reused [4]
  AWS_LWA_LAMBDA_RUNTIME_API_PROXY        host:port to send Runtime API traffic through [none]
  AWS_LAMBDA_MAX_CONCURRENCY              concurrent invocations, Lambda Managed Instances (set by Lambda) [1]
  AWS_LWA_ASYNC_INIT                      stop the readiness wait at 9.8 s; the first invocation finishes it [false]
  AWS_LAMBDA_FUNCTION_TIMEOUT             emulator: invocation timeout in seconds [300]
  LAMBDA_BRIDGE_EMULATOR_HOST             emulator: address of the invoke API [0.0.0.0]
  LAMBDA_BRIDGE_EMULATOR_PORT             emulator: port of the invoke API, 0 = any free port [8080]
  LAMBDA_BRIDGE_GATEWAY_PORT              emulator: gateway emulation port, 0 = any free port, off [8081]
  LAMBDA_BRIDGE_GATEWAY_FORMAT            emulator: http-api, rest, alb or function-url [http-api]
  LAMBDA_BRIDGE_SHUTDOWN_GRACE_MS         time the app gets after SIGTERM before SIGKILL [400]
  LAMBDA_BRIDGE_EXEC                      exec the app directly, no bridge (Fargate, Kubernetes) [false]
  LAMBDA_BRIDGE_EXTENSION_MODE            run as a Lambda external extension; the app is the runtime [in /opt/extensions]
  LAMBDA_BRIDGE_EMULATOR_ONLY             only the local emulator, for a runtime and extensions run apart [false]
  LAMBDA_BRIDGE_RUNTIME_API_PORT          emulator: port of the Runtime/Extensions API on 127.0.0.1 [free; 9001 emulator-only]
  LAMBDA_BRIDGE_STRIP_STAGE               strip an HTTP API named stage (/dev/x -> /x) [false]
  LAMBDA_BRIDGE_MAX_EVENT_BYTES           largest event accepted [6291556]
  LAMBDA_BRIDGE_DEADLINE_RESERVE_MS       time kept back from the deadline to report a slow app [50]
  AWS_LAMBDA_LOG_FORMAT                   Text or JSON [Text]
  AWS_LAMBDA_LOG_LEVEL                    TRACE, DEBUG, INFO, WARN, ERROR or FATAL [INFO]
  LAMBDA_BRIDGE_APP_LOG                   inherit, or tag: the app's output lines carry the request id [inherit]
  AWS_LAMBDA_FUNCTION_NAME                the function's name, in its ARN and the emulator's invoke path [function]
  AWS_LAMBDA_FUNCTION_VERSION, AWS_LAMBDA_FUNCTION_MEMORY_SIZE, AWS_LAMBDA_LOG_GROUP_NAME, AWS_LAMBDA_LOG_STREAM_NAME
                                          reported to the app in x-amzn-lambda-context (set by Lambda)

aws-lambda-web-adapter's older names still work, each with a warning naming its new variable (which wins when both
are set): READINESS_CHECK_PORT, READINESS_CHECK_PATH, READINESS_CHECK_PROTOCOL, REMOVE_BASE_PATH, ASYNC_INIT, and
AWS_LWA_READINESS_CHECK_MIN_UNHEALTHY_STATUS=N (read as AWS_LWA_READINESS_CHECK_HEALTHY_STATUS=100-(N-1)). Any
other AWS_LWA_* or LAMBDA_BRIDGE_* variable is ignored with a warning naming the nearest one above.
)";
}

}  // namespace lambda_bridge
