#!/usr/bin/env bash
# Regenerates tests/golden/crypto/spark-<version>.txt from the real network-common classes
# of an installed Spark (AuthEngine, CtrTransportCipher, GcmTransportCipher).
# Usage: tools/cryptogolden/gen.sh SPARK_HOME   (a Spark 3.4.4+/3.5.2+/4.x: GCM is needed)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"; root="$(cd "$here/../.." && pwd)"
spark_home="${1:?usage: gen.sh SPARK_HOME}"
classes="$(mktemp -d)"; trap 'rm -rf "$classes"' EXIT
javac -nowarn -d "$classes" -cp "$spark_home/jars/*" "$here/CryptoGolden.java"
jar=$(ls "$spark_home"/jars/spark-network-common_*.jar | head -1)
ver=$(basename "$jar" .jar); ver=${ver##*-}
mkdir -p "$root/tests/golden/crypto"
out="$root/tests/golden/crypto/spark-$ver.txt"
java -cp "$classes:$spark_home/jars/*" org.apache.spark.network.crypto.CryptoGolden "$out"
echo "$out"
