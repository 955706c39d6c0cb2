#!/usr/bin/env bash
# `make bench`: one run that measures the daemons side by side with their
# ceiling. It builds an optimised release, starts a throwaway PostgreSQL
# (fsync and synchronous_commit left ON) and both daemons on free ports, then:
#   1. pgbench on the very statements each RPC issues (the ceiling);
#   2. exec -> first served call, and idle memory, of each daemon;
#   3. h2load on GetUserById, GetWallet, CreditWallet, DebitWallet at 1x1,
#      1x16, 8x8 (connections x streams) on one hot row, and 8x8 spread over
#      8 wallets (8 h2load processes, one wallet each); TransferFunds 8x8 over
#      8 wallet pairs, ListTransactions (pages of 20) 8x8 on the hot wallet;
#   4. CreateUser at 32 in flight (bench/createuser.js, node:http2);
#   4b. GetWallet and CreditWallet with mutual TLS beside plaintext
#      (bench/unary.js, the same driver for both);
#   4c. GetWallet and CreditWallet against a synchronous standby;
#   4d. credits while another program holds one wallet's row lock
#      (bench/lockwait.sh);
#   5. memory under load, CPU per 1000 calls, and the correctness checks:
#      every answer carried a message (so grpc-status was 0), every
#      balance equals start + successful credits - successful debits (and
#      +/- successful transfers), every balance equals its ledger's sum.
# bench/report.sh prints the table and writes docs/benchmarks.md.
# BENCH_QUICK=1: short runs (< 1 min after the build), prints only
# (BENCH_OUT=FILE to keep its markdown). BENCH_ONLY=cluster: only what the
# synchronous-standby comparison needs (the credit ceiling and GetWallet /
# CreditWallet 8x8 on the single server, then section 4c), printed only
# (BENCH_OUT likewise), ~2 min after the build. BENCH_KEEP=1 keeps the temp dir
# (daemon logs, raw h2load output). Everything runs on 127.0.0.1 and is
# cleaned up on exit.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
cd "$root"
source "$here/lib.sh"
source "$here/cluster.sh"

QUICK=${BENCH_QUICK:-0}
if [ "$QUICK" = 1 ]; then SECS=1 PG_SECS=1 CU_SECS=2 MAX_N=20000
else SECS=8 PG_SECS=5 CU_SECS=10 MAX_N=400000; fi
ONLY=${BENCH_ONLY:-}
case $ONLY in '' | cluster) ;; *) echo "BENCH_ONLY: 'cluster' or unset" >&2; exit 2 ;; esac
# Whether a part of the full run is measured (BENCH_ONLY leaves it out).
full() { [ -z "$ONLY" ]; }
OUT=${BENCH_OUT:-}
[ "$QUICK" = 1 ] || [ -n "$ONLY" ] || OUT=${OUT:-$root/docs/benchmarks.md}

