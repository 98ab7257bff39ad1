# lambda-bridge as a container image that holds nothing but the binary. It is not meant to be run on its own:
# copy the binary into your app's image and make it the ENTRYPOINT there (see docs/getting-started.md):
#
#   COPY --from=lambda-bridge /lambda-bridge /opt/lambda-bridge
#   ENTRYPOINT ["/opt/lambda-bridge"]
#
# Build:  docker build -t lambda-bridge .                                 (this machine's architecture)
#         docker build --build-arg ARCH=arm64 -t lambda-bridge .          (Lambda arm64 / Graviton)
#         docker build --build-arg ARCH=amd64 -t lambda-bridge .          (Lambda x86_64)
# With BuildKit, --platform linux/arm64 (or linux/amd64) does the same and labels the image with it. Either way the
# builder runs natively and cross-compiles for the target: no emulation, on any builder (BuildKit, the legacy
# builder, podman).

# Debian 12 is the platform scripts/setup and the test suite target, so the image is built exactly as CI builds.
FROM --platform=$BUILDPLATFORM debian:12 AS build
WORKDIR /src
# Only what compiling needs (scripts/setup's "build" group), in a layer of its own: editing the sources does not
# reinstall it. It comes before the ARGs below, whose values are part of the cache key of every later step, so that
# both architectures' builds share it.
COPY scripts/setup scripts/setup
RUN bash scripts/setup build && rm -rf /var/lib/apt/lists/*
# TARGETARCH is set from --platform by BuildKit and podman (the legacy builder leaves it empty: this machine's).
ARG TARGETARCH
ARG ARCH=$TARGETARCH
# arm64 on another machine adds the cross toolchain ("arm64": g++-aarch64-linux-gnu and the arm64 libraries).
RUN case "${ARCH:-$(dpkg --print-architecture)}/$(dpkg --print-architecture)" in amd64/amd64|arm64/*) ;; \
      amd64/*) echo "ARCH=amd64: build on an x86-64 machine (only arm64 is cross-compiled)" >&2; exit 1 ;; \
      *) echo "ARCH=$ARCH: lambda-bridge builds for amd64 (Lambda x86_64) or arm64" >&2; exit 1 ;; esac \
 && if [ "$ARCH" = arm64 ] && [ "$(dpkg --print-architecture)" != arm64 ]; then \
      bash scripts/setup arm64 && rm -rf /var/lib/apt/lists/*; fi
COPY . .
# The release presets link fully statically and stripped, so the binary runs on any Linux image: glibc or musl
# (Alpine), Amazon Linux 2, distroless, or none at all. The tests are not configured: the image ships no test. The
# build tree goes in the same step: the layer keeps the binary, not the objects, which no later build reuses.
RUN preset=release \
 && if [ "$ARCH" = arm64 ] && [ "$(dpkg --print-architecture)" != arm64 ]; then preset=arm64; fi \
 && cmake --preset "$preset" -DLAMBDA_BRIDGE_TESTS=OFF \
 && cmake --build --preset "$preset" --target lambda-bridge \
 && cp "build/$preset/lambda-bridge" /lambda-bridge \
 && rm -rf build

# scratch: the image is a carrier for one file, so COPY --from=<image> takes nothing else with it.
FROM scratch
COPY --from=build /lambda-bridge /lambda-bridge
# So that `docker run --rm lambda-bridge --version` (or --help) works; there is no shell in this image.
ENTRYPOINT ["/lambda-bridge"]
