#!/usr/bin/env bash
# Prints the libpq URI $1 with its user replaced by the daemons' role
# wallet_app (docs/database.md "Roles"): scripts and tests migrate with a
# superuser's URL and run the daemons with this one.
set -euo pipefail
url=${1:?usage: app-url.sh URL}
printf '%s\n' "$url" | sed -E 's#^(postgres(ql)?://)([^@/]*@)?#\1wallet_app@#'
