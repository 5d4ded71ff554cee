#!/usr/bin/env bash
# Container proof without a Docker engine: lint the deploy kit, build the
# image with buildah from the repository's Dockerfile, check its size and
# user, run it with podman (128 MiB, read-only root, a named volume on /data
# for the SQLite store as compose has it, host network) against the
# fake Telegram and exchanges of cmd/fakes, ask /price btc through the fake
# Telegram and wait for the reply, then print the image size, cold start,
# reply time and memory. Exits non-zero on any failure; every wait is
# bounded; everything it starts or stores is removed on exit.
#
# Usage: deploy/ci/image.sh          (root; apt-installs buildah podman runc)
# Env:   MAX_IMAGE_BYTES (24000000: the stripped binary is 18.5 MB, most of the
#        growth from 11.8 MB the state store's pure-Go SQLite); KEEP_IMAGE=1 keeps the storage dir;
#        BUILD_CACHE=DIR keeps the Go build cache there (a warm rebuild takes
#        seconds instead of minutes); SKIP_CHECKS=1 skips deploy/ci/check.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/ci/lib.sh

max_image_bytes=${MAX_IMAGE_BYTES:-24000000}
builder=docker.io/library/golang:1.26-alpine
image=localhost/cryptobot:ci
name=cryptobot-ci-$$

die() { echo "image.sh: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# wait_for SECONDS DESCRIPTION COMMAND...: retry COMMAND every 0.1 s.
wait_for() {
  local secs=$1 what=$2; shift 2
  local deadline=$(( $(date +%s) + secs ))
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "timed out after ${secs}s waiting for $what" >&2; return 1; }
    sleep 0.1
  done
}

if [ "${SKIP_CHECKS:-}" = 1 ]; then
  echo "SKIP_CHECKS=1: deploy/ci/check.sh not run"
else
  step "lint (deploy/ci/check.sh)"
  bash deploy/ci/check.sh
fi

