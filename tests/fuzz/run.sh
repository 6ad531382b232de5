#!/usr/bin/env bash
# Builds and runs the libFuzzer targets (clang; ASan + UBSan) for FUZZ_SECONDS each, seeded
# from the golden vectors and request cases; prints executions per target.  Crashes are
# left in build-fuzz/ as crash-* files (turn each into a regression test).
# Usage: tests/fuzz/run.sh BUILD_DIR [TARGET...]     Env: FUZZ_SECONDS (default 30)
set -euo pipefail
cd "$(dirname "$0")/../.."
build="$1"; shift
targets=("$@"); ((${#targets[@]})) || targets=(rest reply frame adapter link jws masterui gcm jks)
secs="${FUZZ_SECONDS:-30}"
flags=(-std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -Icore -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined)
libs=("$build/fcgi/adapter.o" "$build/fcgi/link.o" "$build/fcgi/record.o" "$build/libcore.a" $(pkg-config --libs jansson) -lsasl2 -lsqlite3)
seed() {
  local dir="$build/corpus-$1"; mkdir -p "$dir"
  case "$1" in
    rest) cp tests/golden/cases/*.json "$dir/" ;;
    reply) for d in tests/golden/spark-*; do for f in "$d"/reply-*.bin "$d"/msg-*.bin; do
             cp "$f" "$dir/$(basename "$d")-$(basename "$f")"; done; done
           # megabyte inputs: a reply after a million resets, a million nulls
           python3 - "$dir" <<'PY'
import sys
true = open("tests/golden/spark-3.5.9_2.12/reply-boolean-true.bin", "rb").read()
open(sys.argv[1] + "/mega-resets.bin", "wb").write(true[:4] + b"\x79" * (1 << 20) + true[4:])
open(sys.argv[1] + "/mega-nulls.bin", "wb").write(true[:4] + b"\x70" * (1 << 20))
PY
           ;;
    frame) for d in tests/golden/spark-*; do cp "$d/frame-kill.bin" "$dir/$(basename "$d").bin"; done ;;
    adapter) printf 'REQUEST_METHOD=POST\0SCRIPT_NAME=/v1/submissions\0PATH_INFO=/create\0CONTENT_LENGTH=2\0\0{}' > "$dir/post"
             printf 'REQUEST_METHOD=GET\0REQUEST_URI=/v1/submissions/status/driver%%2D1?x=1\0\0' > "$dir/uri" ;;
    link) # what nginx sends for a GET (one write), and a POST with its body in two records
          python3 - "$dir" <<'PY'
import struct, sys
def rec(t, i, c, pad=0):
    return struct.pack(">BBHHBx", 1, t, i, len(c), pad) + c + b"\0" * pad
def params(kv):
    out = b""
    for k, v in kv:
        for n in (len(k), len(v)):
            out += struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)
        out += k + v
    return out
p = params([(b"REQUEST_METHOD", b"GET"), (b"SCRIPT_NAME", b"/v1/submissions/status/driver-1"), (b"REMOTE_ADDR", b"127.0.0.1")])
get = rec(1, 1, b"\0\1\1\0\0\0\0\0") + rec(4, 1, p, 3) + rec(4, 1, b"") + rec(5, 1, b"")
open(sys.argv[1] + "/get", "wb").write(b"\0" + get + get)
p = params([(b"REQUEST_METHOD", b"POST"), (b"PATH_INFO", b"/v1/submissions/create"), (b"CONTENT_LENGTH", b"4"), (b"H" * 200, b"v" * 300)])
post = rec(1, 2, b"\0\1\0\0\0\0\0\0") + rec(4, 2, p[:50]) + rec(9, 0, params([(b"FCGI_MAX_CONNS", b"")])) + rec(4, 2, p[50:]) + rec(4, 2, b"") + rec(5, 2, b"{}", 6) + rec(5, 2, b"{}") + rec(2, 2, b"") + rec(5, 2, b"")
open(sys.argv[1] + "/post", "wb").write(b"\x07" + post)
PY
          ;;
    jws) printf 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4IiwiZXhwIjoxfQ.AAAA' > "$dir/token" ;;
    masterui) cp tests/unit/master-ui.json "$dir/" ;;
    jks) cp tests/golden/tls/trust.jks "$dir/" ;;
    gcm) # the JVM's v2 envelopes, alone and back to back
         python3 - "$dir" <<'PY'
import sys
v = dict(l.split() for l in open("tests/golden/crypto/spark-3.5.9.txt") if not l.startswith("#"))
envs = [bytes.fromhex(v[k]) for k in ("v2.gcm.100", "v2.gcm.32728", "v2.gcm.70000")]
for i, e in enumerate(envs):
    open("%s/env-%d.bin" % (sys.argv[1], i), "wb").write(e)
open(sys.argv[1] + "/envs.bin", "wb").write(b"".join(envs))
PY
         ;;
  esac
}
total=0
for t in "${targets[@]}"; do
  clang "${flags[@]}" -o "$build/fuzz_$t" "tests/fuzz/fuzz_$t.c" "${libs[@]}"
  seed "$t"
  log="$build/fuzz_$t.log"
  # the reply reader gets inputs up to 4 MiB (long runs of legal elements) and a dictionary
  extra=(); [[ $t == reply ]] && extra=(-max_len=4194304 -dict="$PWD/tests/fuzz/reply.dict")
  if ! (cd "$build" && "./fuzz_$t" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 \
          ${extra[@]+"${extra[@]}"} "corpus-$t" > "fuzz_$t.log" 2>&1); then
    tail -40 "$log"; echo "fuzz_$t: CRASH (see $log and $build/crash-*)"; exit 1
  fi
  runs=$(grep -E "stat::number_of_executed_units" "$log" | awk '{print $2}')
  echo "fuzz_$t: ${runs:-?} executions in ${secs}s, no crash (corpus $(ls "$build/corpus-$t" | wc -l) inputs)"
  total=$((total + ${runs:-0}))
done
echo "fuzz: $total executions, 0 crashes"