tmp=$(mktemp -d /tmp/wallet-bench.XXXXXX)
chmod 711 "$tmp"   # PostgreSQL runs as the postgres user and must reach $tmp/pg
RESULTS=$tmp/results.tsv
export RESULTS
daemon_pids=()
sampler_pid=""
cleanup() {
  set +e
  [ -n "$sampler_pid" ] && kill "$sampler_pid" 2>/dev/null
  for p in "${daemon_pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${daemon_pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
  done
  bash "$root/scripts/pg.sh" stop "$tmp/pg" >/dev/null 2>&1
  [ -d "$tmp/ha" ] && bash "$root/scripts/ha.sh" down "$tmp/ha" >/dev/null 2>&1
  if [ "${BENCH_KEEP:-0}" = 1 ]; then log "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
bench_start=$(now_us)

# --- tools ---------------------------------------------------------------------
for tool in h2load pgbench psql node; do
  command -v "$tool" >/dev/null || { log "$tool missing: scripts/deps.sh"; bash scripts/deps.sh; break; }
done
[ -d tests/integration/node_modules/@grpc/grpc-js ] ||
  (cd tests/integration && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

# --- build: release flags into build-release/ (its own bin/, so the debug
# build in bin/ is left alone), then copied away.
# BENCH_BIN=DIR skips the build and measures the daemons in DIR instead.
mkdir -p "$tmp/bin" "$tmp/logs" "$tmp/body" "$tmp/run"
if [ -n "${BENCH_BIN:-}" ]; then
  cp "$BENCH_BIN/user-service" "$BENCH_BIN/wallet-service" "$tmp/bin/"
  put build "none: BENCH_BIN=$BENCH_BIN"
else
  log "building the release (make BUILD=build-release BIN=build-release/bin OPT='-O2 -DNDEBUG' all)"
  make -s BUILD=build-release BIN=build-release/bin OPT="-O2 -DNDEBUG" all >"$tmp/build.log" 2>&1 ||
    { tail -30 "$tmp/build.log" >&2; die "release build failed (log above)"; }
  cp build-release/bin/user-service build-release/bin/wallet-service "$tmp/bin/"
  put build 'make BUILD=build-release BIN=build-release/bin OPT="-O2 -DNDEBUG" all'
fi
# The floor server (bench/floor.c), built the same way whatever BENCH_BIN says.
make -s BUILD=build-release BIN=build-release/bin OPT="-O2 -DNDEBUG" bench-floor >>"$tmp/build.log" 2>&1 ||
  { tail -30 "$tmp/build.log" >&2; die "floor build failed (log above)"; }
cp build-release/bench/floor "$tmp/bin/"

# --- machine ---------------------------------------------------------------------
put date "$(date -u '+%Y-%m-%d %H:%M UTC')"
put cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
put cores "$(nproc)"
put mem "$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
put kernel "$(uname -r)"
put commit "$(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (+ uncommitted changes)')"
put versions "$(h2load --version | head -1); $(pgbench --version); node $(node --version)"
put quick "$QUICK"; put only "${ONLY:-all}"; put secs "$SECS"; put pg_secs "$PG_SECS"; put cu_secs "$CU_SECS"

# --- PostgreSQL ----------------------------------------------------------------
pg_port=$(free_port)
DATABASE_URL=$(bash scripts/pg.sh start "$tmp/pg" "$pg_port")
export DATABASE_URL
DATABASE_URL=$DATABASE_URL bash scripts/migrate.sh 2>/dev/null
sql() { psql "$DATABASE_URL" -X -q -tA -F $'\t' -v ON_ERROR_STOP=1 "$@"; }
put pg_version "$(sql -c 'SHOW server_version')"
put pg_settings "fsync=$(sql -c 'SHOW fsync'), synchronous_commit=$(sql -c 'SHOW synchronous_commit'), shared_buffers=$(sql -c 'SHOW shared_buffers')"
[ "$(sql -c 'SHOW fsync')" = on ] && [ "$(sql -c 'SHOW synchronous_commit')" = on ] || die "fsync/synchronous_commit must be on"

sql -f "$here/seed.sql" >"$tmp/seed.tsv"
mapfile -t rpc_ids < <(awk -F'\t' '$1 == "rpc" { print $2 }' "$tmp/seed.tsv")
mapfile -t xfer_ids < <(awk -F'\t' '$1 == "xfer" { print $2 }' "$tmp/seed.tsv")
pgb_hot=$(awk -F'\t' '$1 == "pgb-hot" { print $2 }' "$tmp/seed.tsv")
[ "${#rpc_ids[@]}" = 9 ] && [ "${#xfer_ids[@]}" = 16 ] && [ -n "$pgb_hot" ] || die "seeding failed"
START_BALANCE=1000000000
hot=${rpc_ids[0]}
spread=("${rpc_ids[@]:1}")

# --- 1. the ceiling ------------------------------------------------------------------
# At 8 clients (as the load), and for the writes also at 4 clients, the
# database connections one daemon pool holds by default: on a hot row fewer
# clients queue less on its lock, so that figure can be the higher ceiling.
for stmt in get_user get_wallet credit debit; do
  for mode in hot spread; do
    for clients in 8 4; do
      [ "$clients" = 8 ] || [ "$stmt" = credit ] || [ "$stmt" = debit ] || continue
      full || { [ "$stmt" = credit ] && [ "$mode" = hot ]; } || continue
      log "pgbench $stmt $mode: $clients clients, ${PG_SECS}s"
      sfx=$([ "$clients" = 8 ] || echo ".c$clients")
      while IFS='=' read -r k v; do put "pgb.$stmt.$mode$sfx.$k" "$v"; done \
        < <(bash "$here/pgbench.sh" "$DATABASE_URL" "$stmt" "$mode" "$clients" "$PG_SECS" "$pgb_hot" 1000)
    done
  done
done
put pgb_cmd "pgbench -n -M prepared -c 8 -j 2 -T $PG_SECS [-D uid=UUID | \\set uid random(1, 1000)] -f bench/pgbench/NAME.sql"

# --- request bodies ------------------------------------------------------------------
declare -A method=([GetUserById]=/user.UserService/GetUserById [GetWallet]=/wallet.WalletService/GetWallet
                   [CreditWallet]=/wallet.WalletService/CreditWallet [DebitWallet]=/wallet.WalletService/DebitWallet
                   [TransferFunds]=/wallet.WalletService/TransferFunds
                   [ListTransactions]=/wallet.WalletService/ListTransactions [Bare]=/grpc.health.v1.Health/Check
                   [Floor]=/grpc.health.v1.Health/Check)
# "Bare": wallet-service's health Check with an empty request, a unary call
# through the same runtime path (decode, handler, encode, log) that touches no
# database: the daemon's own rate, for the read target's combined ceiling.
printf '\0\0\0\0\0' >"$tmp/body/Bare.0"
cp "$tmp/body/Bare.0" "$tmp/body/Floor.0"
for i in "${!rpc_ids[@]}"; do
  id=${rpc_ids[$i]}
  bash "$here/body.sh" "$tmp/body/GetUserById.$i" "s:$id"
  bash "$here/body.sh" "$tmp/body/GetWallet.$i" "s:$id"
  bash "$here/body.sh" "$tmp/body/CreditWallet.$i" "s:$id" i:1
  bash "$here/body.sh" "$tmp/body/DebitWallet.$i" "s:$id" i:1
  bash "$here/body.sh" "$tmp/body/ListTransactions.$i" "s:$id" i:20
done
# Transfer pair i (1..8, as the spread bodies are numbered): xfer 2i-2 -> 2i-1, amount 1.
bash "$here/body.sh" "$tmp/body/TransferFunds.0" "s:${xfer_ids[0]}" "s:${xfer_ids[1]}" i:1
for i in $(seq 1 8); do
  bash "$here/body.sh" "$tmp/body/TransferFunds.$i" "s:${xfer_ids[$((2 * i - 2))]}" "s:${xfer_ids[$((2 * i - 1))]}" i:1
done

# --- 2. daemons: exec -> first served call, idle memory -------------------------------
user_port=$(free_port); wallet_port=$(free_port)
export USER_SERVICE_URL=127.0.0.1:$user_port WALLET_SERVICE_URL=127.0.0.1:$wallet_port
put db_sessions "${DB_SESSIONS:-${WORKERS:-default}}"
declare -A pid maddr port=([user]=$user_port [wallet]=$wallet_port)
declare -A probe=([user]=GetUserById [wallet]=GetWallet)
# FIRST_STARTS starts of each daemon (each stopped before the next, the last
# one kept for the load): exec -> first served call varies with what else the
# machine does, so the median is reported, with the fastest and slowest.
FIRST_STARTS=5
[ "$QUICK" = 1 ] && FIRST_STARTS=3
put first_starts "$FIRST_STARTS"
for d in user wallet; do
  log "starting $d-service $FIRST_STARTS times, timing exec -> first ${probe[$d]}"
  # metrics on a free port: the default 9464 may be another daemon's on a shared machine
  maddr[$d]=127.0.0.1:$(free_port)
  times=()
  for n in $(seq "$FIRST_STARTS"); do
    METRICS_ADDR=${maddr[$d]} node "$here/firstcall.js" "$tmp/logs/$d-service.log" "127.0.0.1:${port[$d]}" "${method[${probe[$d]}]}" \
      "$tmp/body/${probe[$d]}.0" "$tmp/bin/$d-service" >"$tmp/run/first.$d" || true
    p=$(awk -F= '$1 == "pid" { print $2 }' "$tmp/run/first.$d")
    [ -n "$p" ] && daemon_pids+=("$p") && pid[$d]=$p
    ms=$(awk -F= '$1 == "ms" { print $2 }' "$tmp/run/first.$d")
    [ "$ms" != timeout ] || { cat "$tmp/run/first.$d" >&2; tail -20 "$tmp/logs/$d-service.log" >&2; die "$d-service never answered"; }
    times+=("$ms")
    if [ "$n" -lt "$FIRST_STARTS" ]; then  # stopped (drained) before the next start
      kill -TERM "$p"
      for _ in $(seq 200); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
      kill -0 "$p" 2>/dev/null && die "$d-service did not stop within 10 s of SIGTERM"
      daemon_pids=("${daemon_pids[@]:0:${#daemon_pids[@]}-1}")  # gone: never signalled again
    fi
  done
  read -r med lo hi < <(printf '%s\n' "${times[@]}" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)], v[1], v[NR] }')
  put "first_ms.$d" "$med"
  put "first_range.$d" "$lo-$hi"
  put "listen_ms.$d" "$(awk -F= '$1 == "listen_ms" { print $2 }' "$tmp/run/first.$d")"
