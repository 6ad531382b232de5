#!/usr/bin/env bash
# Regenerates tests/golden/spark-<version>_<scala>/ from the real jars of an installed Spark.
# Usage: tools/golden/gen.sh SPARK_HOME     (tools/setup.sh prints one)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$(cd "$here/../.." && pwd)"
spark_home="${1:?usage: gen.sh SPARK_HOME}"
classes="$(mktemp -d)"; trap 'rm -rf "$classes"' EXIT
javac -nowarn -d "$classes" -cp "$spark_home/jars/*" "$here/GoldenGen.java"
core_jar=$(ls "$spark_home"/jars/spark-core_*.jar | head -1)
ver=$(basename "$core_jar" .jar); ver=${ver#spark-core_}          # 2.12-3.5.9
scala=${ver%%-*}; spark=${ver#*-}
out="$root/tests/golden/spark-${spark}_${scala}"
rm -rf "$out"
java -cp "$spark_home/jars/*:$classes" GoldenGen "$root/tests/golden/cases" "$out" "$here/markers.tsv" 2> "$classes/log" \
  || { cat "$classes/log" >&2; exit 1; }
echo "$out"
