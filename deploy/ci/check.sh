#!/usr/bin/env bash
# Static checks of the deploy kit, no container engine needed:
#   - the Dockerfile with BuildKit's linter (tools/dockerlint);
#   - the compose files with compose-go and the 1 GB host rules (tools/composecheck);
#   - the tools module's own tests;
#   - the systemd unit with systemd-analyze verify;
#   - the Caddyfiles with caddy adapt --validate, for ports 443 and 8443,
#     and in front of stubs: only POST /webhook passes, and the HA one keeps
#     answering when one of its two upstreams is gone;
#   - the Kubernetes manifests with tools/k8scheck (strict k8s.io/api decode,
#     probes, ports, env, mounts against the bot) and kubectl kustomize when
#     kubectl is there.
# Usage: deploy/ci/check.sh   (from anywhere; installs caddy with apt if missing)
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/ci/lib.sh
root=$PWD

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 143' INT TERM

step "Dockerfile lint (BuildKit rules)"
(cd tools && go run ./dockerlint "$root/Dockerfile")
echo "Dockerfile: no findings"

step "compose files"
(cd tools && go run ./composecheck "$root/deploy/docker-compose.yml")
(cd tools && go run ./composecheck "$root/deploy/docker-compose.yml" "$root/deploy/docker-compose.staging.yml")
# Two replicas and Postgres: a 2 GB host.
(cd tools && go run ./composecheck -max-total 1152MiB -limit bot-1=128MiB,bot-2=128MiB -bot bot-1,bot-2 "$root/deploy/docker-compose.ha.yml")

step "tools tests"
(cd tools && go vet ./... && go test -race -count=1 ./...)

step "systemd unit"
if command -v systemd-analyze >/dev/null 2>&1; then
  # verify insists that ExecStart exists: point it at a stand-in binary.
  sed "s#^ExecStart=.*#ExecStart=$(command -v true)#" deploy/systemd/cryptobot.service >"$tmp/cryptobot.service"
  out=$(systemd-analyze verify "$tmp/cryptobot.service" 2>&1) || { echo "$out"; exit 1; }
  # Unknown keys are only warnings there; treat any output as a failure.
  if [ -n "$out" ]; then echo "$out"; exit 1; fi
  echo "systemd-analyze verify: clean"
  systemd-analyze security --offline=yes "$tmp/cryptobot.service" 2>/dev/null | tail -1 || true
else
  echo "systemd-analyze not installed: unit not verified"
fi

step "Caddyfile"
if ! command -v caddy >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends caddy) >/dev/null
fi
for port in 443 8443; do
  CRYPTOBOT_DOMAIN=bot.example.com CRYPTOBOT_HTTPS_PORT=$port \
    caddy adapt --config deploy/caddy/Caddyfile --validate >"$tmp/caddy.json" 2>"$tmp/caddy.log" \
    || { cat "$tmp/caddy.log"; exit 1; }
  grep -q "\"listen\":\[\":$port\"\]" "$tmp/caddy.json" || { echo "Caddyfile does not listen on :$port"; exit 1; }
  echo "Caddyfile valid for port $port"
done

for port in 443 8443; do
  CRYPTOBOT_DOMAIN=bot.example.com CRYPTOBOT_HTTPS_PORT=$port CRYPTOBOT_UPSTREAMS="bot-1:8080 bot-2:8080" \
    caddy adapt --config deploy/caddy/Caddyfile.ha --validate >"$tmp/caddy-ha.json" 2>"$tmp/caddy.log" \
    || { cat "$tmp/caddy.log"; exit 1; }
  grep -q "\"listen\":\[\":$port\"\]" "$tmp/caddy-ha.json" || { echo "Caddyfile.ha does not listen on :$port"; exit 1; }
  grep -q '"uri":"/readyz"' "$tmp/caddy-ha.json" || { echo "Caddyfile.ha has no active health check on /readyz"; exit 1; }
  echo "Caddyfile.ha valid for port $port"
done

# await_webhook PORT: poll POST /webhook on the loopback front until it
# answers 2xx, for at most ten seconds.
await_webhook() {
  for _ in $(seq 100); do
    curl -fs -o /dev/null -X POST "http://127.0.0.1:$1/webhook" && return 0
    sleep 0.1
  done
}

