#!/usr/bin/env bash
# Runs unit test binaries (under $UNIT_WRAPPER if set); prints the summed "N passed, N failed".
set -uo pipefail
pass=0 fail=0
for t in "$@"; do
  out=$(${UNIT_WRAPPER:-} "$t" 2>&1); rc=$?   # UNIT_WRAPPER: e.g. valgrind (make valgrind)
  echo "$out" | grep -v ' passed, .* failed$' >&2
  line=$(echo "$out" | grep -E '[0-9]+ passed, [0-9]+ failed$' | tail -1)
  p=$(echo "$line" | sed -E 's/.* ([0-9]+) passed.*/\1/'); f=$(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')
  [[ -z "$line" ]] && { p=0; f=1; echo "$t: no summary (exit $rc)" >&2; }
  [[ $rc -ne 0 && $f -eq 0 ]] && f=1
  echo "  $(basename "$t"): $p passed, $f failed"
  pass=$((pass + p)); fail=$((fail + f))
done
echo "unit: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
