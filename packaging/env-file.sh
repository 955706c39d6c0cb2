#!/usr/bin/env bash
# Prints /etc/wallet-platform/<daemon>.env from the daemon's own --help, so
# the documented settings and defaults are always the binary's: every
# setting commented out with its default value and note, DATABASE_URL
# (required) empty. A NAME=VALUE argument is a setting the package itself
# sets (uncommented, with that value) instead of leaving it at its default.
# Usage: env-file.sh BINARY [NAME=VALUE...]
set -euo pipefail
bin=$1
shift
name=$(basename "$bin")
set_by_package=$(printf '%s\n' "$@")
cat <<HEAD
# $name settings, read by systemd (EnvironmentFile= in $name.service).
# A commented line shows the default; uncomment to change it. Restart the
# service after editing: systemctl restart $name. The daemon's flags
# (man $name) set the same things. This file may hold a database password:
# it is readable by root and the wallet-platform group only.

# Required: the libpq URI of the database as the daemons' role wallet_app, e.g.
# postgresql://wallet_app@db.example.com:5432/wallet?sslmode=verify-full
DATABASE_URL=
HEAD
"$bin" --help | awk -v set_by_package="$set_by_package" '
  BEGIN {
    n = split(set_by_package, lines, "\n")
    for (i = 1; i <= n; i++) if (lines[i] != "") set[substr(lines[i], 1, index(lines[i], "=") - 1)] = lines[i]
  }
  /^  --/ && $3 ~ /^[A-Z][A-Z0-9_]+$/ && $3 != "DATABASE_URL" {
    value = ""; note = ""
    for (i = 4; i <= NF; i++) note = note (i > 4 ? " " : "") $i
    if (note !~ /^\(/) { value = $4; sub(/^[^ ]+ ?/, "", note) }
    if (note ~ /^\(.*\)$/) note = substr(note, 2, length(note) - 2)
    if ($3 in set) { printf "\n# set by the package; without it: %s\n%s\n", note == "" ? value : note, set[$3]; next }
    printf "\n%s#%s=%s\n", note == "" ? "" : "# " note "\n", $3, value
  }'
