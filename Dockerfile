# lambda-bridge as a container image that holds nothing but the binary. It is not meant to be run on its own:
# copy the binary into your app's image and make it the ENTRYPOINT there (see docs/getting-started.md):
#
#   COPY --from=lambda-bridge /lambda-bridge /opt/lambda-bridge
#   ENTRYPOINT ["/opt/lambda-bridge"]
#
# Build:  docker build -t lambda-bridge .                              (this machine's architecture)
#         docker build --platform linux/arm64 -t lambda-bridge .       (Lambda arm64 / Graviton)
#         docker build --platform linux/amd64 -t lambda-bridge .       (Lambda x86_64)
# The builder always runs natively and cross-compiles for the target, so no emulation is needed for either.

# Debian 12 is the platform scripts/setup and the test suite target, so the image is built exactly as CI builds.
FROM --platform=$BUILDPLATFORM debian:12 AS build
# Set by the builder from --platform (BuildKit and podman do; the legacy docker builder leaves it empty, which
# builds for the builder's own architecture).
ARG TARGETARCH
WORKDIR /src
# Only what compiling needs (the "build" group; "arm64" adds the cross toolchain), in a layer of its own: editing
# the sources does not reinstall them.
COPY scripts/setup scripts/setup
RUN if [ "$TARGETARCH" = arm64 ] && [ "$(dpkg --print-architecture)" != arm64 ]; then cross=arm64; fi \
 && bash scripts/setup build $cross \
 && rm -rf /var/lib/apt/lists/*
COPY . .
# The release presets link fully statically and stripped, so the binary runs on any Linux image: glibc or musl
# (Alpine), Amazon Linux 2, distroless, or none at all. The tests are not configured: the image ships no test.
RUN preset=release \
 && if [ "$TARGETARCH" = arm64 ] && [ "$(dpkg --print-architecture)" != arm64 ]; then preset=arm64; fi \
 && cmake --preset "$preset" -DLAMBDA_BRIDGE_TESTS=OFF \
 && cmake --build --preset "$preset" --target lambda-bridge \
 && cp "build/$preset/lambda-bridge" /lambda-bridge

# scratch: the image is a carrier for one file, so COPY --from=<image> takes nothing else with it.
FROM scratch
COPY --from=build /lambda-bridge /lambda-bridge
# So that `docker run --rm lambda-bridge --version` (or --help) works; there is no shell in this image.
ENTRYPOINT ["/lambda-bridge"]
