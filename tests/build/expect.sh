# The check counter the tests/build scripts share (sourced): `expect name
# command...` counts one check and, when it fails, shows the last
# EXPECT_TAIL (10) lines of the output the script kept in $out;
# `expect_summary` prints the totals scripts/test.sh reads and fails when
# any check did.
passed=0 failed=0
expect() {
  local name=$1; shift
  if "$@"; then passed=$((passed + 1)); echo "ok    $name"
  else failed=$((failed + 1)); echo "FAIL  $name"; printf '%s\n' "$out" | tail -"${EXPECT_TAIL:-10}"; fi
}
expect_summary() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
