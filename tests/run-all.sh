#!/usr/bin/env bash
# The whole suite, run by `make check` after it installed and built what is needed: unit
# tests; end-to-end tests against a real Spark master/worker, lighttpd and spark-submit;
# the same against every supported Spark build (version matrix); HA failover with
# ZooKeeper; spark.authenticate; the shipped web-server configurations (deploy/) on real
# Apache/lighttpd; the differential corpus against Spark's own REST server (3.5 and 4);
# faults (a scriptable fake master, the real master stopped and restarted) and the soak.  Last line: "N passed, N failed".
# Usage: tests/run-all.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
export SPARKGATE_BIN="$PWD/$build/sparkgate"
t0=$(date +%s)
pass=0 fail=0
# name of the summary line, command
suites=("unit|tests/run-unit.sh $build/tests/*_test"
        "e2e|python3 tests/it/test_e2e.py"
        "versions|python3 tests/it/test_versions.py"
        "ha|python3 tests/it/test_ha.py"
        "auth|python3 tests/it/test_auth.py"
        "web|python3 tests/it/test_web.py"
        "diff|python3 tests/it/test_diff.py"
        "faults|python3 tests/it/test_faults.py")
for s in "${suites[@]}"; do
  name=${s%%|*}
  out=$(eval "${s#*|}" 2>&1); rc=$?
  echo "$out"
  line=$(echo "$out" | grep -E "^$name: [0-9]+ passed, [0-9]+ failed" | tail -1)
  p=$(echo "${line:-x 0 passed, 1 failed}" | sed -E 's/.* ([0-9]+) passed.*/\1/')
  f=$(echo "${line:-x 0 passed, 1 failed}" | sed -E 's/.* ([0-9]+) failed.*/\1/')
  [[ $rc -ne 0 && $f -eq 0 ]] && f=1
  pass=$((pass + p)); fail=$((fail + f))
done
echo "suite took $(( $(date +%s) - t0 ))s"
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
