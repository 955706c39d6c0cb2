#!/usr/bin/env bash
# Cost per call of the floor server and the daemons, for A/Bs of the hot path
# (issue 24): instruction counts under callgrind, which stay repeatable on a
# loaded machine, and a CPU-time run beside them.
#   percall.sh ir BIN_DIR FLOOR DATABASE_URL RPC...   user-space instructions per call
#   percall.sh cpu BIN_DIR FLOOR DATABASE_URL RPC...  daemon CPU us and context switches per call
# RPC: Floor, Bare, GetWallet, GetUserById. The database must hold bench/seed.sql.
# ir: the server runs under `valgrind --tool=callgrind`, 2,000 calls warm it,
# its counters are zeroed, N (PERCALL_N, 20,000) calls at 8x8 are measured and
# dumped; prints "RPC ir_per_call=..." and keeps the profile when
# PERCALL_KEEP=DIR (callgrind.out.RPC, for bench/cg-groups.sh).
# cpu: no valgrind, PERCALL_N (default 200,000) calls at 8x8; prints CPU us,
# voluntary + involuntary context switches per call and req/s.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
mode=${1:?ir|cpu}; bin=${2:?BIN_DIR}; floor=${3:?FLOOR}; db=${4:?DATABASE_URL}; shift 4
tmp=$(mktemp -d /tmp/percall.XXXXXX)
srv_pid=""
cleanup() {
  [ -n "$srv_pid" ] && kill -TERM "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

hot=$(psql "$db" -X -q -tA -F $'\t' -c "SELECT id FROM \"User\" WHERE email LIKE 'bench-rpc-0-%' LIMIT 1")
[ -n "$hot" ] || hot=$(psql "$db" -X -q -tA -c 'SELECT "userId" FROM "Wallet" ORDER BY "userId" LIMIT 1')
printf '\0\0\0\0\0' >"$tmp/Bare"
cp "$tmp/Bare" "$tmp/Floor"
bash "$here/body.sh" "$tmp/GetWallet" "s:$hot"
bash "$here/body.sh" "$tmp/GetUserById" "s:$hot"

user_sys() { local s; s=$(<"/proc/$1/stat"); s=${s##*) }; set -- $s; echo "${12} ${13}"; }
ctx() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ { n += $2 } END { print n }'; }

for rpc in "$@"; do
  port=$(free_port); addr=127.0.0.1:$port
  case $rpc in
    Floor) cmd=("$floor" "$addr"); path=/grpc.health.v1.Health/Check ;;
    Bare) cmd=("$bin/wallet-service"); path=/grpc.health.v1.Health/Check ;;
    GetWallet) cmd=("$bin/wallet-service"); path=/wallet.WalletService/GetWallet ;;
    GetUserById) cmd=("$bin/user-service"); path=/user.UserService/GetUserById ;;
    *) echo "percall.sh: unknown RPC $rpc" >&2; exit 2 ;;
  esac
  vg=()
  if [ "$mode" = ir ]; then
    n=${PERCALL_N:-20000}
    vg=(valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$rpc" --dump-instr=no --collect-atstart=yes)
  else
    n=${PERCALL_N:-200000}
  fi
  DATABASE_URL=$db WALLET_SERVICE_URL=$addr USER_SERVICE_URL=$addr METRICS_ADDR=0 \
    "${vg[@]}" "${cmd[@]}" >"$tmp/out.$rpc" 2>"$tmp/log.$rpc" &
  srv_pid=$!
  for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
  h2() {
    h2load -n "$1" -c 8 -m 8 -t 1 -H 'content-type: application/grpc' -H 'te: trailers' \
      --data="$tmp/$rpc" "http://$addr$path" >"$tmp/h2.out" 2>&1
    awk '/^requests:/ { if ($8 != $2) { print "h2load: " $0 > "/dev/stderr"; exit 1 } }' "$tmp/h2.out"
  }
  h2 2000
  if [ "$mode" = ir ]; then
    callgrind_control -z "$srv_pid" >/dev/null 2>&1
    h2 "$n"
    callgrind_control -d "$srv_pid" >/dev/null 2>&1
    sleep 0.5
    total=$(for f in "$tmp"/cg."$rpc"*; do case $f in *.[0-9]*|*-[0-9]*) awk '/^summary:|^totals:/ { print $2 }' "$f" | tail -1 ;; esac; done |
            awk '{ s += $1 } END { print s + 0 }')
    echo "$rpc ir_per_call=$(( total / n )) calls=$n"
    if [ -n "${PERCALL_KEEP:-}" ]; then
      mkdir -p "$PERCALL_KEEP"
      for f in "$tmp"/cg."$rpc".*; do cp "$f" "$PERCALL_KEEP/"; done
    fi
  else
    # system calls of all its threads, where perf can count them
    perf stat -x, -e raw_syscalls:sys_enter -p "$srv_pid" -o "$tmp/perf.out" 2>/dev/null & perf_pid=$!
    read -r u0 k0 < <(user_sys "$srv_pid"); c0=$(ctx "$srv_pid"); s0=$(now_us)
    h2 "$n"
    read -r u1 k1 < <(user_sys "$srv_pid"); c1=$(ctx "$srv_pid"); s1=$(now_us)
    kill -INT "$perf_pid" 2>/dev/null; wait "$perf_pid" 2>/dev/null || true
    sc=$(awk -F, '/raw_syscalls/ { print $1 }' "$tmp/perf.out" 2>/dev/null)
    awk -v r="$rpc" -v u=$((u1 - u0)) -v k=$((k1 - k0)) -v hz="$CLK_TCK" -v c=$((c1 - c0)) -v n="$n" -v s=$((s1 - s0)) -v sc="${sc:-}" \
      'BEGIN { printf "%s cpu_us_per_call=%.1f (user %.1f, sys %.1f) ctx_per_call=%.2f syscalls_per_call=%s rps=%.0f\n", r, (u + k) / hz / n * 1e6,
               u / hz / n * 1e6, k / hz / n * 1e6, c / n, sc == "" ? "-" : sprintf("%.2f", sc / n), n / (s / 1e6) }'
  fi
  kill -TERM "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null || true; srv_pid=""
done
