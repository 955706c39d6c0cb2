#!/usr/bin/env bash
# `make deb`: builds wallet-platform_<version>_<arch>.deb with Debian's own
# tools (dpkg-buildpackage + debhelper, packaging/debian) in a copy of the
# working tree, so the developer's build/ and bin/ are left alone, and puts
# it in OUT_DIR (default build/deb). Version: the Makefile's VERSION; dates:
# the last commit's, so a rebuild of one commit gives the same package.
# Prints the path of the .deb.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT_DIR:-$root/build/deb}
version=$(sed -n 's/^VERSION *:= *//p' "$root/Makefile")
tmp=$(mktemp -d /tmp/wallet-deb.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/src" "$out"

# The files git knows of or would add (committed or not), as they are now.
(cd "$root" && git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf -) | tar -xf - -C "$tmp/src"
cp -r "$root/packaging/debian" "$tmp/src/debian"

export SOURCE_DATE_EPOCH=$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)
cat >"$tmp/src/debian/changelog" <<CL
wallet-platform ($version) unstable; urgency=medium

  * Release $version, built from commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown).

 -- Wallet Platform Team <wallet-platform@example.com>  $(date -u -R -d "@$SOURCE_DATE_EPOCH")
CL

(cd "$tmp/src" && dpkg-buildpackage -b -us -uc -j"$(nproc)" >"$tmp/build.log" 2>&1) ||
  { tail -n 40 "$tmp/build.log" >&2; echo "deb: dpkg-buildpackage failed" >&2; exit 1; }
deb=$(ls "$tmp"/wallet-platform_*.deb | grep -v dbgsym)
cp "$deb" "$out/"
echo "$out/$(basename "$deb")"
