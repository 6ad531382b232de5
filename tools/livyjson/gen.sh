#!/usr/bin/env bash
# Writes Livy's own answers (LivyJson.java: Livy's BatchSessionServlet and its ObjectMapper in
# an embedded Jetty, fixed batch sessions) for tests/unit/livy_test.c to compare sparkgate's
# with.  Livy's jars (livy-server and its runtime dependencies, ~73 MB) are resolved by Maven
# from Maven Central once into $SPARKGATE_CACHE/livy-VERSION/jars; the compiled tool is kept
# there too, keyed by the source's hash.  Livy 0.8 was never published to Maven Central;
# 0.7.1-incubating is, and the classes these answers come from are the same in both (doc/testing.md).
# Usage: tools/livyjson/gen.sh [OUT]   (default tests/golden/livy/livy-VERSION.jsonl)
# Env: LIVY_VERSION (default 0.7.1-incubating), SPARKGATE_CACHE (default ~/.cache/sparkgate)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$(cd "$here/../.." && pwd)"
version="${LIVY_VERSION:-0.7.1-incubating}"
cache="${SPARKGATE_CACHE:-$HOME/.cache/sparkgate}/livy-$version"
out="${1:-$root/tests/golden/livy/livy-$version.jsonl}"
if [[ ! -f "$cache/jars/livy-server-$version.jar" ]]; then
  echo "livyjson: resolving Livy $version's jars into $cache (one-time, ~73 MB)" >&2
  mkdir -p "$(dirname "$cache")"
  tmp="$(mktemp -d "$(dirname "$cache")/.livy-$version.XXXXXX")"
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" -Dlivy.version="$version" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/jars" >&2
  rm -rf "$cache"
  mv "$tmp" "$cache"
fi
sum=$(sha256sum "$here/LivyJson.java" | cut -c1-16)
classes="$cache/classes-$sum"
if [[ ! -f "$classes/LivyJson.class" ]]; then
  tmp="$(mktemp -d "$cache/.classes.XXXXXX")"
  javac -nowarn -d "$tmp" -cp "$cache/jars/*" "$here/LivyJson.java"
  rm -rf "$classes"
  mv "$tmp" "$classes"
fi
mkdir -p "$(dirname "$out")"
# log4j 1.2 without a configuration: silent but for its own three warnings
java -Dlog4j.configuration=none -cp "$classes:$cache/jars/*" LivyJson "$out" 2>/dev/null
echo "$out"
