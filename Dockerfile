# syntax=docker/dockerfile:1
# The elasticache-perf action image. UNTESTED on the machine it was written on (no Docker engine
# there); CI builds it through `uses: ./` (.github/workflows/ci.yml) and release.yml publishes it.
#
# Stages: chef (toolchain + cargo-chef) → planner (dependency recipe) → builder (dependencies
# cooked in their own cached layer, then the release build, --locked) → runtime (slim Debian).

ARG RUST_VERSION=1.95
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
RUN cargo chef cook --release --locked --recipe-path recipe.json --bin elasticache-perf
COPY . .
RUN cargo build --release --locked --bin elasticache-perf \
 && mkdir /out \
 && cp target/release/elasticache-perf /out/elasticache-perf \
 # A container action's entrypoint takes no arguments: one path per entrypoint, and the binary
 # reads the name it was started under (src/cli.rs `invocation_args`).
 && ln -s elasticache-perf /out/elasticache-perf-action \
 && ln -s elasticache-perf /out/elasticache-perf-post

FROM debian:${DEBIAN_RELEASE}-slim AS runtime
# ca-certificates: TLS to AWS and GitHub. redis-server: the `local` target (try the action, and
# the repo's own CI) starts one on loopback inside the container.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates redis-server \
 && rm -rf /var/lib/apt/lists/*
COPY --from=builder /out/ /usr/local/bin/
# No USER: GitHub runs container actions as root so that they can write the workspace and the
# runner's files (docs: "Dockerfile support for GitHub Actions", USER). No WORKDIR either: the
# runner mounts the workspace and makes it the working directory.
ENV ELASTICACHE_PERF_LOG=info
ENTRYPOINT ["/usr/local/bin/elasticache-perf"]