done
# The floor: the same Health/Check from the gRPC core alone (bench/floor.c).
FLOOR_URL=127.0.0.1:$(free_port)
"$tmp/bin/floor" "$FLOOR_URL" >"$tmp/run/floor.out" 2>"$tmp/logs/floor.log" &
pid[floor]=$!; daemon_pids+=("${pid[floor]}")
for _ in $(seq 100); do grep -q listening "$tmp/run/floor.out" 2>/dev/null && break; sleep 0.1; done
sleep 1
for d in user wallet; do read -r rss hwm < <(mem_kb "${pid[$d]}"); put "rss_idle.$d" "$rss"; done

# Every body once through @grpc/grpc-js: status must be 0; learn the answer size.
declare -A size credits debits transfers
for rpc in GetUserById GetWallet CreditWallet DebitWallet TransferFunds ListTransactions Bare Floor; do
  case $rpc in GetUserById) addr=$USER_SERVICE_URL ;; Floor) addr=$FLOOR_URL ;; *) addr=$WALLET_SERVICE_URL ;; esac
  bodies=(); for i in "${!rpc_ids[@]}"; do bodies+=("$tmp/body/$rpc.$i"); done
  [ "$rpc" = Bare ] || [ "$rpc" = Floor ] && bodies=("$tmp/body/$rpc.0")
  node "$here/check.js" "$addr" "${method[$rpc]}" "${bodies[@]}" >"$tmp/run/check.$rpc"
  i=0
  while read -r code bytes rest; do
    [ "$code" = 0 ] || die "$rpc with a valid body answered status $code $rest"
    [ "$i" = 0 ] && size[$rpc]=$bytes
    [ "$bytes" = "${size[$rpc]}" ] || log "note: $rpc answer size differs per wallet ($bytes vs ${size[$rpc]})"
    [ "$rpc" = CreditWallet ] && credits[$i]=$(( ${credits[$i]:-0} + 1 ))
    [ "$rpc" = DebitWallet ] && debits[$i]=$(( ${debits[$i]:-0} + 1 ))
    [ "$rpc" = TransferFunds ] && transfers[$i]=$(( ${transfers[$i]:-0} + 1 ))
    i=$((i + 1))
  done <"$tmp/run/check.$rpc"
  put "size.$rpc" "${size[$rpc]}"
