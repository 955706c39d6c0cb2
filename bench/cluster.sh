# Where a write's time goes on the synchronous-standby cluster (bench/run.sh
# section 4c; sourced, not run): the CPU each part of the machine used during
# a run, what the daemon's database backends waited on (pg_stat_activity
# sampled every 20 ms), and the daemon's write groups and commit waits from
# its /metrics. Each helper takes a snapshot before the run and turns it into
# key=value lines after, which run.sh records with put.

# The pids of a process and all its descendants.
tree_pids() {
  local todo=("$@") out=() p s f
  local -A kids
  for f in /proc/[0-9]*/stat; do
    { read -r s <"$f"; } 2>/dev/null || continue
    p=${s%% *}; s=${s##*) }; s=${s#* }
    kids[${s%% *}]+=" $p"   # the parent's pid is the field after the state
  done
  while [ ${#todo[@]} -gt 0 ]; do
    p=${todo[0]}; todo=("${todo[@]:1}"); out+=("$p")
    for s in ${kids[$p]:-}; do todo+=("$s"); done
  done
  echo "${out[@]}"
}

# utime+stime ticks summed over pids (those gone count 0).
ticks_of() {
  local sum=0 p
  for p in "$@"; do [ -r "/proc/$p/stat" ] && sum=$(( sum + $(cpu_ticks "$p" 2>/dev/null || echo 0) )); done
  echo "$sum"
}

# Busy and total ticks of the whole machine (/proc/stat's cpu line).
machine_ticks() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t; exit }' /proc/stat; }

# CPU snapshot of named process trees into FILE: "name ticks" lines, then
# "machine busy total". cpu_snap FILE name=PID...
cpu_snap() {
  local file=$1 arg; shift
  : >"$file"
  for arg in "$@"; do
    # shellcheck disable=SC2046
    echo "${arg%%=*} $(ticks_of $(tree_pids ${arg#*=}))" >>"$file"
  done
  echo "machine $(machine_ticks)" >>"$file"
}

# Seconds of CPU per 1000 calls of each tree between two snapshots, the rest
# of the machine's busy time (h2load, other users) and its idle share:
# cpu.NAME=..., cpu.rest=..., cpu.idle_pct=...
cpu_report() {
  local before=$1 after=$2 calls=$3
  awk -v n="$calls" -v hz="$CLK_TCK" '
    FNR == NR { b[$1] = $2; bt[$1] = $3; next }
    $1 == "machine" { busy = $2 - b["machine"]; total = $3 - bt["machine"]; next }
    { d = $2 - b[$1]; named += d; print "cpu." $1 "=" sprintf("%.3f", n ? d / hz / n * 1000 : 0) }
    END {
      print "cpu.rest=" sprintf("%.3f", n ? (busy - named) / hz / n * 1000 : 0)
      print "cpu.idle_pct=" sprintf("%.0f", total ? 100 * (total - busy) / total : 0)
    }' "$before" "$after"
}

# Samples every 20 ms, until killed, the state and wait event of each
# backend of application NAME on URL, as "pid|state|wait|writes" lines
# (writes: its last statement was a write or a group's locks). Prints the
# sampler's pid.
waits_start() {
  local url=$1 app=$2 file=$3
  psql "$url" -X -q -tA -F'|' >"$file" 2>/dev/null <<SQL &
SELECT pid, state, coalesce(wait_event_type || '/' || wait_event, 'CPU'), query ~ '"Operation"|pg_advisory_xact_lock'
  FROM pg_stat_activity WHERE application_name = '$app' AND pid <> pg_backend_pid() \watch 0.02
SQL
  echo $!
}

# What the daemon's writer was doing, as shares of its samples: its
# writer is the backend seen running a write or a group's locks that was
# active most often (the others are its readers, idle during writes):
# waits.STATE:WAIT=percent, most common first, and waits.samples=N.
waits_report() {
  awk -F'|' 'NF >= 4 { s[$1 "|" $2 "|" $3]++; if ($4 == "t") w[$1] = 1; if ($2 == "active") a[$1]++ }
    END {
      for (p in w) if (!(best in a) || a[p] > a[best]) best = p
      for (k in s) { split(k, f, "|"); if (f[1] == best) { n += s[k]; c[f[2] ":" f[3]] += s[k] } }
      print "waits.samples=" n + 0
      for (k in c) printf "%d waits.%s=%.0f\n", c[k], k, 100 * c[k] / n
    }' "$1" | sort -rn | sed 's/^[0-9]* //'
}

# The daemon's /metrics at HOST:PORT.
scrape() {
  local host=${1%:*} port=${1##*:}
  exec 5<>"/dev/tcp/$host/$port" || return 1
  printf 'GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" >&5
  cat <&5
  exec 5<&-
}

# Write groups between two scrapes: groups=, mean size, the share of groups
# of at most 4 statements and of at least 33; and, when the daemon has it,
# the mean commit wait in ms and its share above 5 ms.
groups_report() {
  awk '
    function bucket(line, name,   le) { le = line; sub(/.*le="/, "", le); sub(/".*/, "", le); return le }
    FNR == 1 { f++ }
    /^wallet_db_write_group_statements_bucket/ { g[f, bucket($0)] = $2 }
    /^wallet_db_write_group_statements_sum/ { gs[f] = $2 }
    /^wallet_db_write_group_statements_count/ { gc[f] = $2 }
    /^wallet_db_write_commit_seconds_bucket/ { c[f, bucket($0)] = $2 }
    /^wallet_db_write_commit_seconds_sum/ { cs[f] = $2; has = 1 }
    /^wallet_db_write_commit_seconds_count/ { cc[f] = $2 }
    END {
      n = gc[2] - gc[1]
      print "groups=" n
      print "group_mean=" (n ? sprintf("%.1f", (gs[2] - gs[1]) / n) : "-")
      print "group_le4_pct=" (n ? sprintf("%.0f", 100 * (g[2, "4"] - g[1, "4"]) / n) : "-")
      print "group_ge33_pct=" (n ? sprintf("%.0f", 100 * (n - (g[2, "32"] - g[1, "32"])) / n) : "-")
      m = cc[2] - cc[1]
      print "commit_ms=" (has && m ? sprintf("%.2f", 1000 * (cs[2] - cs[1]) / m) : "-")
      print "commit_gt5ms_pct=" (has && m ? sprintf("%.0f", 100 * (m - (c[2, "0.005"] - c[1, "0.005"])) / m) : "-")
    }' "$1" "$2"
}
