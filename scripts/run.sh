#!/usr/bin/env bash
# `make run`: both daemons in the foreground with their JSON logs interleaved
# and labelled. Without DATABASE_URL it starts a project-local PostgreSQL in
# var/pg (port PG_PORT, default 55432, data kept between runs). Migrations are
# applied either way. Ctrl-C drains the daemons and stops what this started.
# VAR_DIR (default var/) holds the lock, the pid and the local cluster.
# TLS=1 (`make run TLS=1`): mutual TLS with throwaway certificates made in
# var/tls by scripts/tls.sh (a CA, both daemons, a client with the admin
# identity) and the example policy config/authz-policy.json.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
var=${VAR_DIR:-var}
mkdir -p "$var"

# One `make run` at a time: the lock is released when this shell exits
# (children get `9>&-` so a server it starts cannot keep holding it).
exec 9>"$var/run.lock"
if ! flock -n 9; then
  echo "make run: already running (pid $(cat "$var/run.pid" 2>/dev/null || echo '?')); stop it with Ctrl-C in its terminal" >&2
  exit 1
fi
echo $$ >"$var/run.pid"

user_addr=${USER_SERVICE_URL:-0.0.0.0:50051}
wallet_addr=${WALLET_SERVICE_URL:-0.0.0.0:50052}
for addr in "$user_addr" "$wallet_addr"; do
  port=${addr##*:}
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "make run: port $port is already in use; stop what holds it or set USER_SERVICE_URL / WALLET_SERVICE_URL" >&2
    exit 1
  fi
done

started_pg=0
pids=()
stop_all() {
  trap - INT TERM EXIT
  [ ${#pids[@]} -eq 0 ] || kill -TERM "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ "$started_pg" = 1 ]; then
    bash scripts/pg.sh stop "$var/pg" && echo "make run: local PostgreSQL stopped (data kept in $var/pg)" >&2
  fi
  rm -f "$var/run.pid"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

# The daemons connect as DATABASE_URL (the role wallet_app); migrations run as
# MIGRATE_DATABASE_URL (a superuser, or the owner role wallet_owner; default
# DATABASE_URL). The local PostgreSQL: migrations as its superuser postgres.
if [ -z "${DATABASE_URL:-}" ]; then
  MIGRATE_DATABASE_URL=$(bash scripts/pg.sh start "$var/pg" "${PG_PORT:-55432}" 9>&-)
  DATABASE_URL=$(bash scripts/app-url.sh "$MIGRATE_DATABASE_URL")
  started_pg=1
  echo "make run: local PostgreSQL at $DATABASE_URL (data in $var/pg)" >&2
fi
export DATABASE_URL USER_SERVICE_URL="$user_addr" WALLET_SERVICE_URL="$wallet_addr"
DATABASE_URL=${MIGRATE_DATABASE_URL:-$DATABASE_URL} bash scripts/migrate.sh

tls=${TLS:-0}
if [ "$tls" = 1 ]; then
  bash scripts/tls.sh init "$var/tls"
  export TLS_CA_FILE="$var/tls/ca.crt" AUTHZ_POLICY_FILE=config/authz-policy.json \
    USER_SERVICE_TLS_NAME=user-service WALLET_SERVICE_TLS_NAME=wallet-service
  echo "make run: mutual TLS with the certificates in $var/tls and the policy in $AUTHZ_POLICY_FILE" >&2
fi

# Each daemon's lines get its name in front; sed -u keeps them line-buffered.
for daemon in user-service wallet-service; do
  own=()
  [ "$tls" != 1 ] || own=(TLS_CERT_FILE="$var/tls/$daemon.crt" TLS_KEY_FILE="$var/tls/$daemon.key")
  # setsid: Ctrl-C reaches only this script, which then signals each daemon once (drain).
  setsid env "${own[@]}" "${BIN_DIR:-bin}/$daemon" 9>&- 2> >(trap "" INT; exec sed -u "s/^/[$daemon] /" >&2) &
  pids+=($!)
done
echo "make run: user-service on $user_addr, wallet-service on $wallet_addr; Ctrl-C stops both" >&2
# Either daemon exiting on its own (a crash, a bad flag) stops the other.
wait -n "${pids[@]}" || true