done

# --- 3. h2load ---------------------------------------------------------------------------
# run_h2 RPC SCEN: a warm-up sized from the load shape, then a run sized to
# take ~SECS at the warm-up's rate. Records rate, latency, CPU, and how many
# "succeeded" answers carried no message (a gRPC error h2load counted as 200).
run_h2() {
  local rpc=$1 scen=$2 c m procs bodies=() d url key n_w n rps_w k v
  case $scen in
    1x1) c=1 m=1 procs=1 ;; 1x16) c=1 m=16 procs=1 ;; 8x8|8x8again|8x8p*) c=8 m=8 procs=1 ;; 8x8s) c=1 m=8 procs=8 ;;
  esac
  if [ "$procs" = 1 ]; then bodies=("$tmp/body/$rpc.0")
  else for i in $(seq 1 "$procs"); do bodies+=("$tmp/body/$rpc.$i"); done; fi
  case $rpc in
    GetUserById) d=user; url=http://$USER_SERVICE_URL ;;
    Floor) d=floor; url=http://$FLOOR_URL ;;
    *) d=wallet; url=http://$WALLET_SERVICE_URL ;;
  esac
  url+=${method[$rpc]}
  key="h2.$rpc.$scen"
  n_w=$(( 20 * c * m < 200 ? 200 : 20 * c * m ))
  bash "$here/h2.sh" "$tmp/run/w" "$n_w" "$c" "$m" "$url" "${bodies[@]}" >"$tmp/run/warm.out" || die "h2load $rpc $scen (warm-up)"
  account "$rpc" "$tmp/run/warm.out" "$procs"
  rps_w=$(awk -F= '$1 == "rps" { print $2 }' "$tmp/run/warm.out")
  n=$(( rps_w * SECS / procs )); (( n < 200 )) && n=200; (( n * procs > MAX_N )) && n=$(( MAX_N / procs ))
  log "h2load $rpc $scen: $procs x (-n $n -c $c -m $m)"
  local t0 t1 k0 k1; t0=$(cpu_ticks "${pid[$d]}"); k0=$(sys_ticks "${pid[$d]}")
  # CreditWallet 8x8: where its time went, as section 4c measures it on the cluster (bench/cluster.sh).
  local trees=(daemon="${pid[wallet]}" primary="$(head -1 "$tmp/pg/data/postmaster.pid")") waits_pid=""
  if [ "$rpc" = CreditWallet ] && [ "$scen" = 8x8 ]; then
    cpu_snap "$tmp/run/cpu0" "${trees[@]}"; scrape "${maddr[wallet]}" >"$tmp/run/metrics0" || true
    waits_pid=$(waits_start "$DATABASE_URL" wallet-service "$tmp/run/waits")
  fi
  bash "$here/h2.sh" "$tmp/run/m" "$n" "$c" "$m" "$url" "${bodies[@]}" >"$tmp/run/main.out" || die "h2load $rpc $scen"
  t1=$(cpu_ticks "${pid[$d]}"); k1=$(sys_ticks "${pid[$d]}")
  if [ -n "$waits_pid" ]; then
    cpu_snap "$tmp/run/cpu1" "${trees[@]}"; scrape "${maddr[wallet]}" >"$tmp/run/metrics1" || true
    kill "$waits_pid" 2>/dev/null; wait "$waits_pid" 2>/dev/null || true
    while IFS='=' read -r k v; do put "$key.$k" "$v"; done \
      < <(cpu_report "$tmp/run/cpu0" "$tmp/run/cpu1" "$(awk -F= '$1 == "ok" { print $2 }' "$tmp/run/main.out")"
          waits_report "$tmp/run/waits"; groups_report "$tmp/run/metrics0" "$tmp/run/metrics1")
  fi
  account "$rpc" "$tmp/run/main.out" "$procs"
  while IFS='=' read -r k v; do put "$key.$k" "$v"; done <"$tmp/run/main.out"
  local ok; ok=$(get "$key.ok")
  put "$key.cpu_per_1k" "$(awk -v t=$((t1 - t0)) -v hz="$CLK_TCK" -v n="$ok" 'BEGIN { printf "%.3f", n ? t / hz / n * 1000 : 0 }')"
  put "$key.sys_per_1k" "$(awk -v t=$((k1 - k0)) -v hz="$CLK_TCK" -v n="$ok" 'BEGIN { printf "%.3f", n ? t / hz / n * 1000 : 0 }')"
  put "$key.no_message" "$(awk -v ok="$ok" -v d="$(get "$key.data")" -v s="${size[$rpc]}" 'BEGIN { printf "%d", ok - d / s }')"
  put "$key.cmd" "h2load -n $n -c $c -m $m -t 1 -H 'content-type: application/grpc' -H 'te: trailers' --data=BODY $url$([ "$procs" = 1 ] || echo " (x$procs processes, one wallet each)")"
}
# Successful credits/debits per wallet, for the balance check: an answer
# without a message is not a success, whatever h2load says.
account() {
  local rpc=$1 out=$2 procs=$3 j idx s real ok data
  [ "$rpc" = CreditWallet ] || [ "$rpc" = DebitWallet ] || [ "$rpc" = TransferFunds ] || return 0
  ok=$(awk -F= '$1 == "ok" { print $2 }' "$out"); data=$(awk -F= '$1 == "data" { print $2 }' "$out")
  real=$(( data / ${size[$rpc]} ))
  [ "$real" = "$ok" ] || log "WARNING: $rpc: $ok answers counted as succeeded, $real carried a message"
  for ((j = 0; j < procs; j++)); do
    idx=$(( procs == 1 ? 0 : j + 1 ))
    s=$(awk -F= -v k="data.$j" -v z="${size[$rpc]}" '$1 == k { print int($2 / z) }' "$out")
    case $rpc in
      CreditWallet) credits[$idx]=$(( ${credits[$idx]:-0} + s )) ;;
      DebitWallet) debits[$idx]=$(( ${debits[$idx]:-0} + s )) ;;
      TransferFunds) transfers[$idx]=$(( ${transfers[$idx]:-0} + s )) ;;
    esac
  done
}

