#!/usr/bin/env bash
# One h2load measurement: N requests per body file at C connections x M
# streams, one h2load process per body file, all at once (h2load sends a single
# body per run, so "spread over wallets" means several processes, each on its
# own wallet). Prints key=value lines: totals, per-process successes, latency
# percentiles from h2load's per-request log, and the DATA bytes received, which
# lets the caller prove every "succeeded" (HTTP 200) carried a message: gRPC
# error answers carry none, so bytes / size-of-one-answer = real successes.
#   h2.sh WORKDIR N C M URL BODY...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
dir=${1:?workdir}; n=${2:?N}; c=${3:?C}; m=${4:?M}; url=${5:?URL}; shift 5
[ $# -ge 1 ] || { echo "h2.sh: no body file" >&2; exit 2; }
mkdir -p "$dir"
rm -f "$dir"/h2.*.out "$dir"/h2.*.log

start=$(now_us)
pids=()
i=0
for body in "$@"; do
  timeout 300 h2load -n "$n" -c "$c" -m "$m" -t 1 \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    --data="$body" --log-file="$dir/h2.$i.log" "$url" >"$dir/h2.$i.out" 2>&1 &
  pids+=($!)
  i=$((i + 1))
done
status=0
for p in "${pids[@]}"; do wait "$p" || status=$?; done
end=$(now_us)
[ "$status" = 0 ] || { echo "h2.sh: h2load failed ($status):" >&2; cat "$dir"/h2.*.out >&2; exit 1; }

ok=0 failed=0 errored=0 timeout=0 data=0
for ((j = 0; j < i; j++)); do
  f="$dir/h2.$j.out"
  read -r s fl er to < <(awk '/^requests:/ { print $8, $10, $12, $14 }' "$f")
  d=$(awk '/^traffic:/ { for (k = 1; k <= NF; k++) if ($k == "data") { gsub(/[()]/, "", $(k-1)); print $(k-1) } }' "$f")
  echo "ok.$j=$s"; echo "data.$j=$d"
  ok=$((ok + s)) failed=$((failed + fl)) errored=$((errored + er)) timeout=$((timeout + to)) data=$((data + d))
done
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
read -r p50 p99 p999 < <(percentiles "$dir"/h2.*.log)
echo "ok=$ok"; echo "failed=$failed"; echo "errored=$errored"; echo "timeout=$timeout"
echo "data=$data"; echo "secs=$secs"
echo "rps=$(awk -v n="$ok" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')"
echo "p50=$p50"; echo "p99=$p99"; echo "p999=$p999"
