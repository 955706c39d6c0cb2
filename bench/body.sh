#!/usr/bin/env bash
# Writes one gRPC request body file for h2load, which can send only a fixed
# body: the 5-byte gRPC frame header (0 = uncompressed, 4-byte big-endian
# length) followed by the protobuf message. The messages used here are
# strings and int32s numbered 1, 2, 3... in order, so the encoding is written
# out by hand: a string is <field << 3 | 2> <len> <bytes>, an int32
# <field << 3> <varint>. Strings < 128 bytes, ints >= 0.
#   body.sh OUT FIELD...    each FIELD is s:TEXT or i:NUMBER
# Check: tail -c +6 OUT | protoc --decode_raw
set -euo pipefail
out=${1:?usage: body.sh OUT s:TEXT|i:NUMBER...}
shift

octal() { printf '\\%03o' "$1"; }          # one byte, as a printf escape
varint() {                                  # unsigned LEB128 of $1 (>= 0), and its length in $varint_len
  local v=$1 s=""
  varint_len=1
  while [ "$v" -ge 128 ]; do s+=$(octal $(( (v & 127) | 128 ))); v=$(( v >> 7 )); varint_len=$((varint_len + 1)); done
  varint_esc="$s$(octal "$v")"
}

msg="" msg_len=0 field=0
for spec in "$@"; do
  field=$((field + 1))
  case $spec in
    s:*) str=${spec#s:}; len=${#str}
         [ "$len" -lt 128 ] || { echo "body.sh: string longer than 127 bytes" >&2; exit 2; }
         msg+=$(octal $(( field << 3 | 2 )))$(octal "$len")
         msg+=$(printf '%s' "$str" | od -An -v -to1 | tr -s ' \n' ' ' | sed 's/ \([0-7]\+\)/\\\1/g; s/ $//')
         msg_len=$(( msg_len + 2 + len )) ;;
    i:*) varint "${spec#i:}"
         msg+=$(octal $(( field << 3 )))$varint_esc
         msg_len=$(( msg_len + 1 + varint_len )) ;;
    *) echo "body.sh: field '$spec' is neither s:TEXT nor i:NUMBER" >&2; exit 2 ;;
  esac
done
printf "$(octal 0)$(octal $(( msg_len >> 24 & 255 )))$(octal $(( msg_len >> 16 & 255 )))$(octal $(( msg_len >> 8 & 255 )))$(octal $(( msg_len & 255 )))$msg" >"$out"
[ "$(stat -c %s "$out")" -eq $(( 5 + msg_len )) ] || { echo "body.sh: size mismatch for $out" >&2; exit 1; }
