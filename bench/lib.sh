# Helpers shared by bench/run.sh and its pieces (sourced, not run): results
# file, clocks, /proc readers, free ports, percentiles. Kept apart so run.sh
# reads as the sequence of measurements it performs.

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# Results are "key<TAB>value" lines in $RESULTS; report.sh turns them into tables.
put() { printf '%s\t%s\n' "$1" "$2" >>"$RESULTS"; }
get() { awk -F'\t' -v k="$1" '$1 == k { v = $2 } END { print v }' "$RESULTS"; }

now_us() { local t=${EPOCHREALTIME/./}; echo "${t#0}"; }   # bash 5: no fork

# A TCP port nobody listens on right now, below the kernel's ephemeral range
# (32768 and up), so no outgoing connection (the daemons' database sessions)
# can take it before the daemon meant to listen on it binds it.
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 12000))
    node -e 'const s=require("net").createServer();s.once("error",()=>process.exit(1));s.listen(+process.argv[1],"127.0.0.1",()=>s.close())' "$port" && break
  done
  echo "$port"
}

# utime+stime of a process in clock ticks (fields 14 and 15 of /proc/PID/stat;
# the command name in field 2 may hold spaces, so cut after the last ')').
cpu_ticks() { local s; s=$(<"/proc/$1/stat"); s=${s##*) }; set -- $s; echo $(( ${12} + ${13} )); }
sys_ticks() { local s; s=$(<"/proc/$1/stat"); s=${s##*) }; set -- $s; echo "${13}"; }
CLK_TCK=$(getconf CLK_TCK)

# "VmRSS VmHWM" of a process, in kB.
mem_kb() { awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { print r, h }' "/proc/$1/status"; }

# p50 p99 p99.9 in ms over the third column (microseconds) of h2load --log-file files.
percentiles() {
  cat "$@" | awk -F'\t' '{ print $3 }' | sort -n | awk '
    { v[NR] = $1 }
    function p(q,  i) { i = int(q * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; return v[i] / 1000 }
    END { if (NR == 0) print "- - -"; else printf "%.2f %.2f %.2f\n", p(0.50), p(0.99), p(0.999) }'
}
