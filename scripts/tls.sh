#!/usr/bin/env bash
# Throwaway certificates for mutual TLS with Debian's openssl: a CA, one
# certificate per daemon and client, each naming its SPIFFE ID
# (spiffe://wallet.local/<path>, the identity the policy matches) and its
# DNS name; a daemon's also localhost and 127.0.0.1 so local clients can
# verify it.
#   tls.sh init DIR                  CA + user-service, wallet-service and a client (admin) if missing
#   tls.sh ca DIR                    a new CA in DIR (ca.crt, ca.key)
#   tls.sh issue DIR NAME PATH [DAYS] [CA_DIR]
#                                    DIR/NAME.crt and DIR/NAME.key for spiffe://wallet.local/PATH,
#                                    signed by CA_DIR's CA (default DIR); DAYS < 0 makes it expired
#   tls.sh self DIR NAME PATH        a self-signed certificate (no CA vouches for it)
# Files are written under temporary names and renamed into place, key first,
# so a daemon re-reading them (TLS_RELOAD_SECONDS) never sees half a file.
set -euo pipefail
TRUST_DOMAIN=wallet.local

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# Extensions of a leaf certificate. Clients (PATH client/...) get only
# clientAuth and no localhost, so a client key can never pose as a daemon.
ext_file() { # NAME PATH
  if [ "${2#client/}" != "$2" ]; then
    printf 'subjectAltName=URI:spiffe://%s/%s,DNS:%s\n' "$TRUST_DOMAIN" "$2" "$1"
    printf 'extendedKeyUsage=clientAuth\n'
  else
    printf 'subjectAltName=URI:spiffe://%s/%s,DNS:%s,DNS:localhost,IP:127.0.0.1\n' "$TRUST_DOMAIN" "$2" "$1"
    printf 'extendedKeyUsage=serverAuth,clientAuth\n'
  fi
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n'
}

# Moves DIR/NAME.{key,crt}.new into place: key first, then the certificate.
install_pair() {
  chmod 600 "$1/$2.key.new"
  mv -f "$1/$2.key.new" "$1/$2.key"
  mv -f "$1/$2.crt.new" "$1/$2.crt"
}

make_ca() {
  mkdir -p "$1"
  new_key "$1/ca.key.new"
  openssl req -x509 -new -key "$1/ca.key.new" -out "$1/ca.crt.new" -days 3650 \
    -subj "/O=Wallet platform/CN=wallet-platform throwaway CA $(date +%s%N)" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  install_pair "$1" ca
}

issue() { # DIR NAME PATH DAYS CA_DIR
  local dir=$1 name=$2 path=$3 days=${4:-825} ca=${5:-$1} tmp
  tmp=$(mktemp -d)
  ext_file "$name" "$path" >"$tmp/ext"
  new_key "$dir/$name.key.new"
  openssl req -new -key "$dir/$name.key.new" -subj "/O=Wallet platform/CN=$name" -out "$tmp/csr" 2>/dev/null
  openssl x509 -req -in "$tmp/csr" -CA "$ca/ca.crt" -CAkey "$ca/ca.key" -CAcreateserial \
    -CAserial "$tmp/serial" -days "$days" -extfile "$tmp/ext" -out "$dir/$name.crt.new" 2>/dev/null
  rm -rf "$tmp"
  install_pair "$dir" "$name"
}

self_signed() { # DIR NAME PATH
  local tmp
  tmp=$(mktemp -d)
  ext_file "$2" "$3" >"$tmp/ext"
  new_key "$1/$2.key.new"
  openssl req -x509 -new -key "$1/$2.key.new" -subj "/O=Wallet platform/CN=$2" -days 30 \
    -addext "$(sed -n 1p "$tmp/ext")" -out "$1/$2.crt.new" 2>/dev/null
  rm -rf "$tmp"
  install_pair "$1" "$2"
}

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { sed -n '2,14p' "$0" >&2; exit 2; }
mkdir -p "$dir"
case "$cmd" in
  init)
    [ -s "$dir/ca.crt" ] || make_ca "$dir"
    [ -s "$dir/user-service.crt" ] || issue "$dir" user-service user-service
    [ -s "$dir/wallet-service.crt" ] || issue "$dir" wallet-service wallet-service
    [ -s "$dir/client.crt" ] || issue "$dir" client client/admin
    ;;
  ca) make_ca "$dir" ;;
  issue) issue "$dir" "$3" "$4" "${5:-825}" "${6:-$dir}" ;;
  self) self_signed "$dir" "$3" "$4" ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
