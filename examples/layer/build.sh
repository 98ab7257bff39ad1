#!/usr/bin/env bash
# Builds the lambda-bridge layer zip (docs/extension-mode.md):
#   extensions/lambda-bridge   the static binary; Lambda starts it as an external extension (/opt/extensions)
#   bootstrap                  the AWS_LAMBDA_EXEC_WRAPPER that starts the app as the runtime (/opt/bootstrap)
# Usage: examples/layer/build.sh [binary [output.zip]]
#   defaults: build/release/lambda-bridge, build/lambda-bridge-layer.zip (paths relative to the repository)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
binary="$(realpath "${1:-$repo/build/release/lambda-bridge}")"
output="$(realpath -m "${2:-$repo/build/lambda-bridge-layer.zip}")"
[ -x "$binary" ] || { echo "build.sh: no executable at $binary (cmake --preset release && cmake --build --preset release)" >&2; exit 1; }

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
install -D -m 0755 "$binary" "$stage/extensions/lambda-bridge"
install -m 0755 "$here/bootstrap" "$stage/bootstrap"
mkdir -p "$(dirname "$output")"
rm -f "$output"
# -X: no extra file attributes; zip keeps the Unix modes, and Lambda needs both files executable.
(cd "$stage" && zip -q -X -r "$output" bootstrap extensions)
echo "$output"
