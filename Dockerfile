# Sluice container image: `docker build -t sluice .`
# The shipped config/ is copied to /etc/sluice; override any key with environment variables
# (SLUICE__SECTION__KEY for the server file, SLUICE_DEST_<NAME>__SECTION__KEY for a destination).

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
RUN cargo build --release --locked --bin sluice && strip target/release/sluice

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates tzdata zlib1g \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --no-create-home sluice
COPY --from=build /src/target/release/sluice /usr/local/bin/sluice
COPY config /etc/sluice
USER sluice
EXPOSE 11112
ENTRYPOINT ["sluice"]
CMD ["run", "--config", "/etc/sluice/sluice.toml"]
