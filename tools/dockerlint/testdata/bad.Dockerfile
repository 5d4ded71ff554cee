from golang:1.26 as Build
MAINTAINER someone@example.com
ENV GOFLAGS -trimpath
WORKDIR src
COPY . .
RUN go build -o /bot ./cmd/server

FROM scratch
COPY --from=Build /bot /bot
ENTRYPOINT /bot
