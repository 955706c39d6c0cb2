#!/usr/bin/env bash
# A PostgreSQL cluster with automatic failover (issue 16), made of Debian's
# pg_auto_failover: a monitor and two nodes (a primary and a synchronous
# standby) on loopback, all under DIR, ports BASE (monitor), BASE+1, BASE+2.
# Used by `make cluster` (var/cluster) and `make test-ha` (a temp dir).
#   ha.sh up DIR BASE        create on first use, start all three, wait for
#                            primary + secondary; prints the DATABASE_URL
#   ha.sh down DIR           stop everything (fast shutdown)
#   ha.sh crash DIR NODE     kill -9 a node's pg_autoctl and its PostgreSQL
#   ha.sh start DIR NODE     run a node again (it rejoins as a standby)
#   ha.sh wait DIR           wait until one primary and one secondary
#   ha.sh switchover DIR     a planned switchover once the standby has all
#                            the primary wrote, waited for
#   ha.sh primary DIR        the name (n1 or n2) of the current primary
#   ha.sh events DIR [N]     the monitor's last N (40) events, oldest first
#   ha.sh url DIR            the DATABASE_URL
# pg_autoctl keeps state under $HOME and $XDG_*: they point into DIR, so
# nothing outside it is touched. PostgreSQL refuses root: as root, all runs
# as the postgres user (or nobody).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
command -v pg_autoctl >/dev/null || { echo "ha.sh: pg_autoctl missing; run scripts/deps.sh" >&2; exit 1; }
cmd=${1:?usage: ha.sh up DIR BASE | down DIR | crash DIR NODE | start DIR NODE | wait DIR | switchover DIR | primary DIR | events DIR [N]}
dir=${2:?directory}
dir=$(mkdir -p "$dir" && cd "$dir" && pwd)
home="$dir/home"

owner=$(id -un)
if [ "$(id -u)" -eq 0 ]; then
  owner=postgres
  id "$owner" >/dev/null 2>&1 || owner=nobody