step "tools"
need=()
for tool in buildah podman runc; do command -v "$tool" >/dev/null 2>&1 || need+=("$tool"); done
if [ ${#need[@]} -gt 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}") >/dev/null
fi
buildah --version; podman --version; runc --version | head -1

# Private storage, so nothing leaks into (or depends on) the host's images.
store=$(mktemp -d /var/tmp/cryptobot-image.XXXXXX)
B=(buildah --root "$store/root" --runroot "$store/run" --storage-driver vfs)
P=(podman --root "$store/root" --runroot "$store/run" --storage-driver vfs
   --runtime runc --cgroup-manager cgroupfs --events-backend none)
# buildah keeps the Dockerfile's RUN cache mounts (modules, build cache)
# under TMPDIR: private by default, BUILD_CACHE=DIR keeps them between runs.
export TMPDIR=${BUILD_CACHE:-$store/tmp}
mkdir -p "$TMPDIR"
fakes_pid=
cleanup() {
  local rc=$?
  set +e
  if [ -n "$fakes_pid" ]; then kill "$fakes_pid" 2>/dev/null; wait "$fakes_pid" 2>/dev/null; fi
  "${P[@]}" rm -f -t 0 "$name" >/dev/null 2>&1
  "${P[@]}" volume rm -f "$name-data" >/dev/null 2>&1
  if [ "${KEEP_IMAGE:-}" = 1 ]; then
    echo "kept: ${P[*]} images"
  else
    "${B[@]}" rm --all >/dev/null 2>&1
    "${P[@]}" rmi -a -f >/dev/null 2>&1
    rm -rf "$store"
  fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 143' INT TERM # run cleanup on a signal too

step "builder image $builder"
if timeout 120 "${B[@]}" pull -q "$builder" >/dev/null 2>&1; then
  echo "pulled"
else
  # No registry: a stand-in with the same name from this machine's Go
  # toolchain, a static busybox for /bin/sh and the CA bundle.
  # busybox-static's /bin/busybox; ldd succeeds only on a dynamic one.
  if [ ! -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends busybox-static) >/dev/null
  fi
  goroot=$(go env GOROOT)
  ctr=$("${B[@]}" from scratch)
  mnt=$("${B[@]}" mount "$ctr")
  mkdir -p "$mnt/bin" "$mnt/usr/local" "$mnt/etc/ssl/certs" "$mnt/tmp" "$mnt/go" "$mnt/root"
  chmod 1777 "$mnt/tmp"
  cp /bin/busybox "$mnt/bin/busybox"
  for applet in $("$mnt/bin/busybox" --list); do
    [ -e "$mnt/bin/$applet" ] || ln -s busybox "$mnt/bin/$applet"
  done
  cp -a "$goroot" "$mnt/usr/local/go"
  cp /etc/ssl/certs/ca-certificates.crt "$mnt/etc/ssl/certs/"
  "${B[@]}" unmount "$ctr" >/dev/null
  "${B[@]}" config --env PATH=/usr/local/go/bin:/bin --env GOPATH=/go --env GOTOOLCHAIN=local \
    --workingdir / "$ctr"
  "${B[@]}" commit -q --rm "$ctr" "$builder" >/dev/null
  echo "synthesized from $goroot ($(go env GOVERSION))"
fi

step "build $image"
version=ci-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
commit=$(git rev-parse HEAD 2>/dev/null || echo none)
# The host's module cache doubles as a read-only module proxy, so the build
# downloads only what the host does not already have.
modcache=$(go env GOMODCACHE)/cache/download
mkdir -p "$modcache"
t0=$(now)
timeout 900 "${B[@]}" bud --isolation chroot --pull=never --format docker --layers=false \
  --volume "$modcache:/hostmodcache:ro" \
  --build-arg GOPROXY="file:///hostmodcache,$(go env GOPROXY)" \
  --build-arg GOFLAGS="$(go env GOFLAGS)" \
  --build-arg VERSION="$version" --build-arg COMMIT="$commit" \
  -t "$image" .
build_s=$(elapsed "$t0" "$(now)")

step "inspect"
size=$("${P[@]}" image inspect --format '{{.Size}}' "$image")
user=$("${B[@]}" inspect --type image --format '{{.Docker.Config.User}}' "$image")
health=$("${B[@]}" inspect --type image --format '{{if .Docker.Config.Healthcheck}}{{.Docker.Config.Healthcheck.Test}}{{end}}' "$image")
echo "size $size bytes, user '$user', healthcheck $health"
[ "$size" -lt "$max_image_bytes" ] || die "image is $size bytes, limit $max_image_bytes"
uid=${user%%:*}
case "$uid" in
  ''|0|root) die "image runs as '$user', want a non-root numeric user" ;;
  *[!0-9]*) die "image user '$user' is not numeric (scratch has no /etc/passwd)" ;;
esac
case "$health" in *healthcheck*) ;; *) die "image has no HEALTHCHECK running /cryptobot healthcheck" ;; esac

step "fakes (cmd/fakes)"
go build -o "$store/fakes" ./cmd/fakes
"$store/fakes" -env-file "$store/fakes.env" >"$store/fakes.log" 2>&1 &
fakes_pid=$!
wait_for 30 "cmd/fakes to write its env file" grep -q '^FAKE_TELEGRAM_URL=' "$store/fakes.env"
fake_tg=$(sed -n 's/^FAKE_TELEGRAM_URL=//p' "$store/fakes.env")
echo "fake Telegram at $fake_tg"

step "run $image (128 MiB, read-only root, /data volume, host network)"
# A named volume starts as a copy of the image's /data, owner included, so
# the store opening proves uid 65532 can write there, as under compose.
"${P[@]}" volume create "$name-data" >/dev/null
port=$(freeport)
base=http://127.0.0.1:$port
t0=$(now)
"${P[@]}" run -d --name "$name" --network host --memory 128m \
  --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 --read-only \
  -v "$name-data:/data" -e CRYPTOBOT_STORE__URL=sqlite:/data/cryptobot.db \
  --health-interval disable \
  --env-file "$store/fakes.env" \
  -e CRYPTOBOT_HTTP__LISTEN="127.0.0.1:$port" -e CRYPTOBOT_METRICS__LISTEN="127.0.0.1:$port" \
  "$image" >/dev/null 2>"$store/run.err" || { cat "$store/run.err"; die "podman run failed"; }
