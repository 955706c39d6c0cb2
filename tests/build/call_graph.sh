#!/usr/bin/env bash
# Prints the object-level call graph of the given objects and archives as
# "caller callee" lines: a.o -> b.o when a.o leaves a symbol undefined that
# b.o defines (read with nm). Used by test_runtime_layout.sh; handy by hand:
#   tests/build/call_graph.sh build/libruntime.a
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: call_graph.sh OBJECT_OR_ARCHIVE..." >&2; exit 1; }
# nm -A prefixes each line with its file (and archive member): "lib.a:x.o:ADDR T sym"
# or "lib.a:x.o:   U sym"; the node is that prefix without its last field.
nm -A "$@" 2>/dev/null | awk '
  { node = $1; sub(/:[^:]*$/, "", node); sub(/^.*\//, "", node) }
  $(NF-1) == "U" { use[NR] = $NF; by[NR] = node; next }
  $(NF-1) ~ /^[TDBRGSVWi]$/ { def[$NF] = node }
  END { for (i in use) if ((use[i] in def) && def[use[i]] != by[i]) print by[i], def[use[i]] }' | sort -u