fi
# Runs a command as the owner, with the cluster's own HOME and XDG dirs.
# SETSID=1: in a session of its own, led by the pid the caller gets in $!.
as_owner() {
  local envs=(HOME="$home" XDG_CONFIG_HOME="$home/.config" XDG_DATA_HOME="$home/.local"
              XDG_RUNTIME_DIR="$home/run" PATH="$bindir:$PATH" PG_CONFIG="$bindir/pg_config")
  local pre=()
  [ "${SETSID:-0}" = 0 ] || pre=(exec setsid) # backgrounded: $! is then the session's leader
  if [ "$(id -u)" -eq 0 ]; then
    "${pre[@]}" runuser -u "$owner" -- env "${envs[@]}" "$@"
  else
    "${pre[@]}" env "${envs[@]}" "$@"
  fi
}
monitor_url() { echo "postgres://autoctl_node@127.0.0.1:$(cat "$dir/base")/pg_auto_failover?sslmode=disable"; }
# The daemons' DATABASE_URL: both nodes, libpq picks the one taking writes.
url() { echo "postgresql://postgres@127.0.0.1:$(port_of n1),127.0.0.1:$(port_of n2)/wallet?target_session_attrs=read-write&connect_timeout=2"; }
port_of() { echo $(($(cat "$dir/base") + ${1#n})); }

# Starts `pg_autoctl run` for NAME in its own session (so crash can kill the
# whole group), logging to DIR/NAME.log; the pid goes to DIR/NAME.pid.
run_node() {
  local name=$1
  shift
  SETSID=1 as_owner "$@" >>"$dir/$name.log" 2>&1 </dev/null 9>&- &
  echo $! >"$dir/$name.pid"
}

state() { as_owner pg_autoctl show state --pgdata "$dir/monitor" 2>/dev/null || true; }

# One primary and one secondary, both reported and assigned. A standby's
# pg_basebackup waits for a checkpoint on the primary (minutes when spread
# over checkpoint_timeout): ask for one while waiting.
wait_healthy() {
  local limit=${1:-90} i s
  for ((i = 0; i < limit * 2; i++)); do
    s=$(state)
    if [ "$(grep -cE '\| +primary \| +primary *$' <<<"$s")" = 1 ] &&
       [ "$(grep -cE '\| +secondary \| +secondary *$' <<<"$s")" = 1 ]; then
      return 0
    fi
    if grep -qE 'catchingup' <<<"$s" && ((i % 4 == 1)); then
      local p
      for p in n1 n2; do
        psql -X -q -h 127.0.0.1 -p "$(port_of $p)" -U postgres -d postgres -c CHECKPOINT >/dev/null 2>&1 || true
      done
    fi
    sleep 0.5
  done
  echo "ha.sh: cluster not healthy after ${limit}s:" >&2
  echo "$s" >&2
  return 1
}

# The current primary's name (n1, n2), from the monitor.
primary_name() { state | awk -F'|' '$7 ~ /primary/ && $6 ~ /primary/ { gsub(/ /, "", $1); print $1 }'; }

# Waits until the standby has flushed every WAL byte the primary had written
# when called. pg_auto_failover's switchover does not wait for that itself:
# the standby's prepare_promotion relies on synchronous replication. But a
# primary that was alone (wait_primary: a lost or late standby) acknowledged
# commits the standby did not have, and the monitor turns synchronous
# replication back on once the standby is within
# pgautofailover.enable_sync_wal_log_threshold (16 MB) of it, not when it has
# everything: switching over then would lose those acknowledged writes.
wait_caught_up() {
  local limit=${1:-60} port lsn i
  port=$(port_of "$(primary_name)")
  lsn=$(psql -X -At -h 127.0.0.1 -p "$port" -U postgres -d postgres -c 'SELECT pg_current_wal_lsn()')
  for ((i = 0; i < limit * 4; i++)); do
    [ "$(psql -X -At -h 127.0.0.1 -p "$port" -U postgres -d postgres -c \
      "SELECT count(*) FROM pg_stat_replication WHERE sync_state IN ('sync', 'quorum') AND flush_lsn >= '$lsn'")" = 1 ] &&
      return 0
    sleep 0.25
  done
  echo "ha.sh: the standby has not flushed $lsn after ${limit}s" >&2
  return 1
}

case "$cmd" in
  up)
    base=${3:?base port}
    echo "$base" >"$dir/base"
    mkdir -p "$home/run"
    chmod 700 "$home/run"
    [ "$(id -u)" -ne 0 ] || chown -R "$owner" "$dir"
    if [ ! -f "$dir/monitor/PG_VERSION" ]; then
      as_owner pg_autoctl create monitor --pgdata "$dir/monitor" --pgport "$base" \
        --hostname 127.0.0.1 --auth trust --no-ssl >>"$dir/monitor.log" 2>&1
    fi
    run_node monitor pg_autoctl run --pgdata "$dir/monitor"
    for ((i = 0; i < 60; i++)); do
      psql -X -q "$(monitor_url)" -c 'SELECT 1' >/dev/null 2>&1 && break
      sleep 0.5
    done
    # Defaults take ~50 s to replace a crashed primary: health checks every
    # second, a node unhealthy after 2 s, a lost primary demoted after 3 s.
    psql -X -q -U postgres -h 127.0.0.1 -p "$base" -d pg_auto_failover >/dev/null <<'SQL'
ALTER SYSTEM SET pgautofailover.health_check_period = 1000;
ALTER SYSTEM SET pgautofailover.health_check_timeout = 1000;
ALTER SYSTEM SET pgautofailover.health_check_max_retries = 1;
ALTER SYSTEM SET pgautofailover.health_check_retry_delay = 500;
ALTER SYSTEM SET pgautofailover.node_considered_unhealthy_timeout = 2000;
ALTER SYSTEM SET pgautofailover.primary_demote_timeout = 3000;
SELECT pg_reload_conf();
SQL
    for name in n1 n2; do
      if [ -f "$dir/$name/PG_VERSION" ]; then
        run_node "$name" pg_autoctl run --pgdata "$dir/$name"
      else
        run_node "$name" pg_autoctl create postgres --pgdata "$dir/$name" --pgport "$(port_of $name)" \
          --hostname 127.0.0.1 --auth trust --no-ssl --monitor "$(monitor_url)" --dbname wallet \
          --name "$name" --run
        # The first node must register first to become the primary.
        [ "$name" = n2 ] || for ((i = 0; i < 60; i++)); do
          grep -qE '\| +(single|wait_primary|primary) ' <<<"$(state)" && break
          sleep 0.5
        done
      fi
    done
    wait_healthy 120
    # No hot_standby_feedback (pg_auto_failover turns it on): nothing reads
    # from the standby (the daemons' URL asks for read-write), and with it the
    # primary may not clean up any row version the standby's last feedback
    # (every wal_receiver_status_interval, 10 s) could still see. A wallet
    # row credited a thousand times a second then carries ~10,000 dead
    # versions that every credit walks (issue 24: the cluster's credits ran
    # at a quarter to a third of the single server's, the primary spent 3x
    # its CPU per credit). ALTER SYSTEM outlives pg_autoctl's own
    # settings file, and a rebuilt node copies it from the other.
    for name in n1 n2; do
      psql -X -q -h 127.0.0.1 -p "$(port_of $name)" -U postgres -d postgres >/dev/null <<'SQL'
ALTER SYSTEM SET hot_standby_feedback = off;
SELECT pg_reload_conf();
SQL
    done
    # On a restart the monitor still shows the states of the last run: wait
    # for a primary that really takes writes.
    for ((i = 0; i < 120; i++)); do
      psql -X -q "$(url)" -c 'SELECT 1' >/dev/null 2>&1 && break
      sleep 0.5
    done
    url
    ;;
  url)
    url
    ;;
  down)
    for name in n1 n2 monitor; do
      [ -d "$dir/$name" ] && as_owner pg_autoctl stop --pgdata "$dir/$name" >/dev/null 2>&1 || true
    done
    for name in n1 n2 monitor; do
      pid=$(cat "$dir/$name.pid" 2>/dev/null) || continue
      for ((i = 0; i < 40; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
      kill -KILL -- "-$pid" 2>/dev/null || true
    done
    ;;
  crash)
    name=${3:?node}
    pid=$(cat "$dir/$name.pid")
    # The whole session: pg_autoctl, its supervised services and PostgreSQL
    # (killing only the postmaster would let pg_autoctl restart it in place).
    kill -KILL -- "-$pid" 2>/dev/null || true
    pkid=$(head -1 "$dir/$name/postmaster.pid" 2>/dev/null || true)
    [ -z "$pkid" ] || kill -KILL "$pkid" 2>/dev/null || true
    ;;
  start)
    name=${3:?node}
    run_node "$name" pg_autoctl run --pgdata "$dir/$name"
    ;;
  wait)
    wait_healthy "${3:-90}"
    ;;
  switchover)
    wait_healthy 60
    wait_caught_up 60
    as_owner pg_autoctl perform switchover --pgdata "$dir/monitor" >>"$dir/switchover.log" 2>&1
    wait_healthy 60
    ;;
  events)
    as_owner pg_autoctl show events --pgdata "$dir/monitor" --count "${3:-40}" 2>/dev/null || true
    ;;
  primary)
    primary_name
    ;;
  *)
    echo "ha.sh: unknown command $cmd" >&2
    exit 2
    ;;
esac
