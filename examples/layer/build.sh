#!/usr/bin/env bash
# Builds the lambda-bridge layer zip for one architecture (docs/extension-mode.md):
#   extensions/lambda-bridge   the static binary; Lambda starts it as an external extension (/opt/extensions)
#   bootstrap                  the AWS_LAMBDA_EXEC_WRAPPER that starts the app as the runtime (/opt/bootstrap)
# Usage: examples/layer/build.sh [--arch x86_64|arm64] [binary [output.zip]]
#   --arch x86_64 (the default): build/release/lambda-bridge → build/lambda-bridge-layer-x86_64.zip
#   --arch arm64:                build/arm64/lambda-bridge   → build/lambda-bridge-layer-arm64.zip
#                                (cmake --preset arm64 && cmake --build --preset arm64)
#   A binary given without --arch sets the architecture; either way the binary must be one for it, as a layer of
#   the wrong architecture fails only when Lambda starts it. Paths are relative to the repository.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

arch=""
if [ "${1:-}" = "--arch" ]; then
  [ $# -ge 2 ] || { echo "build.sh: --arch needs x86_64 or arm64" >&2; exit 2; }
  arch="$2"
  shift 2
fi
case "$arch" in
  ""|x86_64|arm64) ;;
  *) echo "build.sh: unknown architecture '$arch' (x86_64 or arm64, as Lambda names them)" >&2; exit 2 ;;
esac

# The ELF header's e_machine (2 bytes, little-endian, at offset 18), by the name Lambda gives the architecture.
elf_arch() {
  [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ] || { echo "not ELF"; return; }
  case "$(od -An -tu2 -j18 -N2 "$1" | tr -d ' ')" in
    62) echo x86_64 ;;
    183) echo arm64 ;;
    *) echo "ELF machine $(od -An -tu2 -j18 -N2 "$1" | tr -d ' ')" ;;
  esac
}

if [ $# -ge 1 ]; then
  binary="$(realpath "$1")"
else
  case "${arch:-x86_64}" in
    x86_64) binary="$repo/build/release/lambda-bridge"; preset=release ;;
    arm64) binary="$repo/build/arm64/lambda-bridge"; preset=arm64 ;;
  esac
  [ -x "$binary" ] || { echo "build.sh: no executable at $binary (cmake --preset $preset && cmake --build --preset $preset)" >&2; exit 1; }
fi
[ -x "$binary" ] || { echo "build.sh: no executable at $binary" >&2; exit 1; }
found="$(elf_arch "$binary")"
[ "$found" = "${arch:-$found}" ] || { echo "build.sh: $binary is $found, not $arch" >&2; exit 1; }
case "$found" in
  x86_64|arm64) arch="$found" ;;
  *) echo "build.sh: $binary is $found, not a binary for Lambda's x86_64 or arm64" >&2; exit 1 ;;
esac
output="$(realpath -m "${2:-$repo/build/lambda-bridge-layer-$arch.zip}")"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
install -D -m 0755 "$binary" "$stage/extensions/lambda-bridge"
install -m 0755 "$here/bootstrap" "$stage/bootstrap"
mkdir -p "$(dirname "$output")"
rm -f "$output"
# -X: no extra file attributes; zip keeps the Unix modes, and Lambda needs both files executable.
(cd "$stage" && zip -q -X -r "$output" bootstrap extensions)
echo "$output"
