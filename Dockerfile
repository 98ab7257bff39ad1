# lambda-bridge as a container image that holds nothing but the binary. It is not meant to be run on its own:
# copy the binary into your app's image and make it the ENTRYPOINT there (see docs/getting-started.md):
#
#   COPY --from=lambda-bridge /lambda-bridge /opt/lambda-bridge
#   ENTRYPOINT ["/opt/lambda-bridge"]
#
# Build:  docker build -t lambda-bridge .
# For Lambda the binary's architecture must match the function's: add --platform linux/amd64 (x86_64) or
# --platform linux/arm64 (arm64) when building on a machine of the other kind.

# Debian 12 is the platform scripts/setup and the test suite target, so the image is built exactly as CI builds.
FROM debian:12 AS build
WORKDIR /src
# The dependencies first, in a layer of their own: editing the sources does not reinstall them.
COPY scripts/setup scripts/setup
RUN bash scripts/setup
COPY . .
# The release preset links fully statically and stripped, so the binary runs on any Linux image: glibc or musl
# (Alpine), Amazon Linux 2, distroless, or none at all. The tests are not configured: the image ships no test.
RUN cmake --preset release -DLAMBDA_BRIDGE_TESTS=OFF \
 && cmake --build --preset release --target lambda-bridge

# scratch: the image is a carrier for one file, so COPY --from=<image> takes nothing else with it.
FROM scratch
COPY --from=build /src/build/release/lambda-bridge /lambda-bridge
# So that `docker run --rm lambda-bridge --version` (or --help) works; there is no shell in this image.
ENTRYPOINT ["/lambda-bridge"]
