#!/usr/bin/env bash
# Live proof of the HA deploy kit without a container engine: Postgres (the
# Debian binaries), cmd/fakes (Telegram pushing webhooks, exchanges), two bot
# processes in webhook mode on the one store.url, and caddy/Caddyfile.ha in
# front of them as in docker-compose.ha.yml. Then:
#   1. /price from 20 chats through Caddy: every chat answered once;
#   2. SIGKILL one replica, 20 more chats: every one answered once (Caddy
#      routes around the dead replica: refused dial retried, /readyz check);
#   3. stop Postgres, 10 more chats, start it again: the replicas answer 503
#      meanwhile and leave the load balancer (/readyz), the fake Telegram
#      redelivers, and after the restart every chat is answered once.
# Prints the figures; exits non-zero on any failure; every wait is bounded.
#
# Usage: deploy/ci/ha-live.sh   (root: Postgres runs as the postgres user;
#        needs caddy and /usr/lib/postgresql/*/bin, as check.sh and .ci/run install)
set -euo pipefail
cd "$(dirname "$0")/../.."
. deploy/ci/lib.sh

die() { echo "ha-live.sh: $*" >&2; exit 1; }
wait_for() { # SECONDS DESCRIPTION COMMAND...
  local deadline=$(( $(date +%s) + $1 )) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "timed out waiting for $what" >&2; return 1; }
    sleep 0.2
  done
}

pgbin=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
[ -x "$pgbin/postgres" ] || die "no Postgres binaries under /usr/lib/postgresql"
command -v caddy >/dev/null || die "caddy not installed"

tmp=$(mktemp -d /var/tmp/cryptobot-ha.XXXXXX)
chmod 755 "$tmp"
pids=()
cleanup() {
  local rc=$?
  if [ $rc -ne 0 ]; then
    for f in bot-1.log bot-2.log pg.log; do
      [ -f "$tmp/$f" ] && { echo "--- $f"; tail -15 "$tmp/$f"; }
    done
  fi
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${KEEP_TMP:-}" = 1 ]; then echo "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 143' INT TERM

step "build"
bin=${HA_BIN:-$tmp}
if [ ! -x "$bin/cryptobot" ] || [ ! -x "$bin/fakes" ]; then
  go build -o "$bin/cryptobot" ./cmd/server
  go build -o "$bin/fakes" ./cmd/fakes
fi

step "Postgres ($pgbin)"
pgport=$(freeport)
mkdir "$tmp/pg" && chown postgres: "$tmp/pg"
runuser -u postgres -- "$pgbin/initdb" -D "$tmp/pg/data" -U postgres --auth=trust -E UTF8 --locale=C --no-sync >"$tmp/initdb.log" 2>&1 \
  || { cat "$tmp/initdb.log"; die "initdb failed"; }
pg_start() {
  runuser -u postgres -- "$pgbin/postgres" -D "$tmp/pg/data" -p "$pgport" -h 127.0.0.1 -k "" \
    -c max_connections=50 -c shared_buffers=16MB >>"$tmp/pg.log" 2>&1 &
  pg_pid=$!
  pids+=("$pg_pid")
  wait_for 30 "Postgres to accept connections" "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$pgport"
}
pg_start
store_url="postgres://postgres@127.0.0.1:$pgport/postgres?sslmode=disable"

step "fakes, Caddy (Caddyfile.ha), two replicas"
"$bin/fakes" -env-file "$tmp/fakes.env" >"$tmp/fakes.log" 2>&1 &
pids+=($!)
wait_for 30 "cmd/fakes' env file" grep -q '^FAKE_TELEGRAM_URL=' "$tmp/fakes.env"
tg=$(sed -n 's/^FAKE_TELEGRAM_URL=//p' "$tmp/fakes.env")

front=$(freeport) p1=$(freeport) p2=$(freeport)
export XDG_DATA_HOME="$tmp/caddy-data" XDG_CONFIG_HOME="$tmp/caddy-config"
CADDY_ADMIN=off CRYPTOBOT_DOMAIN=http://127.0.0.1 CRYPTOBOT_HTTPS_PORT=$front \
  CRYPTOBOT_UPSTREAMS="127.0.0.1:$p1 127.0.0.1:$p2" \
  caddy run --config deploy/caddy/Caddyfile.ha --adapter caddyfile >"$tmp/caddy.log" 2>&1 &
pids+=($!)

declare -A bot_pid
start_bot() { # NAME PORT
  # The environment docker-compose.ha.yml gives each replica, on loopback ports.
  env $(grep -v '^FAKE_' "$tmp/fakes.env") \
    CRYPTOBOT_TELEGRAM__MODE=webhook \
    CRYPTOBOT_TELEGRAM__WEBHOOK__URL="http://127.0.0.1:$front/webhook" \
    CRYPTOBOT_TELEGRAM__WEBHOOK__SECRET=ha-live-secret \
    CRYPTOBOT_HTTP__LISTEN="127.0.0.1:$2" CRYPTOBOT_METRICS__LISTEN="127.0.0.1:$2" \
    CRYPTOBOT_STORE__URL="$store_url" CRYPTOBOT_FLAGS__DIR=flags \
    "$bin/cryptobot" >"$tmp/$1.log" 2>&1 &
  bot_pid[$1]=$!
  pids+=($!)
}
start_bot bot-1 "$p1"
wait_for 30 "bot-1 /readyz" curl -fs "http://127.0.0.1:$p1/readyz"
start_bot bot-2 "$p2"
wait_for 30 "bot-2 /readyz" curl -fs "http://127.0.0.1:$p2/readyz"
echo "both replicas ready; Caddy on :$front"

# ask FIRST LAST: /price btc from chats FIRST..LAST, through the fake Telegram.
ask() {
  for chat in $(seq "$1" "$2"); do
    curl -fsS -H 'Content-Type: application/json' \
      -d "{\"chat_id\":$chat,\"user_id\":$chat,\"chat_type\":\"private\",\"text\":\"/price btc\"}" \
      "$tg/control/messages" >/dev/null
  done
}
# answered N SECONDS: wait until N messages were sent in all, then check
# every chat got exactly one.
answered() {
  local n=$1 secs=$2 t0 out
  t0=$(date +%s.%N)
  out=$(curl -fsS "$tg/control/sent?wait=$n&timeout=${secs}s") || { echo "fewer than $n replies after ${secs}s: $(curl -fsS "$tg/control/sent" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')"; return 1; }
  python3 -c '
import collections, json, sys
sent = json.load(sys.stdin)
per = collections.Counter(m["chat_id"] for m in sent)
twice = sorted(c for c, k in per.items() if k > 1)
print(f"  {len(sent)} replies to {len(per)} chats, answered twice: {twice or 0}")
sys.exit(1 if twice or len(per) != int(sys.argv[1]) else 0)' "$n" <<<"$out"
  awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "  after %.2fs\n", b - a }'
}

