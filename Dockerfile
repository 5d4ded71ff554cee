# cryptobot image: a static binary on scratch, about 12 MB.
#
#   docker build -t cryptobot:$(git describe --tags --always) \
#     --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse --short HEAD) .
#
# Lint: (cd tools && go run ./dockerlint ../Dockerfile). Offline build and run
# proof: deploy/ci/image.sh.

FROM docker.io/library/golang:1.26-alpine AS build
WORKDIR /src
# Pinned so the cache mounts below are the same paths in the official image
# and in the CI stand-in builder (which has no HOME).
ENV GOMODCACHE=/go/pkg/mod \
    GOCACHE=/root/.cache/go-build \
    CGO_ENABLED=0
# Module proxy settings of the build host (a mirror, GOFLAGS=-mod=mod, ...);
# build args are in the environment of RUN but not kept in the final image.
ARG GOPROXY=https://proxy.golang.org,direct
ARG GOFLAGS=
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod \
    go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=none
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" \
      -o /out/cryptobot ./cmd/server \
 && mkdir /out/data

FROM scratch
# Go reads the CA bundle from this path on Linux; the zone database from
# ZONEINFO (GOROOT is unknown in a -trimpath binary).
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /usr/local/go/lib/time/zoneinfo.zip /usr/share/zoneinfo.zip
COPY --from=build /out/cryptobot /cryptobot
# Default flag files; deployments mount their own directory over /flags.
COPY flags/*.yaml /flags/
# Metrics share the HTTP listener: two listeners on 0.0.0.0:8080 and
# 127.0.0.1:8080 would collide. The public proxy forwards only /webhook.
ENV ZONEINFO=/usr/share/zoneinfo.zip \
    CRYPTOBOT_FLAGS__DIR=/flags \
    CRYPTOBOT_HTTP__LISTEN=0.0.0.0:8080 \
    CRYPTOBOT_METRICS__LISTEN=0.0.0.0:8080
# The state store's directory (sqlite:/data/cryptobot.db in compose): a
# volume mounted here inherits this owner. Nothing else is written at run
# time, so the root filesystem can be read-only.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/cryptobot", "healthcheck"]
ENTRYPOINT ["/cryptobot"]
