#!/usr/bin/env bash
# Prints a section-8 man page for a command from its --help text, so the
# page never disagrees with the binary. Usage: manpage.sh COMMAND DATE
# VERSION SUMMARY (COMMAND is run with --help).
set -euo pipefail
cmd=$1 date=$2 version=$3 summary=$4
name=$(basename "$cmd")
esc() { sed -e 's/\\/\\e/g' -e 's/^\([.'"'"']\)/\\\&\1/' -e 's/-/\\-/g'; }
cat <<EOT
.TH $(tr '[:lower:]' '[:upper:]' <<<"$name") 8 "$date" "wallet-platform $version" "System Administration"
.SH NAME
$name \\- $(esc <<<"$summary")
.SH SYNOPSIS
.B $name
[\\fIoptions\\fR]
.SH DESCRIPTION
Under systemd it runs as a service of the wallet-platform package; its
settings live in /etc/wallet-platform. The text below is the command's own
\\fB\\-\\-help\\fR.
.PP
.nf
$("$cmd" --help | esc)
.fi
.SH SEE ALSO
.BR systemctl (1),
.BR systemd.service (5),
/usr/share/doc/wallet-platform/operations.md
EOT