# Behaviour, over plain HTTP on loopback: only POST /webhook reaches the bot.
up=$(freeport) front=$(freeport)
export XDG_DATA_HOME="$tmp/caddy-data" XDG_CONFIG_HOME="$tmp/caddy-config"
timeout 60 caddy respond --listen "127.0.0.1:$up" --body bot >"$tmp/up.log" 2>&1 &
up_pid=$!
CADDY_ADMIN=off CRYPTOBOT_DOMAIN=http://127.0.0.1 CRYPTOBOT_HTTPS_PORT=$front CRYPTOBOT_UPSTREAM=127.0.0.1:$up \
  timeout 60 caddy run --config deploy/caddy/Caddyfile --adapter caddyfile >"$tmp/front.log" 2>&1 &
front_pid=$!
trap 'kill $up_pid $front_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
await_webhook "$front"
fail=0
for req in "POST /webhook 200" "GET /webhook 404" "GET /metrics 404" "GET /readyz 404" "GET /healthz 404" "POST /webhook/x 404"; do
  read -r method path want <<<"$req"
  got=$(curl -s -o /dev/null -w '%{http_code}' -X "$method" "http://127.0.0.1:$front$path")
  if [ "$got" = "$want" ]; then echo "  $method $path -> $got"; else echo "  $method $path -> $got, want $want"; fail=1; fi
done
kill $up_pid $front_pid 2>/dev/null || true
if [ $fail -ne 0 ]; then cat "$tmp/up.log" "$tmp/front.log"; exit 1; fi

# HA: two stubs behind Caddyfile.ha; with one gone, webhooks still pass
# (the refused connection is retried on the other within lb_try_duration).
up1=$(freeport) up2=$(freeport) front=$(freeport)
timeout 60 caddy respond --listen "127.0.0.1:$up1" --body bot-1 >"$tmp/up1.log" 2>&1 &
up1_pid=$!
timeout 60 caddy respond --listen "127.0.0.1:$up2" --body bot-2 >"$tmp/up2.log" 2>&1 &
up2_pid=$!
# Both stubs answer before Caddy's first active health check, or it marks
# one down until the next check (health_interval) and round robin sees one.
for port in "$up1" "$up2"; do
  for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
CADDY_ADMIN=off CRYPTOBOT_DOMAIN=http://127.0.0.1 CRYPTOBOT_HTTPS_PORT=$front \
  CRYPTOBOT_UPSTREAMS="127.0.0.1:$up1 127.0.0.1:$up2" \
  timeout 60 caddy run --config deploy/caddy/Caddyfile.ha --adapter caddyfile >"$tmp/front-ha.log" 2>&1 &
front_pid=$!
trap 'kill $up1_pid $up2_pid $front_pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
await_webhook "$front"
# A health check may still be settling: look for both for up to 5 s.
seen=""
for _ in $(seq 25); do
  seen="$seen $(curl -s -X POST "http://127.0.0.1:$front/webhook")"
  case "$seen" in *bot-1*bot-2*|*bot-2*bot-1*) break ;; esac
  sleep 0.2
done
case "$seen" in *bot-1*bot-2*|*bot-2*bot-1*) echo "  round robin over both replicas:$seen" ;;
  *) echo "  POST /webhook reached only:$seen (want both replicas)"; fail=1 ;; esac
for req in "GET /readyz 404" "GET /metrics 404"; do
  read -r method path want <<<"$req"
  got=$(curl -s -o /dev/null -w '%{http_code}' -X "$method" "http://127.0.0.1:$front$path")
  if [ "$got" = "$want" ]; then echo "  $method $path -> $got"; else echo "  $method $path -> $got, want $want"; fail=1; fi
done
kill $up2_pid 2>/dev/null || true
wait $up2_pid 2>/dev/null || true
for i in 1 2 3 4; do
  got=$(curl -s -w ' %{http_code}' -X POST "http://127.0.0.1:$front/webhook")
  if [ "$got" = "bot-1 200" ]; then echo "  bot-2 gone, POST /webhook #$i -> $got"; else echo "  bot-2 gone, POST /webhook #$i -> $got, want bot-1 200"; fail=1; fi
done
kill $up1_pid $front_pid 2>/dev/null || true
if [ $fail -ne 0 ]; then cat "$tmp/up1.log" "$tmp/up2.log" "$tmp/front-ha.log"; exit 1; fi

step "Kubernetes manifests"
(cd tools && go run ./k8scheck "$root")
if command -v kubectl >/dev/null 2>&1; then
  kubectl kustomize deploy/kubernetes >"$tmp/k8s.yaml"
  echo "kubectl kustomize: $(grep -c '^kind:' "$tmp/k8s.yaml") objects"
else
  echo "kubectl not installed: kustomize build not run (tools/k8scheck still decodes every manifest)"
fi

echo
echo "deploy checks passed"