# run.err also holds podman's complaint that it cannot add systemd timers for
# the HEALTHCHECK: there is no systemd here, `podman healthcheck run` below works.
logs() { "${P[@]}" logs "$name" 2>&1 | tail -30; }
wait_for 30 /healthz curl -fs "$base/healthz" || { logs; die "/healthz never answered"; }
healthz_s=$(elapsed "$t0" "$(now)")
wait_for 30 /readyz curl -fs "$base/readyz" || { curl -s "$base/readyz"; logs; die "/readyz never became ready"; }
ready_s=$(elapsed "$t0" "$(now)")
echo "healthz after ${healthz_s}s, ready after ${ready_s}s: $(curl -s "$base/readyz")"
"${P[@]}" healthcheck run "$name" >/dev/null || { logs; die "the image's HEALTHCHECK (/cryptobot healthcheck) failed"; }
echo "HEALTHCHECK command: healthy"
data_dir=$("${P[@]}" volume inspect --format '{{.Mountpoint}}' "$name-data")
[ -s "$data_dir/cryptobot.db" ] || { ls -la "$data_dir"; logs; die "no SQLite store in the /data volume"; }
[ "$(stat -c %u "$data_dir/cryptobot.db")" = "$uid" ] || die "the store file is not owned by the image user $uid"
echo "store: $(stat -c '%u:%g %s bytes' "$data_dir/cryptobot.db") in the /data volume"

step "/price btc through the fake Telegram"
t0=$(now)
curl -fsS -H 'Content-Type: application/json' \
  -d '{"chat_id":1,"user_id":1,"chat_type":"private","text":"/price btc"}' "$fake_tg/control/messages" >/dev/null
replied() { curl -fs "$fake_tg/control/sent" | grep -q 'BTC-USDT'; }
wait_for 20 "a reply containing BTC-USDT" replied || { curl -s "$fake_tg/control/sent"; logs; die "no /price reply"; }
reply_s=$(elapsed "$t0" "$(now)")
echo "reply after ${reply_s}s: $(curl -fs "$fake_tg/control/sent" | head -c 300)"

step "memory"
pid=$("${P[@]}" inspect --format '{{.State.Pid}}' "$name")
rss_kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
proc_uid=$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")
[ "$proc_uid" != 0 ] || die "the bot runs as root inside the container"
cgroup_usage=$("${P[@]}" stats --no-stream --format '{{.MemUsage}}' "$name" 2>/dev/null || echo n/a)
metrics=$(curl -fs "$base/metrics")
gomemlimit=$(awk '$1 == "go_gc_gomemlimit_bytes" { printf "%d", $2 }' <<<"$metrics")
[ -n "$gomemlimit" ] || die "no go_gc_gomemlimit_bytes in /metrics"
# automemlimit: 90 % of the 128 MiB cgroup limit.
if [ "$gomemlimit" -gt $(( 128 * 1024 * 1024 )) ] || [ "$gomemlimit" -lt $(( 100 * 1024 * 1024 )) ]; then
  die "GOMEMLIMIT is $gomemlimit, want about 0.9 x 128 MiB (cgroup limit not applied?)"
fi

step "graceful stop"
t0=$(now)
"${P[@]}" stop -t 15 "$name" >/dev/null 2>&1 # podman also complains about systemd timers here
stop_s=$(elapsed "$t0" "$(now)")
exit_code=$("${P[@]}" inspect --format '{{.State.ExitCode}}' "$name")
[ "$exit_code" = 0 ] || { logs; die "exit code $exit_code after SIGTERM, want 0"; }

printf '\n==> figures\n'
printf '  %-28s %s\n' \
  "image size" "$(awk -v b="$size" 'BEGIN { printf "%.1f MB (%d bytes)", b / 1e6, b }')" \
  "image user" "$user (process uid $proc_uid)" \
  "build time" "${build_s}s" \
  "cold start: run -> /healthz" "${healthz_s}s" \
  "cold start: run -> /readyz" "${ready_s}s" \
  "/price btc reply" "${reply_s}s" \
  "RSS after first reply" "$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f MiB", k / 1024 }')" \
  "cgroup memory (podman)" "$cgroup_usage" \
  "GOMEMLIMIT" "$(awk -v b="$gomemlimit" 'BEGIN { printf "%.1f MiB (%d)", b / 1048576, b }')" \
  "SIGTERM -> exit 0" "${stop_s}s"
echo
echo "image checks passed"
