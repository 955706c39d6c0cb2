#!/usr/bin/env bash
# Turns bench/run.sh's results (key<TAB>value lines) into markdown: the
# comparison with the old system and the targets, the full h2load matrix, the
# pgbench ceilings, memory/CPU/start-up, the correctness checks and the exact
# commands. Prints it, and writes it to OUT when given (docs/benchmarks.md).
# Kept separate so the layout can be changed and re-run on saved results:
#   bash bench/report.sh RESULTS.tsv [OUT.md]
set -euo pipefail
results=${1:?results file}; out=${2:-}
declare -A R
while IFS=$'\t' read -r k v; do R[$k]=$v; done <"$results"
r() { echo "${R[$1]:--}"; }

commas() { # 12345.6 -> 12,346
  local n; n=$(printf '%.0f' "$1" 2>/dev/null) || { echo "$1"; return; }
  local s="" neg=""; [ "${n#-}" != "$n" ] && { neg=-; n=${n#-}; }
  while [ ${#n} -gt 3 ]; do s=",${n: -3}$s"; n=${n:0:${#n}-3}; done
  echo "$neg$n$s"
}
mib() { awk -v k="$1" 'BEGIN { if (k == "" || k == "-") print "-"; else printf "%.1f MiB", k / 1024 }'; }
frac() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "-") printf "%.0f%%", 100 * a / b; else print "-" }'; }
verdict() { awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
  if (v == "-" || v == "") { print "n/a"; exit }
  ok = (op == ">=") ? (v + 0 >= t + 0) : (v + 0 < t + 0); print ok ? "**met**" : "**missed**" }'; }
max2() { awk -v a="$1" -v b="$2" 'BEGIN { print (a + 0 > b + 0) ? a : b }'; }

declare -A stmt=([GetUserById]=get_user [GetWallet]=get_wallet [CreditWallet]=credit [DebitWallet]=debit)
declare -A daemon=([GetUserById]=user-service [GetWallet]=wallet-service [CreditWallet]=wallet-service [DebitWallet]=wallet-service)
declare -A shape=([1x1]="1x1 one wallet" [1x16]="1x16 one wallet" [8x8]="8x8 one wallet" [8x8s]="8x8 spread, 8 wallets"
                  [8x8again]="8x8, again after the reads")
shape_of() {
  [ "$1" = TransferFunds ] && [ "$2" = 8x8s ] && { echo "8x8 over 8 wallet pairs"; return; }
  [ "$1" = Floor ] || [ "$1" = Bare ] && [ "$2" = 8x8 ] && { echo 8x8; return; }
  echo "${shape[$2]}"
}

rps() { r "h2.$1.$2.rps"; }
# The ceiling: pgbench at 8 clients, or at 4 (one pool's connections) when
# that is higher (writes on one row queue less with fewer clients).
ceil() { max2 "$(r "pgb.${stmt[$1]}.$2.tps")" "${R[pgb.${stmt[$1]}.$2.c4.tps]:-0}"; }
cu_ok_rows=$([ "$(r cu.rows)" = "$(r cu.ok)" ] && [ "$(r cu.with_wallet)" = "$(r cu.ok)" ] && echo yes || echo NO)
no_msg_total=0
for rpc in GetUserById GetWallet CreditWallet DebitWallet TransferFunds ListTransactions; do for s in 1x1 1x16 8x8 8x8s; do
  no_msg_total=$(( no_msg_total + ${R[h2.$rpc.$s.no_message]:-0} )); done; done
# The ledger's write cost: a credit at 8x8 on one row against pgbench running
# its statement (balance, operation row, entry) one transaction per write.
ledger_x=$(awk -v a="$(rps CreditWallet 8x8)" -v b="$(r pgb.credit.hot.tps)" 'BEGIN { if (b + 0 > 0) printf "%.1f", a / b; else print "-" }')
rss_load_max=$(max2 "$(max2 "$(r rss_load.user)" "$(r hwm.user)")" "$(max2 "$(r rss_load.wallet)" "$(r hwm.wallet)")")
first_max=$(max2 "$(r first_ms.user)" "$(r first_ms.wallet)")
credit_frac=$(awk -v a="$(rps CreditWallet 8x8)" -v b="$(ceil CreditWallet hot)" -v c="$(rps CreditWallet 8x8s)" -v d="$(ceil CreditWallet spread)" \
  'BEGIN { x = a / b; y = c / d; printf "%.0f", 100 * (x < y ? x : y) }')
debit_frac=$(awk -v a="$(rps DebitWallet 8x8)" -v b="$(ceil DebitWallet hot)" -v c="$(rps DebitWallet 8x8s)" -v d="$(ceil DebitWallet spread)" \
  'BEGIN { x = a / b; y = c / d; printf "%.0f", 100 * (x < y ? x : y) }')
# The read target's second half: 80% of the rate a call would reach if the
# database and the daemon's own per-call work ("Bare": a unary call without
# the database) simply added up: 1 / (1/pgbench + 1/bare).
combined() { awk -v a="$(ceil "$1" hot)" -v b="$(rps Bare 8x8)" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.0f", 1 / (1 / a + 1 / b); else print "-" }'; }
of_combined() { frac "$(rps "$1" 8x8)" "$(combined "$1")"; }
of_combined_verdict() { awk -v a="$(rps "$1" 8x8)" -v c="$(combined "$1")" 'BEGIN { if (c == "-") print "n/a"; else print (a >= 0.8 * c) ? "**met**" : "**missed**" }'; }
# Cost per call against the floor (bench/floor.c) of the same run: CPU us
# per call at 8x8 (the floor: mean of its two runs) and the ratio.
us() { awk -v v="$1" 'BEGIN { if (v == "-" || v == "") print "-"; else printf "%.1f", v * 1000 }'; }
floor_cpu=$(awk -v a="$(r h2.Floor.8x8.cpu_per_1k)" -v b="$(r h2.Floor.8x8again.cpu_per_1k)" \
  'BEGIN { if (a == "-") print "-"; else if (b == "-") print a; else printf "%.4f", (a + b) / 2 }')
floor_sys=$(awk -v a="$(r h2.Floor.8x8.sys_per_1k)" -v b="$(r h2.Floor.8x8again.sys_per_1k)" \
  'BEGIN { if (a == "-") print "-"; else if (b == "-") print a; else printf "%.4f", (a + b) / 2 }')
x_floor() { awk -v v="$(r "h2.$1.8x8.cpu_per_1k")" -v f="$floor_cpu" 'BEGIN { if (v == "-" || f == "-" || f + 0 == 0) print "-"; else printf "%.2f", v / f }'; }
ir_x() { awk -v v="$(r "ir.$1")" -v f="$(r ir.Floor)" 'BEGIN { if (v == "-" || f == "-" || f + 0 == 0) print "-"; else printf "%.2f", v / f }'; }
read_p99=$(max2 "$(r h2.GetWallet.8x8.p99)" "$(r h2.GetUserById.8x8.p99)")

# The synchronous standby section (bench/run.sh 4c): the daemon against
# pgbench on the same primary and against the single server of the same run,
# then where the credits' time went there.
ha_ceil=$(max2 "$(r pgb_ha.credit.hot.tps)" "${R[pgb_ha.credit.hot.c4.tps]:-0}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a != "-") printf "%.1f", a / b; else print "-" }'; }
# The pairs (single server, then cluster, back to back): medians of each
# side and of the pairs' ratios, which the targets use.
median() { printf '%s\n' "$@" | awk '/^[0-9.]+$/' | sort -n | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }'; }
pair_single=$(median "$(rps CreditWallet 8x8p1)" "$(rps CreditWallet 8x8p2)" "$(rps CreditWallet 8x8p3)")
pair_ha=$(median "$(r ha.CreditWallet.p1.rps)" "$(r ha.CreditWallet.p2.rps)" "$(r ha.CreditWallet.p3.rps)")
pair_pct=$(median $(for i in 1 2 3; do awk -v a="$(r "ha.CreditWallet.p$i.rps")" -v b="$(rps CreditWallet "8x8p$i")" \
  'BEGIN { if (b + 0 > 0 && a != "-") printf "%.0f", 100 * a / b }'; echo; done))
pairs=$(for i in 1 2 3; do printf '%s%s / %s' "$([ $i = 1 ] || echo '; ')" "$(commas "$(rps CreditWallet "8x8p$i")")" "$(commas "$(r "ha.CreditWallet.p$i.rps")")"; done)
ha_x=$(ratio "$pair_ha" "$ha_ceil")
ha_of_single=$pair_pct
groups() {
  local k=$1
  [ "$(r "$k.groups")" = - ] && { echo -; return; }
  echo "$(commas "$(r "$k.groups")") groups, mean $(r "$k.group_mean"); <= 4: $(r "$k.group_le4_pct")%, >= 33: $(r "$k.group_ge33_pct")%"
}
commit() {
  local k=$1
  [ "$(r "$k.commit_ms")" = - ] && { echo "- (not measured by this build)"; return; }
  echo "$(r "$k.commit_ms") ms mean, $(r "$k.commit_gt5ms_pct")% over 5 ms"
}
cluster_section() {
cat <<EOF
## The synchronous standby beside the single server, 8x8 on one wallet, same run

A wallet-service on a pg_auto_failover cluster (a monitor, a primary and a synchronous
standby on this machine, scripts/ha.sh; $(r ha_settings)): every commit waits for the
standby to flush it too. Its ceiling is pgbench of the credit's statement
(bench/pgbench/credit.sql, one row, the higher of 8 and 4 clients) on that primary.
$(r ha_cmd). Credits acknowledged there moved the balance by $(commas "$(r ha_balance)")
($(commas "$(r ha_credits)") calls succeeded, warm-up included).

| | single server | primary + synchronous standby | standby / single |
|---|---:|---:|---:|
| pgbench credit.sql, one row, tps | $(commas "$(ceil CreditWallet hot)") | $(commas "$ha_ceil") | $(frac "$ha_ceil" "$(ceil CreditWallet hot)") |
| CreditWallet req/s, 8x8 one wallet (the runs measured below) | $(commas "$(rps CreditWallet 8x8)") | $(commas "$(r ha.CreditWallet.rps)") | $(frac "$(r ha.CreditWallet.rps)" "$(rps CreditWallet 8x8)") |
| CreditWallet req/s, median of 3 pairs back to back ($pairs) | $(commas "$pair_single") | $(commas "$pair_ha") | $pair_pct% (median of the pairs) |
| CreditWallet / pgbench (medians of the pairs) | $(ratio "$pair_single" "$(ceil CreditWallet hot)")x | ${ha_x}x | |
| CreditWallet p50 / p99 ms | $(r h2.CreditWallet.8x8.p50) / $(r h2.CreditWallet.8x8.p99) | $(r ha.CreditWallet.p50) / $(r ha.CreditWallet.p99) | |
| write groups (statements per transaction) | $(groups h2.CreditWallet.8x8) | $(groups ha.CreditWallet) | |
| commit wait (last statement's result to the commit's) | $(commit h2.CreditWallet.8x8) | $(commit ha.CreditWallet) | |
| GetWallet req/s, 8x8 | $(commas "$(rps GetWallet 8x8)") | $(commas "$(r ha.GetWallet.rps)") | $(frac "$(r ha.GetWallet.rps)" "$(rps GetWallet 8x8)") |

| target (issue 24) | this run | |
|---|---:|---|
| CreditWallet with the standby >= 3x pgbench on its primary (median of the pairs) | ${ha_x}x | $(verdict "$ha_x" ">=" 3) |
| CreditWallet with the standby >= 60% of the single server (median of the pairs' ratios) | ${ha_of_single}% | $(verdict "$ha_of_single" ">=" 60) |

Where the credits' time went, single server and cluster: CPU seconds per 1000 credits of each
process tree (the database: the single server, or the cluster's primary; rest = the load
generator and anything else on the machine), and what the daemon's writer (its backend on
the database) was doing: pg_stat_activity every 20 ms ($(r h2.CreditWallet.8x8.waits.samples) / $(r ha.CreditWallet.waits.samples)
samples; CPU = running, Client/ClientRead = waiting for the daemon, IPC/SyncRep = a commit
waiting for the standby, IO/WAL* and LWLock/WAL* = its own WAL flush, Lock/* = a lock
another transaction holds).

| CPU s / 1k credits | daemon | database | standby | monitor | rest | machine idle |
|---|---:|---:|---:|---:|---:|---:|
| single server | $(r h2.CreditWallet.8x8.cpu.daemon) | $(r h2.CreditWallet.8x8.cpu.primary) | - | - | $(r h2.CreditWallet.8x8.cpu.rest) | $(r h2.CreditWallet.8x8.cpu.idle_pct)% |
| primary + standby | $(r ha.CreditWallet.cpu.daemon) | $(r ha.CreditWallet.cpu.primary) | $(r ha.CreditWallet.cpu.standby) | $(r ha.CreditWallet.cpu.monitor) | $(r ha.CreditWallet.cpu.rest) | $(r ha.CreditWallet.cpu.idle_pct)% |

| writer, state:wait | single server | primary + standby |
|---|---:|---:|
$(for k in "${!R[@]}"; do case $k in *.waits.samples) ;; h2.CreditWallet.8x8.waits.* | ha.CreditWallet.waits.*) echo "${k#*.waits.}" ;; esac; done |
  sort -u | while read -r w; do echo "${R[ha.CreditWallet.waits.$w]:-0} ${R[h2.CreditWallet.8x8.waits.$w]:-0} $w"; done |
  sort -rn | head -8 | awk '{ printf "| %s | %s%% | %s%% |\n", $3, $2, $1 }')
EOF
}

report() {
cat <<EOF
# Benchmarks

Produced by \`make bench\` (bench/run.sh) on $(r date)$([ "$(r quick)" = 1 ] && echo ' — **BENCH_QUICK=1 smoke run, short runs: figures are indicative only**').
Machine: $(r cores) cores, $(r cpu), $(r mem) RAM, Linux $(r kernel). Commit $(r commit).
PostgreSQL $(r pg_version) on the same machine ($(r pg_settings)), a throwaway cluster
from scripts/pg.sh. Daemons: release build (\`$(r build)\`), DB_SESSIONS=$(r db_sessions),
default log level. Load generators run on the same $(r cores) cores as the daemons and the
database, so every figure is a whole-machine figure. Whole run: $(r wall_s) s.

## Against the old system and the targets

Headline shape 8x8 = 8 HTTP/2 connections x 8 concurrent streams (64 calls in flight).
"Ceiling" = pgbench running the RPC's own SQL statement on the same database (hot: one row;
spread: 1000 rows), 8 clients or 4 when higher (see below).

| metric | old system | this run | target | |
|---|---:|---:|---|---|
| GetWallet req/s, 8x8 | 1,440 | $(commas "$(rps GetWallet 8x8)") | >= 15,000 | $(verdict "$(rps GetWallet 8x8)" ">=" 15000) |
| GetUserById req/s, 8x8 | - | $(commas "$(rps GetUserById 8x8)") | >= 15,000 | $(verdict "$(rps GetUserById 8x8)" ">=" 15000) |
| GetWallet, of 1/(1/pgbench + 1/bare RPC) = $(commas "$(combined GetWallet)") | - | $(of_combined GetWallet) | >= 80% | $(of_combined_verdict GetWallet) |
| GetUserById, of 1/(1/pgbench + 1/bare RPC) = $(commas "$(combined GetUserById)") | - | $(of_combined GetUserById) | >= 80% | $(of_combined_verdict GetUserById) |
| Bare CPU per call / the floor's (same run) | - | $(x_floor Bare)x | <= 1.3x | $(verdict "$(x_floor Bare)" "<" 1.3001) |
| GetWallet CPU per call / the floor's | - | $(x_floor GetWallet)x | <= 2x | $(verdict "$(x_floor GetWallet)" "<" 2.0001) |
| GetUserById CPU per call / the floor's | - | $(x_floor GetUserById)x | <= 2x | $(verdict "$(x_floor GetUserById)" "<" 2.0001) |
| read p99 at 8x8 (worse of the two) | 80 ms | $read_p99 ms | < 10 ms | $(verdict "$read_p99" "<" 10) |
| CreditWallet req/s, 8x8 one wallet / spread | 650 | $(commas "$(rps CreditWallet 8x8)") / $(commas "$(rps CreditWallet 8x8s)") | >= 90% of ceiling | $credit_frac% (worse) $(verdict "$credit_frac" ">=" 90) |
| DebitWallet req/s, 8x8 one wallet / spread | 340 | $(commas "$(rps DebitWallet 8x8)") / $(commas "$(rps DebitWallet 8x8s)") | >= 90% of ceiling | $debit_frac% (worse) $(verdict "$debit_frac" ">=" 90) |
| DebitWallet p99, 8x8 one wallet | 370 ms | $(r h2.DebitWallet.8x8.p99) ms | - | |
| CreditWallet 8x8 one wallet, x pgbench of its statement (operation row + entry, one transaction per write) | - | ${ledger_x}x | >= 3x | $(verdict "$ledger_x" ">=" 3) |
| TransferFunds req/s, 8x8 over 8 wallet pairs | - | $(commas "$(rps TransferFunds 8x8s)") | >= 5,000 | $(verdict "$(rps TransferFunds 8x8s)" ">=" 5000) |
| ListTransactions req/s (pages of 20), 8x8 | - | $(commas "$(rps ListTransactions 8x8)") | >= 10,000 | $(verdict "$(rps ListTransactions 8x8)" ">=" 10000) |
| CreateUser users/s, 32 in flight | 220 | $(commas "$(r cu.rps)") | >= 1,500 | $(verdict "$(r cu.rps)" ">=" 1500) |
| RSS idle (user / wallet) | ~170 MB | $(mib "$(r rss_idle.user)") / $(mib "$(r rss_idle.wallet)") | - | |
| RSS under load, peak of either daemon | 300 MB | $(mib "$rss_load_max") | < 20 MiB | $(verdict "$rss_load_max" "<" 20480) |
| exec -> first served call, median of starts (user / wallet) | 1.2 s | $(r first_ms.user) ms / $(r first_ms.wallet) ms | < 50 ms | $(verdict "$first_max" "<" 50) |
| balances = start + credits - debits +/- transfers | - | $([ "$(r balances_bad)" = 0 ] && echo "all 25 wallets match" || echo "**$(r balances_bad) wallets differ**") | exact | $([ "$(r balances_bad)" = 0 ] && echo '**met**' || echo '**missed**') |
| balance = sum of ledger entries | - | $([ "$(r ledger_drift)" = 0 ] && echo "every wallet" || echo "**$(r ledger_drift) wallets differ**") | exact | $([ "$(r ledger_drift)" = 0 ] && echo '**met**' || echo '**missed**') |
| "succeeded" answers without a message (gRPC error behind HTTP 200) | - | $no_msg_total | 0 | $([ "$no_msg_total" = 0 ] && echo '**met**' || echo '**missed**') |

## h2load matrix

Each row: a warm-up, then a run sized to last about $(r secs) s. Latency is per call, from
h2load's per-request log. CPU = the serving daemon's utime+stime per 1000 calls.
"No msg" = answers h2load counted as succeeded (HTTP 200) that carried no message, i.e.
a non-zero grpc-status; it must be 0.

| RPC | shape | calls | req/s | p50 ms | p99 ms | p99.9 ms | CPU s / 1k calls | no msg | ceiling tps | of ceiling |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
for rpc in Floor Bare GetUserById GetWallet CreditWallet DebitWallet TransferFunds ListTransactions; do
  for s in 1x1 1x16 8x8 8x8s 8x8again; do
    [ -n "${R[h2.$rpc.$s.ok]:-}" ] || continue
    k="h2.$rpc.$s"; c=-; f=-
    [ -n "${stmt[$rpc]:-}" ] && case $s in 8x8) c=$(ceil "$rpc" hot) ;; 8x8s) c=$(ceil "$rpc" spread) ;; esac
    [ "$c" = - ] || f=$(frac "$(r "$k.rps")" "$c")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$rpc" "$(shape_of "$rpc" "$s")" \
      "$(commas "$(r "$k.ok")")" "$(commas "$(r "$k.rps")")" "$(r "$k.p50")" "$(r "$k.p99")" "$(r "$k.p999")" \
      "$(r "$k.cpu_per_1k")" "$(r "$k.no_message")" "$([ "$c" = - ] && echo - || commas "$c")" "$f"
  done
done
cat <<EOF

"Bare" is wallet-service's grpc.health.v1.Health/Check with an empty request: the
daemon's whole per-call path (gRPC, decode, handler, encode, log line) without the
database, i.e. the rate the daemon alone could serve on this machine. "Floor" is the
same call answered by bench/floor.c (below).
1x1 and 1x16 are measured for latency at low concurrency; their ceilings are not comparable
(pgbench at 8 clients) and are left out. "Spread" runs 8 h2load processes at once, each one
connection x 8 streams on its own wallet (h2load sends a single body per process); the
pgbench spread ceiling spreads over 1000 rows, a little less row contention than 8 wallets,
so the spread fractions are conservative.

## Cost per call against the floor

The floor is bench/floor.c: the gRPC C core answering grpc.health.v1.Health/Check from a
constant on one completion-queue thread, no runtime: the least a call can cost in this
design. It is measured in this run, right before Bare and again after the reads (its CPU
below is the mean of the two), because absolute figures drift ~30% within minutes on this
machine while ratios taken minutes apart hold. CPU = the server's utime+stime per call at
8x8 (the h2load rows above); "of it kernel" = stime. Instructions = user space only, under
callgrind (\`$(r ir_cmd)\`), split by function group (each function's own instructions).

| | Floor | Bare | GetWallet | GetUserById |
|---|---:|---:|---:|---:|
| CPU us per call, 8x8 | $(us "$floor_cpu") | $(us "$(r h2.Bare.8x8.cpu_per_1k)") | $(us "$(r h2.GetWallet.8x8.cpu_per_1k)") | $(us "$(r h2.GetUserById.8x8.cpu_per_1k)") |
| of it kernel (stime) | $(us "$floor_sys") | $(us "$(r h2.Bare.8x8.sys_per_1k)") | $(us "$(r h2.GetWallet.8x8.sys_per_1k)") | $(us "$(r h2.GetUserById.8x8.sys_per_1k)") |
| CPU / the floor's (target: Bare <= 1.3, reads <= 2) | 1 | $(x_floor Bare) | $(x_floor GetWallet) | $(x_floor GetUserById) |
| user-space instructions per call | $(commas "$(r ir.Floor)") | $(commas "$(r ir.Bare)") | $(commas "$(r ir.GetWallet)") | $(commas "$(r ir.GetUserById)") |
| instructions / the floor's | 1 | $(ir_x Bare) | $(ir_x GetWallet) | $(ir_x GetUserById) |
$(for g in "gRPC core" "libc (malloc, locks, memcpy)" "decode/validate" "log" "metrics" "admission/authz" "fiber switches" "libpq/db" "runtime other"; do
  printf '| - %s | %s | %s | %s | %s |\n' "$g" "$(commas "${R[cg.Floor.$g]:-0}")" "$(commas "${R[cg.Bare.$g]:-0}")" \
    "$(commas "${R[cg.GetWallet.$g]:-0}")" "$(commas "${R[cg.GetUserById.$g]:-0}")"; done)

Groups: gRPC core = libgrpc, libgpr and the abseil it runs on; libc = what anything calls
there (malloc/free, mutexes, memcpy; gRPC is its main caller); log = formatting the JSON
line (its write is now one per ~150 lines, kernel); admission/authz = the executor's
classes and queue, the caller's identity and policy check; fiber switches = starting and
resuming fibers; libpq/db = libpq and the pipeline; runtime other = the rest of the
runtime and handlers (call set-up, request ids, encode). The kernel's share is in the CPU
rows (stime), not in callgrind.

## The ceiling: pgbench, $(r pg_secs) s each, 8 (writes also 4) clients, \`-M prepared\`

| statement (RPC) | clients | one row tps | one row avg ms | 1000 rows tps | 1000 rows avg ms |
|---|---:|---:|---:|---:|---:|
EOF
for rpc in GetUserById GetWallet CreditWallet DebitWallet; do
  s=${stmt[$rpc]}
  for c in 8 4; do
    x=$([ $c = 8 ] || echo ".c$c")
    [ -n "${R[pgb.$s.hot$x.tps]:-}" ] || continue
    printf '| bench/pgbench/%s.sql (%s) | %s | %s | %s | %s | %s |\n' "$s" "$rpc" "$c" \
      "$(commas "$(r "pgb.$s.hot$x.tps")")" "$(r "pgb.$s.hot$x.lat_ms")" "$(commas "$(r "pgb.$s.spread$x.tps")")" "$(r "pgb.$s.spread$x.lat_ms")"
  done
done
cat <<EOF

The ceiling used above is the higher of the 8- and 4-client figures (4 = the database
sessions of one daemon, DB_SESSIONS; on one hot row fewer clients queue less on
its lock). Every transaction commits with fsync and synchronous_commit on, as the daemons' do.
EOF
cat <<EOF

## CreateUser (user -> wallet -> user), 32 in flight, $(r cu_secs) s

bench/createuser.js: gRPC over one node:http2 connection (not @grpc/grpc-js, whose
~1.6 ms of CPU per call took more of the 2 cores than both daemons), unique emails.

| users created | failed | users/s | p50 ms | p99 ms | p99.9 ms | CPU s / 1k (user / wallet) | rows in "User" | with a wallet |
|---:|---:|---:|---:|---:|---:|---|---:|---:|
| $(commas "$(r cu.ok)") | $(r cu.failed) | $(commas "$(r cu.rps)") | $(r cu.p50) | $(r cu.p99) | $(r cu.p999) | $(r cu.cpu_per_1k.user) / $(r cu.cpu_per_1k.wallet) | $(r cu.rows) | $(r cu.with_wallet) |
$(for k in "${!R[@]}"; do case $k in cu.code.*) echo "
Failed CreateUser calls with gRPC code ${k#cu.code.}: ${R[$k]}" ;; esac; done)

Rows in the database match the successful calls, each with its wallet: $cu_ok_rows.

$(cluster_section)

## One locked row, $(r cu_secs) s

bench/lockwait.sh: a psql session holds one wallet's row lock (\`SELECT ... FOR UPDATE\` in
an open transaction) while bench/lockwait.js (@grpc/grpc-js) credits 8 other wallets, one
closed loop each, and sends a credit to the locked wallet every 250 ms, each of which waits
for the lock (DB_LOCK_TIMEOUT_MS, 1000 ms by default): a write waits 50 ms in its group,
then alone on the lock waiter session, so the others' groups go on. Before the lock
waiter (0bb17a4) the credits to other wallets waited in the group of a locked one, up to
the whole lock timeout each time, one after another (issue 24 item 3). The same load with
no lock held runs first: the machine's own latency at that moment.

| credits to other wallets | OK | failed | p50 ms | p99 ms | max ms | credits to the locked wallet OK / ABORTED / other | slowest of them ms |
|---|---:|---:|---:|---:|---:|---|---:|
| no lock held (just before) | $(commas "$(r lockwait.free.others.ok)") | $(r lockwait.free.others.failed) | $(r lockwait.free.others.p50) | $(r lockwait.free.others.p99) | $(r lockwait.free.others.max) | $(r lockwait.free.locked.ok) / $(r lockwait.free.locked.aborted) / $(r lockwait.free.locked.other) | $(r lockwait.free.locked.max) |
| one wallet's row locked | $(commas "$(r lockwait.others.ok)") | $(r lockwait.others.failed) | $(r lockwait.others.p50) | $(r lockwait.others.p99) | $(r lockwait.others.max) | $(r lockwait.locked.ok) / $(r lockwait.locked.aborted) / $(r lockwait.locked.other) | $(r lockwait.locked.max) |

Every credit answered OK applied once (balances and ledgers): $(r lockwait.applied_once).

The locked wallet's credits wait for each other (one lock waiter per daemon): one is
answered ABORTED per lock timeout while the lock is held; those still waiting when it is
released succeed.

## Mutual TLS beside plaintext, 64 in flight on one connection, $(r cu_secs) s

bench/unary.js drives both columns the same way (node:http2, one connection, 64 calls
in flight, the hot wallet): plaintext against the wallet-service above, mutual TLS against
a second one with \`TLS_CERT_FILE\`, \`TLS_KEY_FILE\`, \`TLS_CA_FILE\` and the example policy
(config/authz-policy.json), called with the admin client's certificate. The driver is not
h2load, so compare the columns with each other rather than with the matrix above.

| RPC | plaintext req/s | mutual TLS req/s | mutual TLS / plaintext | p99 ms plaintext | p99 ms mutual TLS | failed (plaintext / mTLS) |
|---|---:|---:|---:|---:|---:|---|
$(for rpc in GetWallet CreditWallet; do echo "| $rpc | $(commas "$(r "tls.$rpc.plain.rps")") | $(commas "$(r "tls.$rpc.mtls.rps")") | $(frac "$(r "tls.$rpc.mtls.rps")" "$(r "tls.$rpc.plain.rps")") | $(r "tls.$rpc.plain.p99") | $(r "tls.$rpc.mtls.p99") | $(r "tls.$rpc.plain.failed") / $(r "tls.$rpc.mtls.failed") |"; done)

## Memory and start-up

| | user-service | wallet-service |
|---|---:|---:|
| exec -> first served call (median of the starts) | $(r first_ms.user) ms | $(r first_ms.wallet) ms |
| fastest - slowest start | $(r first_range.user) ms | $(r first_range.wallet) ms |
| exec -> port accepting connections (the last start) | $(r listen_ms.user) ms | $(r listen_ms.wallet) ms |
| VmRSS idle (after the first call) | $(mib "$(r rss_idle.user)") | $(mib "$(r rss_idle.wallet)") |
| VmRSS, highest sample under load (every 0.2 s) | $(mib "$(r rss_load.user)") | $(mib "$(r rss_load.wallet)") |
| VmHWM (peak since the load began) at the end | $(mib "$(r hwm.user)") | $(mib "$(r hwm.wallet)") |
| VmRSS at the end | $(mib "$(r rss_after.user)") | $(mib "$(r rss_after.wallet)") |
| log lines written / of them errors | $(r log_lines.user) / $(r log_errors.user) | $(r log_lines.wallet) / $(r log_errors.wallet) |
| still running at the end | $(r alive.user) | $(r alive.wallet) |

First call: bench/firstcall.js spawns the daemon and polls its port every 2 ms, then sends
GetUserById / GetWallet until the answer has status 0; the clock starts just before exec.
Each daemon is started $(r first_starts) times (each stopped before the next; the last one serves
the load); the median is the figure above.

## Correctness

- Every request body was first sent once through @grpc/grpc-js (bench/check.js), which sees
  the grpc-status trailer h2load ignores: all answered 0. During the load, every answer
  h2load counted as succeeded is checked to have carried a message (DATA bytes / size of one
  answer); a gRPC error has none. Total without a message: $no_msg_total.
- Balances after the run (start $(commas 1000000000)), wallet 0 is the hot one:

| wallet | balance | expected | credits ok | debits ok |
|---|---:|---:|---:|---:|
$(for i in 0 1 2 3 4 5 6 7 8; do read -r got want cr db <<<"$(r "balance.$i")"; echo "| $i | $got | $want | $cr | $db |"; done)

Wallets with a negative balance: $(r negative_balances). Wallets whose balance is not the sum of their ledger entries: $(r ledger_drift).

## Commands

- Build: \`$(r build)\`
- pgbench: \`$(r pgb_cmd)\`
- h2load, 8x8 GetWallet: \`$(r h2.GetWallet.8x8.cmd)\`
- h2load, 8x8 spread DebitWallet: \`$(r h2.DebitWallet.8x8s.cmd)\`
- CreateUser: \`node bench/createuser.js 127.0.0.1:PORT 32 $(r cu_secs) PREFIX\`
- Mutual TLS: \`$(r tls_cmd)\` (plaintext: \`http://\` and no PEM files)
- Tools: $(r versions)

BODY is the gRPC frame written by bench/body.sh (0x00, 4-byte big-endian length, then the
protobuf: 0x0a len user_id [0x10 varint amount]); check one with
\`tail -c +6 BODY | protoc --decode_raw\`. Re-run with \`make bench\`; \`BENCH_QUICK=1 make bench\`
is a smoke run of under a minute after the build that leaves this file alone.

EOF
cat "$(dirname "$0")/history.md"
}

# BENCH_ONLY=cluster measured the cluster section alone.
if [ "$(r only)" = cluster ]; then
  report() { echo "# Benchmarks: the synchronous standby alone (BENCH_ONLY=cluster), $(r date), commit $(r commit)"; echo; cluster_section; }
fi
if [ -n "$out" ]; then report | tee "$out"; else report; fi
