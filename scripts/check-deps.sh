#!/usr/bin/env bash
# Fails when a system file the project names comes from a Debian package that
# scripts/deps.sh does not install. This machine may hold packages somebody
# installed by hand; a fresh one does not, so presence here proves nothing:
# the owner of every named path (dpkg -S) must be on deps.sh's list.
# Usage: check-deps.sh [deps-script]   (the list to check against; tests pass a copy)
set -uo pipefail
cd "$(dirname "$0")/.."
deps_file=${1:-scripts/deps.sh}

# The package names deps.sh installs: every word inside its packages=( ) and
# packages+=( ) lists, comments dropped.
installs=$(sed 's/#.*//' "$deps_file" |
  awk '/packages\+?=\(/ { on = 1 } on { print } on && /\)/ { on = 0 }' |
  sed 's/packages+\?=(//; s/)//' | tr -s ' \t' '\n' | sed '/^$/d' | sort -u)

# owner package -> 0 when deps.sh installs it (or it with its version suffix
# dropped), or when every Debian system has it (Essential, or priority required).
covered() {
  local o=$1
  grep -qxF -- "$o" <<<"$installs" || grep -qxF -- "${o%-[0-9]*}" <<<"$installs" ||
    dpkg-query -W -f='${Essential} ${Priority}\n' "$o" 2>/dev/null | grep -qE '^yes|required'
}

# Every /usr/{share,include,lib,bin,sbin}/... path named by the build, the
# generator, the scripts, the tests and the benchmarks (third-party node
# modules excluded: npm installs those).
mapfile -t named < <(git ls-files Makefile codegen scripts tests bench | grep -v node_modules |
  xargs grep -ohE '/usr/(share|include|lib|bin|sbin)/[A-Za-z0-9._+/-]*[A-Za-z0-9]' 2>/dev/null | sort -u)

pass=0 fail=0
for p in "${named[@]}"; do
  if [ ! -e "$p" ]; then
    # Named but absent here: then nothing installed it, not even by hand.
    echo "deps: $p is named but not on this machine; add its package to $deps_file" >&2
    fail=$((fail + 1)); continue
  fi
  owners=$(dpkg -S "$p" 2>/dev/null | sed 's/: .*//' | head -1 | tr -d ' ' | tr ',' ' ')
  ok=0
  [ -n "$owners" ] || ok=1 # made by a maintainer script (an alternatives link), not shipped
  for o in $owners; do covered "${o%%:*}" && ok=1; done
  if [ "$ok" = 1 ]; then
    pass=$((pass + 1))
  else
    echo "deps: $p comes from package ${owners%% *}, which $deps_file does not install" >&2
    fail=$((fail + 1))
  fi
done
echo "deps: ${#named[@]} system paths named, each from a package deps.sh installs unless listed above"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
