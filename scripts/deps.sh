#!/usr/bin/env bash
# Installs the Debian packages the build, the daemons and the tests need, and
# only those that are missing, so it is quick when everything is present.
# Runs as root (apt-get) or with sudo when available.
set -euo pipefail

packages=(
  pkg-config gcc make
  protobuf-compiler protobuf-c-compiler libprotobuf-c-dev libprotobuf-dev
  libgrpc-dev libpq-dev libssl-dev libmicrohttpd-dev libcmocka-dev libjson-c-dev openssl
  lua5.4 lua-cjson libpg-query-dev grpc-proto
  postgresql-client nghttp2-client valgrind
  postgresql-15-auto-failover pg-auto-failover-cli
  dpkg-dev debhelper lintian binutils systemd prometheus
  clang libclang-rt-14-dev
)
# The server binaries: any installed PostgreSQL will do; 15 is Debian 12's.
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 ||
  packages+=(postgresql-15)
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
