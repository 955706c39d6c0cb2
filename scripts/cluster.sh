#!/usr/bin/env bash
# `make cluster` (issue 16): the platform as a cluster on this machine. A
# pg_auto_failover monitor and two PostgreSQL nodes with synchronous
# replication (scripts/ha.sh, data in var/cluster, ports CLUSTER_PG_PORT
# (default 26430) for the monitor and the next two for the nodes), the
# migrations applied through the primary, and two replicas of each daemon:
# user-service on 50061 and 50062, wallet-service on 50071 and 50072 (or
# USER_PORTS / WALLET_PORTS), each dialling the other's replicas round robin
# and the database through one multi-host URL that follows the primary.
# The replicas share one page-token secret (var/cluster-page-token-secret,
# made once; PAGE_TOKEN_SECRET_FILE overrides it), so a next_page_token
# from one replica is accepted by the other.
# Logs interleaved, labelled by replica; Ctrl-C drains the daemons and stops
# the PostgreSQL nodes and the monitor.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
var=${VAR_DIR:-var}
mkdir -p "$var"
exec 9>"$var/cluster.lock"
flock -n 9 || { echo "make cluster: already running; stop it with Ctrl-C in its terminal" >&2; exit 1; }

read -r -a user_ports <<<"${USER_PORTS:-50061 50062}"
read -r -a wallet_ports <<<"${WALLET_PORTS:-50071 50072}"
for port in "${user_ports[@]}" "${wallet_ports[@]}"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "make cluster: port $port is already in use; set USER_PORTS / WALLET_PORTS" >&2
    exit 1
  fi
done
list() { local p out=""; for p in "$@"; do out+="${out:+,}127.0.0.1:$p"; done; echo "$out"; }

pids=()
stop_all() {
  trap - INT TERM EXIT
  [ ${#pids[@]} -eq 0 ] || kill -TERM "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  bash scripts/ha.sh down "$var/cluster" && echo "make cluster: PostgreSQL nodes and monitor stopped (data kept in $var/cluster)" >&2
}
trap stop_all EXIT
trap 'exit 130' INT TERM

echo "make cluster: starting the monitor and two PostgreSQL nodes in $var/cluster" >&2
DATABASE_URL=$(bash scripts/ha.sh up "$var/cluster" "${CLUSTER_PG_PORT:-26430}" 9>&-)
export DATABASE_URL METRICS_ADDR=0
if [ -z "${PAGE_TOKEN_SECRET_FILE:-}" ]; then
  PAGE_TOKEN_SECRET_FILE=$(realpath "$var")/cluster-page-token-secret
  [ -s "$PAGE_TOKEN_SECRET_FILE" ] || (umask 077 && openssl rand -base64 32 >"$PAGE_TOKEN_SECRET_FILE")
fi
export PAGE_TOKEN_SECRET_FILE
echo "make cluster: DATABASE_URL=$DATABASE_URL" >&2
bash scripts/migrate.sh

# Each replica's lines get its name in front; sed -u keeps them line-buffered.
start() {
  local label=$1 daemon=$2
  shift 2
  # setsid: Ctrl-C reaches only this script, which then signals each daemon once (drain).
  setsid env "$@" "${BIN_DIR:-bin}/$daemon" 9>&- 2> >(trap "" INT; exec sed -u "s|^|[$label] |" >&2) &
  pids+=($!)
}
for i in "${!user_ports[@]}"; do
  start "user-service/$((i + 1))" user-service USER_SERVICE_URL="127.0.0.1:${user_ports[$i]}" \
    WALLET_SERVICE_URL="$(list "${wallet_ports[@]}")"
done
for i in "${!wallet_ports[@]}"; do
  start "wallet-service/$((i + 1))" wallet-service WALLET_SERVICE_URL="127.0.0.1:${wallet_ports[$i]}" \
    USER_SERVICE_URL="$(list "${user_ports[@]}")"
done
echo "make cluster: user-service on $(list "${user_ports[@]}"), wallet-service on $(list "${wallet_ports[@]}"); Ctrl-C stops it all" >&2
# Any replica exiting on its own (a crash, a bad flag) stops the rest.
wait -n "${pids[@]}" || true
