# Shared by the shell tests: a temporary folder and checks that count failures.
# Sourced, not run; the test ends with `finish`.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

check() {  # DESCRIPTION EXPECTED_STATUS (a number, or "fail" for any non-zero) COMMAND...
  local what="$1" expected="$2"
  shift 2
  "$@" > "$tmp/out" 2>&1
  local status=$?
  if { [ "$expected" = fail ] && [ "$status" -eq 0 ]; } || { [ "$expected" != fail ] && [ "$status" -ne "$expected" ]; }; then
    echo "FAIL: $what: exit $status, expected $expected"; sed 's/^/    /' "$tmp/out" | tail -20
    failures=$((failures + 1))
  else
    echo "ok:   $what"
  fi
}

expect_output() {  # DESCRIPTION PATTERN (in the last command's output)
  if grep -q -- "$2" "$tmp/out"; then echo "ok:   $1"; else
    echo "FAIL: $1: output lacks '$2'"; sed 's/^/    /' "$tmp/out" | tail -20; failures=$((failures + 1)); fi
}

finish() {
  echo "$failures failure(s)"
  [ "$failures" -eq 0 ]
}
