#!/usr/bin/env bash
# A callgrind profile by function group (issue 24): each function's own
# (exclusive) instructions summed into gRPC core, libc, decode/validate, log,
# metrics, admission, fiber switches, libpq and the rest of the runtime,
# divided by the calls it covers. Kernel time is not in callgrind (user space
# only); bench/percall.sh cpu gives the whole CPU beside it.
#   cg-groups.sh [--raw] CALLS callgrind.out...   prints "group instructions_per_call share"
# (--raw: "group|instructions_per_call" lines, for bench/run.sh)
set -euo pipefail
raw=0; [ "${1:-}" = --raw ] && { raw=1; shift; }
calls=${1:?CALLS}; shift
awk -v calls="$calls" '
  # name compression: "(id) name" defines, "(id)" refers
  function name(kind, s,   id) {
    if (match(s, /^\([0-9]+\)/)) {
      id = substr(s, 2, RLENGTH - 2); s = substr(s, RLENGTH + 1); sub(/^ /, "", s)
      if (s != "") names[kind, id] = s
      return names[kind, id]
    }
    return s
  }
  function group(ob, fn) {
    if (fn ~ /^(rt_log|rt_timefmt|put_member|put_raw|put_escaped|utf8_char_len|rt_log_format)/) return "log"
    if (fn ~ /^rt_metrics|^metrics_/) return "metrics"
    if (fn ~ /^(rt_executor_submit|pop_call|startable_class|refuse_expired_calls|count_call|give_up_time|rt_authz|rt_tls_peer|put_slot|take_slot|start_waiting_calls)/) return "admission/authz"
    if (fn ~ /^rt_fiber|^fiber_|rt_switch|^wake$|^start_slot|^run_slot/) return "fiber switches"
    if (fn ~ /^(rt_codec|protobuf_c|rt_wire|rt_rule|rt_violations|rt_idempotency|parse_|validate|.*__validate|.*__unpack|.*__pack|.*_init$)/) return "decode/validate"
    if (ob ~ /libpq|rt_db|db_/ || fn ~ /^rt_db|^PQ|^pq/) return "libpq/db"
    if (ob ~ /libgrpc|libgpr|libabsl|libupb|libaddress_sorting|libcares|libre2/) return "gRPC core"
    if (ob ~ /libc\.so|ld-linux|libstdc\+\+|libgcc/) return "libc (malloc, locks, memcpy)"
    if (ob ~ /libssl|libcrypto|libz/) return "crypto/zlib"
    return "runtime other"
  }
  /^ob=/ { ob = name("ob", substr($0, 4)); next }
  /^fn=/ { fn = name("fn", substr($0, 4)); cur = group(ob, fn); skip = 0; next }
  /^c(ob|fn|fi|fl)=/ { k = substr($0, 1, 3); name(k == "cob" ? "ob" : k == "cfn" ? "fn" : "fl", substr($0, 5)); next }
  /^calls=/ { skip = 1; next }   # the next cost line is the call, inclusive of the callee
  /^[0-9+*-]/ {
    if (skip) { skip = 0; next }
    total[cur] += $2; all += $2; next
  }
  END {
    for (g in total) printf "%.0f|%s|%.1f%%\n", total[g] / calls, g, 100 * total[g] / all
    printf "%.0f|total|100%%\n", all / calls
  }' "$@" | sort -t'|' -k1,1 -rn | awk -F'|' -v raw="$raw" '{ if (raw) print $2 "|" $1; else printf "%-30s %8s %7s\n", $2, $1, $3 }'