sample_memory() {  # max VmRSS of both daemons while load runs, into $tmp/run/rss.*
  local n=0 r h
  while (( n < 3000 )); do
    for d in user wallet; do read -r r h < <(mem_kb "${pid[$d]}") && echo "$r" >>"$tmp/run/rss.$d"; done
    sleep 0.2; n=$((n + 1))
  done
}
# VmHWM from here on is the peak under load, not start-up's (the daemons
# drop unused library pages once serving: runtime/src/code_pages.c).
for d in user wallet; do echo 5 >"/proc/${pid[$d]}/clear_refs" 2>/dev/null || true; done
sample_memory & sampler_pid=$!

if ! full; then
  run_h2 GetWallet 8x8
  run_h2 CreditWallet 8x8
else
  # The floor right before Bare and again after the reads (the ratios use
  # their mean): the machine's own drift stays out of Bare / floor.
  run_h2 Floor 8x8
  run_h2 Bare 8x8
  for rpc in GetUserById GetWallet CreditWallet DebitWallet; do
    for scen in 1x1 1x16 8x8 8x8s; do
      [ "$QUICK" = 1 ] && [ "$scen" = 1x16 ] && continue   # smoke run: the shapes that matter
      run_h2 "$rpc" "$scen"
    done
    [ "$rpc" = GetWallet ] && run_h2 Floor 8x8again
  done
  run_h2 TransferFunds 8x8s
  # A history page's size depends on what it holds: learn it now that the
  # writes are over and the hot wallet's newest 20 entries stay as they are.
  node "$here/check.js" "$WALLET_SERVICE_URL" "${method[ListTransactions]}" "$tmp/body/ListTransactions.0" >"$tmp/run/check.list"
  read -r code bytes rest <"$tmp/run/check.list"
  [ "$code" = 0 ] || die "ListTransactions answered status $code $rest"
  size[ListTransactions]=$bytes
  run_h2 ListTransactions 8x8
fi

