#!/bin/sh
# Soak test: runs the bot for 10 minutes at 50 updates/s against the fakes and
# fails if goroutines, heap or RSS grow between the first and last third of
# the run (medians of samples every 5 s; allowed growth max(20 %, 10
# goroutines / 5 MiB)), or if any update is lost or answered twice.
#
#   scripts/soak.sh                       # 10 minutes, 50/s
#   scripts/soak.sh -soak 2m -rate 100    # any loadgen flag overrides
#
# Writes the JSON result to ${SOAK_JSON:-soak.json}. See go run ./cmd/loadgen -h.
set -eu
cd "$(dirname "$0")/.."
exec go run ./cmd/loadgen -soak 10m -rate 50 -chats 1000 -warm -json "${SOAK_JSON:-soak.json}" "$@"
