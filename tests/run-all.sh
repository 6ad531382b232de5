#!/usr/bin/env bash
# The whole suite, run by `make check` after it installed and built what is needed: unit
# tests, the end-to-end tests against a real Spark master/worker, lighttpd and
# spark-submit, then the same against every supported Spark build (version matrix).  Last line: "N passed, N failed".   Usage: tests/run-all.sh [BUILD_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
t0=$(date +%s)
unit_out=$(tests/run-unit.sh "$build"/tests/*_test 2>&1); unit_rc=$?
echo "$unit_out"
e2e_out=$(SPARKGATE_BIN="$PWD/$build/sparkgate" python3 tests/it/test_e2e.py 2>&1); e2e_rc=$?
echo "$e2e_out"
ver_out=$(SPARKGATE_BIN="$PWD/$build/sparkgate" python3 tests/it/test_versions.py 2>&1); ver_rc=$?
echo "$ver_out"
ha_out=$(SPARKGATE_BIN="$PWD/$build/sparkgate" python3 tests/it/test_ha.py 2>&1); ha_rc=$?
echo "$ha_out"
auth_out=$(SPARKGATE_BIN="$PWD/$build/sparkgate" python3 tests/it/test_auth.py 2>&1); auth_rc=$?
echo "$auth_out"
sum() { echo "$1" | grep -E "^$2: [0-9]+ passed, [0-9]+ failed" | tail -1; }
u=$(sum "$unit_out" unit); e=$(sum "$e2e_out" e2e)
num() { echo "$1" | sed -E "s/.* ([0-9]+) $2.*/\1/"; }
up=$(num "${u:-x 0 passed, 1 failed}" passed); uf=$(num "${u:-x 0 passed, 1 failed}" failed)
ep=$(num "${e:-x 0 passed, 1 failed}" passed); ef=$(num "${e:-x 0 passed, 1 failed}" failed)
[[ $unit_rc -ne 0 && $uf -eq 0 ]] && uf=1
[[ $e2e_rc -ne 0 && $ef -eq 0 ]] && ef=1
v=$(sum "$ver_out" versions)
vp=$(num "${v:-x 0 passed, 1 failed}" passed); vf=$(num "${v:-x 0 passed, 1 failed}" failed)
[[ $ver_rc -ne 0 && $vf -eq 0 ]] && vf=1
h=$(sum "$ha_out" ha)
hp=$(num "${h:-x 0 passed, 1 failed}" passed); hf=$(num "${h:-x 0 passed, 1 failed}" failed)
[[ $ha_rc -ne 0 && $hf -eq 0 ]] && hf=1
a=$(sum "$auth_out" auth)
ap=$(num "${a:-x 0 passed, 1 failed}" passed); af=$(num "${a:-x 0 passed, 1 failed}" failed)
[[ $auth_rc -ne 0 && $af -eq 0 ]] && af=1
ep=$((ep + vp + hp + ap)); ef=$((ef + vf + hf + af))
echo "suite took $(( $(date +%s) - t0 ))s"
echo "$((up + ep)) passed, $((uf + ef)) failed"
[[ $((uf + ef)) -eq 0 ]]