step "1. 20 chats over both replicas"
ask 1 20
answered 20 30 || die "not every chat answered once"
statuses() { # webhook answers Caddy logged, by status
  grep '"logger":"http.log.access' "$tmp/caddy.log" | grep -o '"status":[0-9]*' | sort | uniq -c | tr -s ' \n' ' '
}
echo "  webhook answers through Caddy (count status):$(statuses)"

step "2. SIGKILL bot-2, 20 more chats"
kill -9 "${bot_pid[bot-2]}"
ask 21 40
answered 40 30 || die "not every chat answered once with bot-2 dead"

step "3. Postgres down, 10 more chats, Postgres back"
kill -INT "$(head -1 "$tmp/pg/data/postmaster.pid")" # the postmaster: fast shutdown
wait_for 30 "Postgres to stop" sh -c "! '$pgbin/pg_isready' -q -h 127.0.0.1 -p $pgport"
wait_for 20 "bot-1 /readyz to fail" sh -c "! curl -fs http://127.0.0.1:$p1/readyz"
echo "  bot-1 /readyz while Postgres is down: $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p1/readyz")"
ask 41 50
# A delivery must fail while Postgres is down (the replica's 503, or Caddy's
# own once no replica passes /readyz) before Postgres comes back.
wait_for 30 "a failed webhook delivery in Caddy's log" grep -q '"status":50[23]' "$tmp/caddy.log"
before=$(curl -fsS "$tg/control/sent" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
echo "  replies while Postgres was down: $(( before - 40 ))"
pg_start
wait_for 60 "bot-1 /readyz again" curl -fs "http://127.0.0.1:$p1/readyz" \
  || die "bot-1 not ready 60 s after Postgres came back: $(curl -s "http://127.0.0.1:$p1/readyz")"
answered 50 60 || die "not every chat answered once after Postgres came back"
echo "  webhook answers through Caddy (count status):$(statuses)"

echo
echo "ha live checks passed"
