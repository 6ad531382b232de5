#!/usr/bin/env bash
# The whole suite, run by `make check` after it installed and built what is needed: unit
# tests; end-to-end tests against a real Spark master/worker, lighttpd and spark-submit;
# the same against every supported Spark build (version matrix); HA failover with
# ZooKeeper; spark.authenticate; the shipped web-server configurations (lighttpd.conf, apache.conf, deploy/) on real
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
# Ports are handed out once per run (deploy/sparkstack.py): suites and builds run side by side
export SPARKGATE_PORT_REGISTRY="$run_tmp/ports"
# make check ran tools/setup.sh just before: stacks skip its Debian package check
export SPARKGATE_NO_APT=1
# Every JVM of the run (masters, workers, the drivers and executors they start, spark-submit,
# javac) compiles with C1 only: the suites start hundreds of short-lived JVMs and are bound
# by CPU, which C2 spends on code these short runs never use (a SparkContext job's JVM:
# ~11 -> ~7 CPU-s).  Spark behaves the same; each JVM notes the setting on stderr.
# SPARKGATE_C1_ONLY=0: the JVMs' default compilers.
if [[ "${SPARKGATE_C1_ONLY:-1}" == 1 ]]; then
  export JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:-} -XX:TieredStopAtLevel=1"
fi
t0=$(date +%s)
pass=0 fail=0
# name of the summary line | time limit in seconds | lane | command.  Every integration
# suite reports through tests/it/runner.py.  Lane 0: the suite runs alone, its output
# streamed as it comes (the suites with timing bounds and the soak stay alone).  Lanes 1
# and 2: consecutive entries form a block whose two lanes run side by side, each lane's
# suites one after another; a suite there writes its output to its own file in the run
# folder, printed whole when it ends.  The block holds the two per-build suites (a master
# and worker per Spark build; most of the run's time): their builds run one at a time in
# each (SPARKGATE_LANES=1), so two stacks run at once; the secured clusters' suite (a master
# per build too) follows diff in its lane.  SPARKGATE_SUITE_LANES=1: every
# suite alone, one after another.
suites=("unit|600|0|tests/run-unit.sh $build/tests/*_test")
[[ -n "$san" ]] && suites+=("unit|600|0|tests/run-unit.sh $san/tests/*_test")
# Livy's own classes answer again as tests/golden/livy/ holds them (livy_test.c compares
# sparkgate with that file); ~7 s, once ~1 min more to fetch Livy's jars into the cache
suites+=("livyjson|600|0|tools/livyjson/check.sh")
suites+=("versions|1800|1|SPARKGATE_LANES=1 python3 tests/it/test_versions.py"
         "diff|1800|2|SPARKGATE_LANES=1 python3 tests/it/test_diff.py"
         "auth|1500|2|python3 tests/it/test_auth.py"
         "e2e|900|0|python3 tests/it/test_e2e.py"
         "ha|600|0|python3 tests/it/test_ha.py"
         "web|900|0|python3 tests/it/test_web.py"
         "tenants|900|0|python3 tests/it/test_tenants.py"
         "files|600|0|python3 tests/it/test_files.py"
         "local|900|0|python3 tests/it/test_local.py"
         "health|600|0|python3 tests/it/test_health.py"
         "postgres|600|0|python3 tests/it/test_postgres.py"
         "policy|900|0|python3 tests/it/test_policy.py"
         "portal|900|0|python3 tests/it/test_portal.py"
         "faults|900|0|SPARKGATE_BIN=$plain_bin python3 tests/it/test_faults.py"
         "deb|900|0|python3 tests/it/test_deb.py")
side_by_side=$(( ${SPARKGATE_SUITE_LANES:-2} > 1 ))
# SPARKGATE_SUITES="e2e diff": only those (for trying the runner itself)
only=" ${SPARKGATE_SUITES:-} "
: >"$run_tmp/counts"

# run_suite N NAME LIMIT CMD [buffered]: runs one suite, its output streamed (or, buffered,
# printed whole when it ends, one suite's at a time); appends "NAME PASSED FAILED" to the
# run's counts
run_suite() {
  local n="$1" name="$2" limit="$3" cmd="$4" buffered="${5:-}" out="$run_tmp/suite-$1-$2.out" rc line p f s0
  s0=$(date +%s)
  # timeout signals the suite's process group; the Python runner turns SIGTERM into its
  # teardown, so the stack it started is stopped too
  if [[ -n "$buffered" ]]; then
    ( flock 9; echo "-- $name: started beside another suite, $(( s0 - t0 ))s into the run" ) 9>"$run_tmp/.print"
    timeout --kill-after=60 "$limit" bash -c "$cmd" >"$out" 2>&1 &
    local tpid=$!
    trap 'kill -TERM $tpid 2>/dev/null' TERM   # the run stopped: the suite tears down
    wait $tpid; rc=$?
    while kill -0 $tpid 2>/dev/null; do wait $tpid; rc=$?; done
    trap - TERM
  else
    timeout --kill-after=60 "$limit" bash -c "$cmd" 2>&1 | tee "$out"; rc=${PIPESTATUS[0]}
  fi
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then
    echo "$name: stopped after its time limit of ${limit}s" >>"$out"
    [[ -n "$buffered" ]] || echo "$name: stopped after its time limit of ${limit}s"
  fi
  line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$out" | tail -1)
  p=$(echo "${line:-x 0 passed, 1 failed}" | sed -E 's/.* ([0-9]+) passed.*/\1/')
  f=$(echo "${line:-x 0 passed, 1 failed}" | sed -E 's/.* ([0-9]+) failed.*/\1/')
  [[ $rc -ne 0 && $f -eq 0 ]] && f=1
  ( flock 9
    [[ -n "$buffered" ]] && cat "$out" && echo "-- $name: took $(( $(date +%s) - s0 ))s"
    echo "$name $p $f" >>"$run_tmp/counts" ) 9>"$run_tmp/.print"
}

# the block of side-by-side entries gathered so far: "N|name|limit|lane|cmd" lines
block=()
run_block() {
  ((${#block[@]})) || return 0
  local lane pids=() e
  for lane in 1 2; do
    (
      for e in "${block[@]}"; do
        IFS='|' read -r n name limit l cmd <<<"$e"
        [[ "$l" == "$lane" ]] && run_suite "$n" "$name" "$limit" "$cmd" buffered
      done
    ) &
    pids+=($!)
  done
  # a stopped run stops the lanes (their suites tear down on SIGTERM)
  trap 'kill -TERM "${pids[@]}" 2>/dev/null; wait; exit 143' INT TERM
  wait "${pids[@]}"
  trap - INT TERM
  block=()
}

n=0
for s in "${suites[@]}"; do
  IFS='|' read -r name limit lane cmd <<<"$s"
  n=$((n + 1))
  [[ "$only" == "  " || "$only" == *" $name "* ]] || continue
  if [[ "$lane" != 0 ]] && ((side_by_side)); then
    block+=("$n|$name|$limit|$lane|$cmd")
    continue
  fi
  run_block
  run_suite "$n" "$name" "$limit" "$cmd"
done
run_block
while read -r name p f; do
  pass=$((pass + p)); fail=$((fail + f))
done <"$run_tmp/counts"
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
