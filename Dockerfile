# syntax=docker/dockerfile:1
#
# The oneonone image: the one binary on distroless (glibc, CA certificates,
# no shell), run as an unprivileged user, SQLite on the /data volume by default.
#
#   docker build -t oneonone .
#   docker run -p 3000:3000 -v oneonone-data:/data --env-file .env oneonone
#
# tests/deploy.rs keeps this file honest against the code: the binary, the
# port, the subcommands, the database path, the user and what is copied.

ARG RUST_VERSION=1.95

# ---- build ---------------------------------------------------------------
# Debian 12 (bookworm), like the runtime image: the binary links against its glibc.
FROM rust:${RUST_VERSION}-slim-bookworm AS build
WORKDIR /build

# Dependencies first, on an empty crate: this layer is rebuilt only when
# Cargo.toml or Cargo.lock change. The registry is a BuildKit cache mount,
# so even then crates are downloaded once per builder.
COPY Cargo.toml Cargo.lock ./
# How the bundled SQLite is compiled (see the file).
COPY .cargo/config.toml ./.cargo/config.toml
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    mkdir src \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && cargo build --release --locked \
    && rm -rf src

# The crate. Migrations and the Teams app icons are embedded at compile time
# (sqlx::migrate!, include_bytes!), so nothing but the binary is needed at run time.
COPY src ./src
COPY migrations ./migrations
COPY manifests/teams ./manifests/teams
# touch: COPY keeps the files' mtimes, which may be older than the empty crate's build.
RUN --mount=type=cache,target=/usr/local/cargo/registry,sharing=locked \
    touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin oneonone \
    && install -D -m 0755 target/release/oneonone /out/oneonone \
    && mkdir -p /out/data

# ---- runtime -------------------------------------------------------------
FROM gcr.io/distroless/cc-debian12:nonroot

COPY --from=build /out/oneonone /oneonone
# The volume's mount point belongs to the user, so a new named volume does too.
COPY --from=build --chown=65532:65532 /out/data /data
# A relative sqlite://oneonone.db (the default, and .env.example's) lands there too.
WORKDIR /data

# distroless' "nonroot" user, by number so that Kubernetes can check runAsNonRoot.
USER 65532:65532

ENV DATABASE_URL=sqlite:///data/oneonone.db \
    ONEONONE_LISTEN=0.0.0.0:3000
VOLUME /data
EXPOSE 3000

# No curl in the image: the binary probes its own /healthz (on loopback, at
# the port of ONEONONE_LISTEN) and exits 0 or 1.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/oneonone", "healthcheck"]

ENTRYPOINT ["/oneonone"]
CMD ["serve"]
