#!/usr/bin/env bash
# Writes one gRPC request body file for h2load, which can send only a fixed
# body: the 5-byte gRPC frame header (0 = uncompressed, 4-byte big-endian
# length) followed by the protobuf message. The messages used here are all
# "string field 1 [, int32 field 2]", so the encoding is written out by hand:
# field 1 = 0x0a <len> <bytes>, field 2 = 0x10 <varint>. Strings < 128 bytes.
#   body.sh OUT STRING [INT32]
# Check: tail -c +6 OUT | protoc --decode_raw
set -euo pipefail
out=${1:?usage: body.sh OUT STRING [INT32]}
str=${2?string field 1}
num=${3:-}

octal() { printf '\\%03o' "$1"; }          # one byte, as a printf escape
varint() {                                  # unsigned LEB128 of $1 (>= 0)
  local v=$1 s=""
  while [ "$v" -ge 128 ]; do s+=$(octal $(( (v & 127) | 128 ))); v=$(( v >> 7 )); done
  printf '%s' "$s$(octal "$v")"
}

len=${#str}
[ "$len" -lt 128 ] || { echo "body.sh: string longer than 127 bytes" >&2; exit 2; }
msg=$(octal 10)$(octal "$len")
msg_len=$(( 2 + len ))
tail_esc=""
if [ -n "$num" ]; then
  tail_esc=$(octal 16)$(varint "$num")
  v=$num n=1; while [ "$v" -ge 128 ]; do v=$(( v >> 7 )); n=$(( n + 1 )); done
  msg_len=$(( msg_len + 1 + n ))
fi
{
  printf "$(octal 0)$(octal $(( msg_len >> 24 & 255 )))$(octal $(( msg_len >> 16 & 255 )))$(octal $(( msg_len >> 8 & 255 )))$(octal $(( msg_len & 255 )))"
  printf "$msg"
  printf '%s' "$str"
  printf "$tail_esc"
} >"$out"
[ "$(stat -c %s "$out")" -eq $(( 5 + msg_len )) ] || { echo "body.sh: size mismatch for $out" >&2; exit 1; }
