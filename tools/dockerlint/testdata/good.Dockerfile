FROM golang:1.26-alpine AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache/go-build CGO_ENABLED=0 go build -o /bot ./cmd/server

FROM scratch
COPY --from=build /bot /bot
USER 65532:65532
ENTRYPOINT ["/bot"]
