#!/usr/bin/env bash
# The whole suite, run by `make check` after it installed and built what is needed: unit
# tests; end-to-end tests against a real Spark master/worker, lighttpd and spark-submit;
# the same against every supported Spark build (version matrix); HA failover with
# ZooKeeper; spark.authenticate; the shipped web-server configurations (deploy/) on real
# Apache/lighttpd; the differential corpus against Spark's own REST server (3.5 and 4);
# faults (a scriptable fake master, the real master stopped and restarted) and the soak;
# the Debian package (built, installed, served through its snippets, purged);
# several users on one sparkgate (ownership, listing, idempotency keys); the portal in
# headless Chromium.
#
# With a sanitized build (ASan+UBSan) as the second argument, its unit tests run too and
# the integration suites run its sparkgate, except the fault/soak suite, which measures
# memory and so runs the plain binary.  Every log of the run is then searched for
# sanitizer reports ("sanitizers" line).  Last line: "N passed, N failed".
# Usage: tests/run-all.sh [BUILD_DIR [SANITIZED_BUILD_DIR]]
set -uo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
san="${2:-}"
plain_bin="$PWD/$build/sparkgate"
export SPARKGATE_BIN="$PWD/${san:-$build}/sparkgate"
# every test's work folder (logs included) lands here
run_tmp=$(mktemp -d "${TMPDIR:-/tmp}/sparkgate-run-XXXXXX")
chmod 755 "$run_tmp"   # web servers run as www-data and read their files in there
touch "$run_tmp/.started"   # what the run made afterwards is newer
export TMPDIR="$run_tmp"
t0=$(date +%s)
pass=0 fail=0
# name of the summary line | time limit in seconds | command.  Every integration suite
# reports through tests/it/runner.py; output is streamed as it comes.
suites=("unit|600|tests/run-unit.sh $build/tests/*_test")
[[ -n "$san" ]] && suites+=("unit|600|tests/run-unit.sh $san/tests/*_test")
suites+=("e2e|900|python3 tests/it/test_e2e.py"
         "versions|1500|python3 tests/it/test_versions.py"
         "ha|600|python3 tests/it/test_ha.py"
         "auth|600|python3 tests/it/test_auth.py"
         "web|900|python3 tests/it/test_web.py"
         "tenants|900|python3 tests/it/test_tenants.py"
         "files|600|python3 tests/it/test_files.py"
         "local|900|python3 tests/it/test_local.py"
         "health|600|python3 tests/it/test_health.py"
         "postgres|600|python3 tests/it/test_postgres.py"
         "policy|900|python3 tests/it/test_policy.py"
         "portal|900|python3 tests/it/test_portal.py"
         "diff|1800|python3 tests/it/test_diff.py"
         "faults|900|SPARKGATE_BIN=$plain_bin python3 tests/it/test_faults.py"
         "deb|900|python3 tests/it/test_deb.py")
n=0
for s in "${suites[@]}"; do
  IFS='|' read -r name limit cmd <<<"$s"
  n=$((n + 1))
  out="$run_tmp/suite-$n-$name.out"
  # timeout signals the suite's process group; the Python runner turns SIGTERM into its
  # teardown, so the stack it started is stopped too
  timeout --kill-after=60 "$limit" bash -c "$cmd" 2>&1 | tee "$out"; rc=${PIPESTATUS[0]}
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    echo "$name: stopped after its time limit of ${limit}s"
  fi
  line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$out" | tail -1)
  p=$(echo "${line:-x 0 passed, 1 failed}" | sed -E 's/.* ([0-9]+) passed.*/\1/')
  f=$(echo "${line:-x 0 passed, 1 failed}" | sed -E 's/.* ([0-9]+) failed.*/\1/')
  [[ $rc -ne 0 && $f -eq 0 ]] && f=1
  pass=$((pass + p)); fail=$((fail + f))
done
if [[ -n "$san" ]]; then
  reports=$(grep -rlE --include='*.log' "ERROR: (Address|Leak)Sanitizer|runtime error:" "$run_tmp" 2>/dev/null)
  if [[ -z "$reports" ]]; then
    echo "sanitizers: 1 passed, 0 failed (no report in any log of the run)"; pass=$((pass + 1))
  else
    echo "sanitizers: 0 passed, 1 failed; reports in:"; echo "$reports"; fail=$((fail + 1))
  fi
fi
# Every test stack's master has its own ports, so its own status-cache table in /dev/shm
# (memory until reboot): remove the ones this run made.
find /dev/shm -maxdepth 1 -name 'sparkgate-*' -newer "$run_tmp/.started" -delete 2>/dev/null || true
echo "suite took $(( $(date +%s) - t0 ))s"
if [[ $fail -eq 0 ]]; then rm -rf "$run_tmp"; else echo "logs kept in $run_tmp"; fi
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
