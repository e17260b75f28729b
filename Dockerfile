# syntax=docker/dockerfile:1
# The elasticache-perf action image. UNTESTED on the machine it was written on (no Docker engine
# there); CI builds it through `uses: ./` (.github/workflows/ci.yml) and release.yml publishes it.
#
# Stages: chef (toolchain + cargo-chef) → planner (dependency recipe) → builder (dependencies
# cooked in their own cached layer, then the build, --locked) → runtime (slim Debian).
#
# The binary is built with Cargo.toml's `dist` profile: the release profile without its line
# tables and symbols (stripped), which are most of the release binary's size.

# The same release as rust-toolchain.toml (tests/core/action_yml.rs checks it).
ARG RUST_VERSION=1.95.0
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS chef
RUN cargo install cargo-chef --locked --version 0.1.78
WORKDIR /src

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /src/recipe.json recipe.json
# Dependencies only: this layer is reused until Cargo.toml or Cargo.lock change.
RUN cargo chef cook --profile dist --locked --recipe-path recipe.json --bin elasticache-perf
COPY . .
RUN cargo build --profile dist --locked --bin elasticache-perf \
 && mkdir /out \
 && cp target/dist/elasticache-perf /out/elasticache-perf \
 # A container action's entrypoint takes no arguments: one path per entrypoint, and the binary
 # reads the name it was started under (src/cli.rs `invocation_args`).
 && ln -s elasticache-perf /out/elasticache-perf-action \
 && ln -s elasticache-perf /out/elasticache-perf-post

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# Where the image comes from: GHCR links the package to this repository (and its visibility).
LABEL org.opencontainers.image.source="https://github.com/org/elasticache-perf" \
      org.opencontainers.image.description="elasticache-perf: benchmark managed Redis/Valkey, report, gate, clean up" \
      org.opencontainers.image.licenses="Apache-2.0"
# ca-certificates: TLS to AWS and GitHub. redis-server: the `local` target (try the action, and
# the repo's own CI) starts one on loopback inside the container. Debian bookworm has no
# valkey-server: with `engine_type: valkey` the local target refuses to start and points at input
# `endpoint` (a Valkey service container of the job).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates redis-server \
 && rm -rf /var/lib/apt/lists/*
COPY --from=builder /out/ /usr/local/bin/
# No USER: GitHub runs container actions as root so that they can write the workspace and the
# runner's files (docs: "Dockerfile support for GitHub Actions", USER); the binary hands what it
# wrote in the workspace to the workspace's owner when it ends. No WORKDIR either: the runner
# mounts the workspace and makes it the working directory.
ENV ELASTICACHE_PERF_LOG=info
ENTRYPOINT ["/usr/local/bin/elasticache-perf"]
