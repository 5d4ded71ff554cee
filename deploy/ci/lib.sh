# Helpers the deploy/ci scripts share; source it, do not run it.

step() { printf '\n==> %s\n' "$*"; }

# freeport: a random loopback port nothing listens on (bash only, no python).
freeport() {
  local p
  for _ in $(seq 50); do
    p=$(( 20000 + RANDOM % 40000 ))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  return 1
}
