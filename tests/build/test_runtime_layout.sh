#!/usr/bin/env bash
# The runtime's shape holds: its objects call each other without a cycle, so
# each module can be read (and tested) knowing only the ones below it (the
# graph comes from nm, call_graph.sh, and tsort finds loops; a two-object
# cycle built here proves the check fails when there is one); each folder of
# runtime/src calls only into itself, the folders below it (LAYERS) and the
# leaves at runtime/src's top, and includes only their headers (an upward
# call and include built here prove the checks catch them); and every public
# header (runtime/include) compiles on its own, with nothing of runtime/src
# or gen/ on the include path.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

# runtime/src's folders, bottom up: the single statement of their order. The
# leaves at the top of runtime/src (and the protoc-c objects of runtime/proto)
# sit below them all; a new folder must be named here or the check fails.
LAYERS="db security serve builtin daemon"

# acyclic FILE...: the call graph of these objects has no loop (tsort names it otherwise).
acyclic() {
  local graph; graph=$(bash "$root/tests/build/call_graph.sh" "$@") || return 2
  tsort <<<"$graph" >/dev/null 2>"$tmp/loop"
}
expect() {
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok    $name"
  else failed=$((failed + 1)); echo "FAIL  $name"; cat "$tmp/loop" 2>/dev/null; fi
}

cd "$root" && make --no-print-directory -s all >/dev/null || exit 1
expect "the runtime's object call graph has no cycle" acyclic "$root/build/libruntime.a"

mkdir -p "$tmp/cycle"
printf 'int b(int);\nint a(int n) { return n ? b(n - 1) : 0; }\n' >"$tmp/cycle/a.c"
printf 'int a(int);\nint b(int n) { return n ? a(n - 1) : 1; }\n' >"$tmp/cycle/b.c"
cc -c "$tmp/cycle/a.c" -o "$tmp/cycle/a.o" && cc -c "$tmp/cycle/b.c" -o "$tmp/cycle/b.o" || exit 1
# cyclic FILE...: the check fails, naming the objects of the loop.
cyclic() { ! acyclic "$@" && grep -q 'a.o' "$tmp/loop" && grep -q 'b.o' "$tmp/loop"; }
expect "a cycle between two objects is caught" cyclic "$tmp/cycle/a.o" "$tmp/cycle/b.o"

# downward SRC OBJECT...: no object calls into a higher folder than its own.
# An object's folder is where its .c stands under SRC ("." for the leaves,
# rank 0, as is an object with no source under SRC); a folder's rank is its
# place in LAYERS. Each upward call is listed as "caller (folder) -> callee (folder)".
downward() {
  local src=$1; shift
  local graph; graph=$(bash "$root/tests/build/call_graph.sh" "$@") || return 2
  (cd "$src" && find . -name '*.c') | awk -v layers="$LAYERS" -v graph="$graph" '
    BEGIN { n = split(layers, l, " "); rank["."] = 0; for (i = 1; i <= n; i++) rank[l[i]] = i }
    { f = substr($0, 3); o = f; sub(/^.*\//, "", o); sub(/\.c$/, ".o", o)
      d = f; if (!sub(/\/[^\/]*$/, "", d)) d = "."
      if (!(d in rank) && !(d in told)) { print "folder " d " is not in LAYERS"; told[d] = bad = 1 }
      dir[o] = d }
    END {
      m = split(graph, e, "\n")
      for (i = 1; i <= m; i++) {
        if (split(e[i], p, " ") != 2) continue
        sub(/^.*:/, "", p[1]); sub(/^.*:/, "", p[2])  # "lib.a:x.o" -> "x.o"
        a = (p[1] in dir) ? dir[p[1]] : "."; b = (p[2] in dir) ? dir[p[2]] : "."
        if (!(a in rank) || !(b in rank)) continue  # told above
        if (a != b && rank[b] >= rank[a]) { print p[1] " (" a ") -> " p[2] " (" b ")"; bad = 1 }
      }
      exit bad
    }' >"$tmp/loop"
}
: >"$tmp/loop"
expect "each runtime folder calls only downward" downward "$root/runtime/src" "$root/build/libruntime.a"

# includes_downward SRC: no file under SRC includes ("...") a header that
# stands in a higher folder of SRC than its own, so a type cannot leak upward
# where no call does. Each such include is listed as "file -> header".
includes_downward() {
  local src=$1
  (cd "$src" && grep -o '^#include "[^"]*"' $(find . -name '*.[ch]') /dev/null; echo; find . -name '*.h') |
    awk -v layers="$LAYERS" '
      BEGIN { n = split(layers, l, " "); rank["."] = 0; for (i = 1; i <= n; i++) rank[l[i]] = i }
      function folder(f,  d) { d = substr(f, 3); if (!sub(/\/[^\/]*$/, "", d)) d = "."; return d }
      /^$/ { headers = 1; next }
      !headers { split($0, p, ":#include \""); sub(/"$/, "", p[2]); by[NR] = p[1]; inc[NR] = p[2]; next }
      { h = $0; sub(/^.*\//, "", h); at[h] = folder($0) }
      END {
        for (i in by) {
          if (!(inc[i] in at)) continue  # a public or system header
          a = folder(by[i]); b = at[inc[i]]
          if (a != b && (a in rank) && (b in rank) && rank[b] >= rank[a]) { print substr(by[i], 3) " -> " b "/" inc[i]; bad = 1 }
        }
        exit bad
      }' >"$tmp/loop"
}
: >"$tmp/loop"
expect "each runtime folder includes only downward" includes_downward "$root/runtime/src"

# A file of db/ that calls into serve/ (above it), including its header, must be caught.
mkdir -p "$tmp/up/db" "$tmp/up/serve"
printf 'int high(int);\n' >"$tmp/up/serve/high.h"
printf '#include "high.h"\nint low(int n) { return high(n); }\n' >"$tmp/up/db/low.c"
printf 'int high(int n) { return n + 1; }\n' >"$tmp/up/serve/high.c"
cc -I"$tmp/up/serve" -c "$tmp/up/db/low.c" -o "$tmp/up/low.o" && cc -c "$tmp/up/serve/high.c" -o "$tmp/up/high.o" || exit 1
# upward SRC OBJECT...: the check fails, naming the upward call.
upward() { ! downward "$@" && grep -q '^low.o (db) -> high.o (serve)$' "$tmp/loop"; }
expect "a call from a lower folder into a higher one is caught" upward "$tmp/up" "$tmp/up/low.o" "$tmp/up/high.o"
# upward_include SRC: the include check fails, naming the include.
upward_include() { ! includes_downward "$1" && grep -q '^db/low.c -> serve/high.h$' "$tmp/loop"; }
expect "an include from a lower folder of a higher one's header is caught" upward_include "$tmp/up"

# public_headers: each runtime/include/*.h, included alone, compiles.
public_headers() {
  local h ok=0
  for h in "$root"/runtime/include/*.h; do
    printf '#include "%s"\n' "$(basename "$h")" >"$tmp/one.c"
    cc -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$root/runtime/include" -I"$root/runtime/proto" \
      -I/usr/include/postgresql -c "$tmp/one.c" -o "$tmp/one.o" 2>>"$tmp/loop" || { echo "  $h" >>"$tmp/loop"; ok=1; }
  done
  return $ok
}
: >"$tmp/loop"
expect "every public header compiles on its own" public_headers

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