if full; then
  # --- 4. CreateUser at 32 in flight --------------------------------------------------------
  log "CreateUser: 32 in flight, ${CU_SECS}s"
  prefix="bench-cu-$$-$(date +%s)"
  tu0=$(cpu_ticks "${pid[user]}"); tw0=$(cpu_ticks "${pid[wallet]}")
  node "$here/createuser.js" "$USER_SERVICE_URL" 32 "$CU_SECS" "$prefix" >"$tmp/run/cu.out" || die "createuser.js"
  tu1=$(cpu_ticks "${pid[user]}"); tw1=$(cpu_ticks "${pid[wallet]}")
  while IFS='=' read -r k v; do put "cu.$k" "$v"; done <"$tmp/run/cu.out"
  cu_ok=$(get cu.ok)
  for d in user wallet; do
    t=$([ $d = user ] && echo $((tu1 - tu0)) || echo $((tw1 - tw0)))
    put "cu.cpu_per_1k.$d" "$(awk -v t="$t" -v hz="$CLK_TCK" -v n="$cu_ok" 'BEGIN { printf "%.3f", n ? t / hz / n * 1000 : 0 }')"
  done
  put cu.rows "$(sql -c "SELECT count(*) FROM \"User\" WHERE email LIKE '$prefix-%'")"
  put cu.with_wallet "$(sql -c "SELECT count(*) FROM \"User\" u JOIN \"Wallet\" w ON w.\"userId\" = u.id WHERE u.email LIKE '$prefix-%'")"

  # --- 4b. mutual TLS beside plaintext ----------------------------------------------------------
  # A second wallet-service under mutual TLS with the example policy
  # (certificates from scripts/tls.sh, the client's is the admin identity),
  # then GetWallet and CreditWallet on the hot wallet, 64 in flight on one
  # connection, through the same driver (bench/unary.js) against the
  # plaintext daemon above and this one: the pair differs only in transport.
  tls_dir=$tmp/tls
  bash scripts/tls.sh init "$tls_dir"
  tls_addr=127.0.0.1:$(free_port)
  WALLET_SERVICE_URL=$tls_addr METRICS_ADDR=0 TLS_CERT_FILE="$tls_dir/wallet-service.crt" \
    TLS_KEY_FILE="$tls_dir/wallet-service.key" TLS_CA_FILE="$tls_dir/ca.crt" \
    AUTHZ_POLICY_FILE=config/authz-policy.json "$tmp/bin/wallet-service" 2>"$tmp/logs/wallet-service-tls.log" &
  daemon_pids+=($!)
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/${tls_addr%:*}/${tls_addr##*:}") 2>/dev/null && break; sleep 0.1; done
  for rpc in GetWallet CreditWallet; do
    for mode in plain mtls; do
      log "$rpc over $mode: 64 in flight, ${CU_SECS}s"
      url=http://$WALLET_SERVICE_URL pem=()
      [ "$mode" = plain ] || { url=https://$tls_addr; pem=("$tls_dir/ca.crt" "$tls_dir/client.crt" "$tls_dir/client.key"); }
      node "$here/unary.js" "$url" "${method[$rpc]}" "$tmp/body/$rpc.0" 64 "$CU_SECS" "${pem[@]}" \
        >"$tmp/run/tls.out" || die "unary.js $rpc $mode"
      while IFS='=' read -r k v; do put "tls.$rpc.$mode.$k" "$v"; done <"$tmp/run/tls.out"
      [ "$rpc" = CreditWallet ] && credits[0]=$(( ${credits[0]:-0} + $(get "tls.$rpc.$mode.ok") ))
    done
  done
  put tls_cmd "node bench/unary.js https://127.0.0.1:PORT /wallet.WalletService/GetWallet BODY 64 $CU_SECS ca.crt client.crt client.key"

  # --- 4d. one locked row -------------------------------------------------------------------------
  # Another program holds one wallet's row lock; credits to 8 other wallets
  # meanwhile, and to the locked one every 250 ms (bench/lockwait.sh; the
  # daemon's default DB_LOCK_TIMEOUT_MS). Fresh wallets: the balance
  # accounting above is untouched, the ledger check below covers them.
  log "one locked row: credits to other wallets, ${CU_SECS}s"
  bash "$here/lockwait.sh" "$DATABASE_URL" "$WALLET_SERVICE_URL" "$CU_SECS" >"$tmp/run/lockwait.out" || die "lockwait.sh"
  while IFS='=' read -r k v; do put "lockwait.$k" "$v"; done <"$tmp/run/lockwait.out"
fi

# --- 4c. the synchronous standby beside the single server ------------------------------------
# A pg_auto_failover monitor + primary + synchronous standby (scripts/ha.sh,
# issue 16) and a wallet-service on its multi-host URL; GetWallet and
# CreditWallet at 8x8 on one wallet there, to set beside the single-server
# 8x8 rows above (same run, same build). Every commit there waits for the
# standby to confirm it, so the ceiling there is pgbench of the credit's
# statement on that primary (4 and 8 clients, as in section 1). During the
# first credits: the CPU of each process tree, what the daemon's writer
# waited on, and its write groups and commit waits (bench/cluster.sh); then
# three pairs of single-server and cluster credits back to back, for the
# ratio between them.
ha_base=$(free_port)
log "synchronous standby: pg_auto_failover monitor + two nodes from port $ha_base"
HA_URL=$(bash scripts/ha.sh up "$tmp/ha" "$ha_base" 2>>"$tmp/logs/ha.log") || die "ha.sh up failed ($tmp/logs/ha.log)"
DATABASE_URL=$HA_URL bash scripts/migrate.sh 2>/dev/null
put ha_settings "$(psql "$HA_URL" -X -q -tA -c "SELECT 'synchronous_commit=' || current_setting('synchronous_commit') || ', synchronous_standby_names=' || current_setting('synchronous_standby_names')")"
ha_user=$(psql "$HA_URL" -X -q -tA -v ON_ERROR_STOP=1 -c "
  WITH u AS (INSERT INTO \"User\" (id, email, name) VALUES (gen_random_uuid()::text, 'bench-ha@bench.invalid', 'Bench HA') RETURNING id),
       w AS (INSERT INTO \"Wallet\" (id, \"userId\", balance) SELECT gen_random_uuid()::text, id, $START_BALANCE FROM u RETURNING id)
  INSERT INTO \"WalletEntry\" (\"walletId\", kind, amount, \"balanceAfter\") SELECT id, 1, $START_BALANCE, $START_BALANCE FROM w" -c "
  SELECT id FROM \"User\" WHERE email = 'bench-ha@bench.invalid'" | tail -1)
for clients in 8 4; do
  log "pgbench credit on the primary with its standby: $clients clients, ${PG_SECS}s"
  sfx=$([ "$clients" = 8 ] || echo ".c$clients")
  while IFS='=' read -r k v; do put "pgb_ha.credit.hot$sfx.$k" "$v"; done \
    < <(bash "$here/pgbench.sh" "$HA_URL" credit hot "$clients" "$PG_SECS" "$ha_user" 1)
done
# pgbench credited the wallet too: the daemon's credits are counted from here.
ha_start=$(psql "$HA_URL" -X -q -tA -c "SELECT balance FROM \"Wallet\" WHERE \"userId\" = '$ha_user'")
bash "$here/body.sh" "$tmp/body/ha.GetWallet" "s:$ha_user"
bash "$here/body.sh" "$tmp/body/ha.CreditWallet" "s:$ha_user" i:1
ha_addr=127.0.0.1:$(free_port)
ha_metrics=127.0.0.1:$(free_port)
DATABASE_URL=$HA_URL WALLET_SERVICE_URL=$ha_addr METRICS_ADDR=$ha_metrics "$tmp/bin/wallet-service" 2>"$tmp/logs/wallet-service-ha.log" &
pid[ha]=$!; daemon_pids+=("${pid[ha]}")
for _ in $(seq 100); do (exec 3<>"/dev/tcp/${ha_addr%:*}/${ha_addr##*:}") 2>/dev/null && break; sleep 0.1; done
ha_primary=$(bash scripts/ha.sh primary "$tmp/ha")
ha_standby=$([ "$ha_primary" = n1 ] && echo n2 || echo n1)
ha_trees=(daemon="${pid[ha]}" primary="$(cat "$tmp/ha/$ha_primary.pid")" standby="$(cat "$tmp/ha/$ha_standby.pid")"
          monitor="$(cat "$tmp/ha/monitor.pid")")
ha_credits=0
# ha_run RPC KEY N [diag]: h2load at 8x8 on the cluster's daemon, results
# under KEY; diag: also the CPU of each tree, the writer's waits, the write
# groups and commit waits (bench/cluster.sh).
ha_run() {
  local rpc=$1 key=$2 n=$3 diag=${4:-} url=http://$ha_addr${method[$1]} k v waits_pid
  log "h2load $rpc 8x8 with the synchronous standby: -n $n ($key)"
  if [ -n "$diag" ]; then
    cpu_snap "$tmp/run/ha.cpu0" "${ha_trees[@]}"; scrape "$ha_metrics" >"$tmp/run/ha.metrics0" || true
    waits_pid=$(waits_start "$HA_URL" wallet-service "$tmp/run/ha.waits")
  fi
  bash "$here/h2.sh" "$tmp/run/ha" "$n" 8 8 "$url" "$tmp/body/ha.$rpc" >"$tmp/run/ha.out" || die "h2load $rpc against the cluster"
  while IFS='=' read -r k v; do put "$key.$k" "$v"; done <"$tmp/run/ha.out"
  [ "$rpc" = GetWallet ] || ha_credits=$(( ha_credits + $(awk -F= '$1 == "data" { print int($2 / '"${size[$rpc]}"') }' "$tmp/run/ha.out") ))
  [ -n "$diag" ] || return 0
  cpu_snap "$tmp/run/ha.cpu1" "${ha_trees[@]}"; scrape "$ha_metrics" >"$tmp/run/ha.metrics1" || true
  kill "$waits_pid" 2>/dev/null; wait "$waits_pid" 2>/dev/null || true
  while IFS='=' read -r k v; do put "$key.$k" "$v"; done \
    < <(cpu_report "$tmp/run/ha.cpu0" "$tmp/run/ha.cpu1" "$(get "$key.ok")"; waits_report "$tmp/run/ha.waits"
        groups_report "$tmp/run/ha.metrics0" "$tmp/run/ha.metrics1")
}
for rpc in GetWallet CreditWallet; do
  ha_run "$rpc" "ha.warm.$rpc" 1280
  n=$(( $(get "h2.$rpc.8x8.rps") * SECS / 2 )); (( n < 200 )) && n=200; (( n > MAX_N )) && n=$MAX_N
  ha_run "$rpc" "ha.$rpc" "$n" $([ "$rpc" = GetWallet ] || echo diag)
done
# The machine's load drifts by more than the difference sought within a
# minute (other work shares the cores): three more pairs, the single
# server's credits right before the cluster's, for the ratio's median.
for i in 1 2 3; do
  run_h2 CreditWallet "8x8p$i"
  n=$(( $(get "h2.CreditWallet.8x8p$i.rps") * SECS / 2 )); (( n < 200 )) && n=200; (( n > MAX_N )) && n=$MAX_N
  ha_run CreditWallet "ha.CreditWallet.p$i" "$n"
done
put ha_balance "$(psql "$HA_URL" -X -q -tA -c "SELECT balance - $ha_start FROM \"Wallet\" WHERE \"userId\" = '$ha_user'")"
put ha_credits "$ha_credits"
put ha_cmd "scripts/ha.sh up DIR PORT, a wallet-service on its URL, h2load -n N -c 8 -m 8 -t 1 as above"
bash scripts/ha.sh down "$tmp/ha" >/dev/null 2>&1 || true

# --- 5. memory under load, correctness ----------------------------------------------------
kill "$sampler_pid" 2>/dev/null; wait "$sampler_pid" 2>/dev/null || true; sampler_pid=""
for d in user wallet; do
  read -r rss hwm < <(mem_kb "${pid[$d]}")
  put "rss_after.$d" "$rss"; put "hwm.$d" "$hwm"
  put "rss_load.$d" "$(sort -n "$tmp/run/rss.$d" 2>/dev/null | tail -1)"
done

bad=0
for i in "${!rpc_ids[@]}"; do
  want=$(( START_BALANCE + ${credits[$i]:-0} - ${debits[$i]:-0} ))
  got=$(sql -c "SELECT balance FROM \"Wallet\" WHERE \"userId\" = '${rpc_ids[$i]}'")
  [ "$got" = "$want" ] || { bad=$((bad + 1)); log "balance MISMATCH wallet $i: $got, expected $want"; }
  put "balance.$i" "$got $want ${credits[$i]:-0} ${debits[$i]:-0}"
done
# Transfer pair i moved transfers[i] units from xfer 2i-2 to 2i-1 (pair 0 is
# the check's single call, on the same wallets as pair 1).
declare -A xfer_want
for i in $(seq 0 8); do
  p=$(( i == 0 ? 1 : i ))
  xfer_want[$((2 * p - 2))]=$(( ${xfer_want[$((2 * p - 2))]:-$START_BALANCE} - ${transfers[$i]:-0} ))
  xfer_want[$((2 * p - 1))]=$(( ${xfer_want[$((2 * p - 1))]:-$START_BALANCE} + ${transfers[$i]:-0} ))
done
for j in $(seq 0 15); do
  got=$(sql -c "SELECT balance FROM \"Wallet\" WHERE \"userId\" = '${xfer_ids[$j]}'")
  [ "$got" = "${xfer_want[$j]}" ] || { bad=$((bad + 1)); log "balance MISMATCH transfer wallet $j: $got, expected ${xfer_want[$j]}"; }
done
ha_delta=$(get ha_balance)
[ "$ha_delta" = "$(get ha_credits)" ] || { bad=$((bad + 1)); log "balance MISMATCH on the cluster: moved $ha_delta, $(get ha_credits) credits succeeded"; }
put transfers_ok "$(( $(IFS=+; echo "${transfers[*]:-0}") ))"
put balances_bad "$bad"
put negative_balances "$(sql -c 'SELECT count(*) FROM "Wallet" WHERE balance < 0')"
put ledger_drift "$(sql -c 'SELECT count(*) FROM "Wallet" w WHERE w.balance <> (SELECT coalesce(sum(e.amount), 0) FROM "WalletEntry" e WHERE e."walletId" = w.id)')"
for d in user wallet; do
  put "log_lines.$d" "$(wc -l <"$tmp/logs/$d-service.log")"
  put "log_errors.$d" "$(grep -c -E '"level" *: *"(error|fatal)"' "$tmp/logs/$d-service.log" || true)"
  grep -E '"level" *: *"(error|fatal|warn)"' "$tmp/logs/$d-service.log" | head -3 >>"$tmp/run/log-sample" || true
  kill -0 "${pid[$d]}" 2>/dev/null && put "alive.$d" yes || put "alive.$d" NO
done
if full; then
  # --- 6. where a call's instructions go ---------------------------------------------------------
  # Floor, Bare, GetWallet and GetUserById each under callgrind (bench/percall.sh:
  # user-space instructions per call, 8x8), summed by function group
  # (bench/cg-groups.sh). Instruction counts barely move with the machine's load.
  ir_n=$([ "$QUICK" = 1 ] && echo 1000 || echo 5000)
  log "callgrind: Floor, Bare, GetWallet, GetUserById, $ir_n calls each"
  PERCALL_N=$ir_n PERCALL_KEEP=$tmp/cg bash "$here/percall.sh" ir "$tmp/bin" "$tmp/bin/floor" "$DATABASE_URL" \
    Floor Bare GetWallet GetUserById >"$tmp/run/ir.out" || die "percall.sh ir"
  while read -r rpc kv _; do put "ir.$rpc" "${kv#ir_per_call=}"; done <"$tmp/run/ir.out"
  for rpc in Floor Bare GetWallet GetUserById; do
    while IFS='|' read -r g v; do put "cg.$rpc.$g" "$v"; done < <(bash "$here/cg-groups.sh" --raw "$ir_n" "$tmp/cg/cg.$rpc".*)
  done
  put ir_cmd "PERCALL_N=$ir_n bash bench/percall.sh ir BIN_DIR FLOOR \$DATABASE_URL Floor Bare GetWallet GetUserById; bash bench/cg-groups.sh $ir_n callgrind.out.RPC.1"
fi

put wall_s "$(awk -v a="$bench_start" -v b="$(now_us)" 'BEGIN { printf "%.0f", (b - a) / 1e6 }')"
[ -s "$tmp/run/log-sample" ] && { log "daemon log warnings/errors (sample):"; cat "$tmp/run/log-sample" >&2; }

bash "$here/report.sh" "$RESULTS" "$OUT"
[ "$bad" = 0 ] || die "balances do not match the successful calls"
