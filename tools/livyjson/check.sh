#!/usr/bin/env bash
# make check's look at Livy itself: regenerates Livy's answers from its own classes
# (tools/livyjson/gen.sh; the jars come from the cache, fetched once) and compares them with
# the committed tests/golden/livy/ file that tests/unit/livy_test.c holds sparkgate to.
# A difference means the tool, the fixture or the Livy release changed: rerun gen.sh, then
# make unit.  Last line: "livyjson: N passed, N failed".
set -uo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
version="${LIVY_VERSION:-0.7.1-incubating}"
golden="$root/tests/golden/livy/livy-$version.jsonl"
tmp="$(mktemp "${TMPDIR:-/tmp}/livyjson-XXXXXX.jsonl")"
trap 'rm -f "$tmp"' EXIT
if ! "$root/tools/livyjson/gen.sh" "$tmp" >/dev/null; then
  echo "livyjson: Livy's classes did not run (tools/livyjson/gen.sh)"; echo "livyjson: 0 passed, 1 failed"; exit 1
fi
if diff -u "$golden" "$tmp"; then
  echo "livyjson: the $(wc -l <"$golden") records Livy $version's own classes write are as committed"
  echo "livyjson: 1 passed, 0 failed"
else
  echo "livyjson: Livy's answers differ from $golden (above)"; echo "livyjson: 0 passed, 1 failed"; exit 1
fi
