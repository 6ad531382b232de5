#!/usr/bin/env bash
# Installs everything sparkgate's build and tests need, idempotently:
#   - Debian packages (compiler, libfcgi, jansson, lighttpd, Apache, nginx, spawn-fcgi;
#     debhelper and lintian for make deb)
#   - Spark builds, cached outside the checkout, keyed by version (SUPPORTED_BUILDS: the newest
#     patch of every minor sparkgate has tables for):
#       X.Y.Z_2.12  the PyPI pyspark wheel (Spark 3; 3.5.9_2.12 is the default build)
#       X.Y.Z_2.13  Spark 4: the PyPI pyspark wheel; Spark 3: Spark's _2.13 jars from Maven
#                   Central in a SPARK_HOME using the launch scripts of that minor's wheel
#     "all" names every supported build.
#   - with --browser, playwright-core from npm (the portal's browser test), the Livy tests'
#     clients (pylivy; Airflow's Livy provider with the Airflow it needs, as pinned in
#     tools/airflow-livy.txt) and the prometheus_client wheel (the metrics test's parser)
# Prints one SPARK_HOME per build asked for (stdout); progress goes to stderr.  Safe to run
# on every `make check`.  "none" as the only build: packages only (make fuzz).
# Usage: tools/setup.sh [--no-apt] [--browser] [BUILD...|all|none]
# Env: SPARKGATE_CACHE (default ~/.cache/sparkgate)
set -euo pipefail

DEFAULT_BUILD="3.5.9_2.12"
# Spark 3.4's newest _2.13 release on Maven Central here is 3.4.3 (3.4.4 was never published
# for Scala 2.13 there); its launch scripts come from the 3.4.4 wheel (they do not change
# between patch releases).
SUPPORTED_BUILDS=(3.3.4_2.12 3.3.4_2.13 3.4.4_2.12 3.4.3_2.13 3.5.9_2.12 3.5.9_2.13
                  4.0.5_2.13 4.1.4_2.13 4.2.1_2.13 4.3.0_2.13)
declare -A SCRIPTS_WHEEL=([3.4.3]=3.4.4)
CACHE="${SPARKGATE_CACHE:-$HOME/.cache/sparkgate}"
APT_PACKAGES=(build-essential pkg-config clang libclang-rt-14-dev libfcgi-dev libjansson-dev libsasl2-dev libcurl4-openssl-dev
              libsasl2-modules libsqlite3-dev libssl-dev libpq-dev postgresql lighttpd lighttpd-mod-openssl spawn-fcgi
              apache2 libapache2-mod-fcgid nginx
              apache2-utils openssl systemd groff-base zookeeper maven valgrind curl procps psmisc
              wrk strace chromium debhelper lintian)

need_apt=()
apt=1 browser=0
while [[ "${1:-}" == --* ]]; do
  case "$1" in
    --no-apt) apt=0 ;;
    --browser) browser=1 ;;
    *) echo "setup: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
builds=("$@"); ((${#builds[@]})) || builds=("$DEFAULT_BUILD")
[[ "${builds[*]}" == "none" ]] && builds=()
[[ "${builds[*]}" == "all" ]] && builds=("${SUPPORTED_BUILDS[@]}")
if ((apt)); then
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$p")
  done
  # node and npm for the browser tests: Debian's, unless the machine has its own already
  ((browser)) && { command -v npm >/dev/null || need_apt+=(nodejs npm); }
fi
if ((${#need_apt[@]})); then
  echo "setup: installing Debian packages: ${need_apt[*]}" >&2
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # lighttpd's and apache2's packages start system instances on :80 when installed; stop
  # only the ones installed just now (a developer's own web server is left alone).
  for s in lighttpd apache2 nginx; do
    [[ " ${need_apt[*]} " == *" $s "* ]] || continue
    $SUDO systemctl disable --now $s >/dev/null 2>&1 || $SUDO service $s stop >/dev/null 2>&1 || true
  done
fi

# playwright-core (drives the system's Chromium in tests/browser/) into $CACHE/npm, keyed by
# its version, unless present; nothing else from npm.
PLAYWRIGHT_VERSION=1.65.1
if ((browser)) && { [[ ! -f "$CACHE/npm/node_modules/playwright-core/package.json" ]] \
   || ! grep -q "\"version\": \"$PLAYWRIGHT_VERSION\"" "$CACHE/npm/node_modules/playwright-core/package.json"; }; then
  echo "setup: installing playwright-core $PLAYWRIGHT_VERSION into $CACHE/npm" >&2
  mkdir -p "$CACHE/npm"
  (cd "$CACHE/npm" && npm install --silent --no-audit --no-fund --no-save "playwright-core@$PLAYWRIGHT_VERSION" >&2)
fi

# pip-installs the wheel $1==$2 without its dependencies into $CACHE/py-$1-$2 (atomically)
# unless its package $3 is there.
py_wheel() {
  local name="$1" v="$2" dir="$CACHE/py-$1-$2"
  [[ -d "$dir/$3" ]] && return 0
  echo "setup: installing $name $v into $CACHE" >&2
  mkdir -p "$CACHE"
  local tmp; tmp="$(mktemp -d "$CACHE/.py-$name.XXXXXX")"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps --no-compile --target "$tmp" \
      "$name==$v" >&2 2>/dev/null
  rm -rf "$dir"
  mv "$tmp" "$dir"
}

# pip-installs every NAME==VERSION of the list $1 without resolving (--no-deps: the list is
# the whole set) into $CACHE/py-airflow-A-livy-P (A and P the list's apache-airflow and
# apache-airflow-providers-apache-livy pins), atomically, unless it is complete there.
py_pinned() {
  local list="$1" a p
  a="$(sed -n 's/^apache-airflow==//p' "$list")"
  p="$(sed -n 's/^apache-airflow-providers-apache-livy==//p' "$list")"
  local dir="$CACHE/py-airflow-$a-livy-$p"
  [[ -f "$dir/.complete" ]] && return 0
  echo "setup: installing Airflow $a with its Livy provider $p into $dir (one-time, ~210 MB)" >&2
  mkdir -p "$CACHE"
  local tmp; tmp="$(mktemp -d "$CACHE/.py-airflow.XXXXXX")"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps --no-compile --target "$tmp" \
      -r "$list" >&2
  touch "$tmp/.complete"
  rm -rf "$dir"
  mv "$tmp" "$dir"
}

if ((browser)); then
  # The Python library the tests parse /metrics with (the Prometheus project's own text
  # parser), into $CACHE/py-prometheus_client-VERSION, with the browser tests' tools.
  py_wheel prometheus_client 0.21.1 prometheus_client
  # pylivy (the "livy" package), a Livy client the Livy tests drive unchanged, into
  # $CACHE/py-livy-VERSION.  Its batch client needs only requests; its interactive sessions'
  # pandas is not installed (the test stands in an empty module for it, which the batch
  # path never uses).
  py_wheel livy 0.8.0 livy
  # Airflow's LivyHook and LivyOperator (apache-airflow-providers-apache-livy), unchanged:
  # the ~140 packages of tools/airflow-livy.txt, each pinned, installed without pip's
  # resolver into $CACHE/py-airflow-AIRFLOW-livy-PROVIDER (about 210 MB; 1.5 min with an
  # empty pip cache).  The tests run it with AIRFLOW_HOME in a temporary folder and the
  # connection in the environment: no Airflow database.
  py_pinned "$(dirname "$0")/airflow-livy.txt"
fi

# pip-installs pyspark==$1 into $CACHE/pyspark-$1 (atomically) unless present.
pyspark_wheel() {
  local v="$1" dir="$CACHE/pyspark-$1"
  if [[ ! -x "$dir/pyspark/bin/spark-class" ]]; then
    echo "setup: installing pyspark $v into $dir (one-time, ~300-450 MB)" >&2
    mkdir -p "$CACHE"
    local tmp; tmp="$(mktemp -d "$CACHE/.pyspark-$v.XXXXXX")"
    python3 -m pip install -q --disable-pip-version-check --no-deps --no-compile \
        --target "$tmp" "pyspark==$v" >&2
    chmod +x "$tmp"/pyspark/bin/* 2>/dev/null || true
    rm -rf "$dir"
    mv "$tmp" "$dir"
  fi
  echo "$dir/pyspark"
}

# A SPARK_HOME for Spark $1 built for Scala 2.13: the _2.13 jars resolved by Maven, with
# the launch scripts and python/lib (pyspark.zip, py4j: PythonRunner's PYTHONPATH) of the
# same Spark version's wheel (they do not depend on Scala).
spark_213() {
  local v="$1" dir="$CACHE/spark-$1_2.13"
  if [[ -f "$dir/RELEASE" && ! -f "$dir/python/lib/pyspark.zip" ]]; then   # made before python/ was copied
    local wheel; wheel="$(pyspark_wheel "${SCRIPTS_WHEEL[$v]:-$v}")"
    cp -r "$wheel/python" "$dir/"
  fi
  if [[ -f "$dir/RELEASE" ]] && ! compgen -G "$dir/jars/spark-sql_2.13-*.jar" >/dev/null; then
    # made before Spark SQL was resolved too: its jars are added beside the others (same
    # versions: the parent POM pins them), none replaced under a running JVM
    echo "setup: adding Spark $v SQL (Scala 2.13) jars to $dir (one-time)" >&2
    local tmp; tmp="$(mktemp -d "$CACHE/.spark-$v.XXXXXX")"
    mvn -q -B -Dstyle.color=never -f "$(dirname "$0")/spark-2.13/pom.xml" -Dspark.version="$v" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/jars" >&2
    cp -n "$tmp"/jars/*.jar "$dir/jars/"
    rm -rf "$tmp"
  fi
  if [[ ! -f "$dir/RELEASE" ]]; then
    local wheel; wheel="$(pyspark_wheel "${SCRIPTS_WHEEL[$v]:-$v}")"
    echo "setup: resolving Spark $v (Scala 2.13) jars into $dir (one-time, ~180 MB)" >&2
    local tmp; tmp="$(mktemp -d "$CACHE/.spark-$v.XXXXXX")"
    mvn -q -B -Dstyle.color=never -f "$(dirname "$0")/spark-2.13/pom.xml" -Dspark.version="$v" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp/jars" >&2
    cp -r "$wheel/bin" "$wheel/sbin" "$wheel/python" "$tmp/"
    echo "Spark $v built for Scala 2.13 (jars from Maven Central)" > "$tmp/RELEASE"
    rm -rf "$dir"
    mv "$tmp" "$dir"
  fi
  echo "$dir"
}

for b in ${builds[@]+"${builds[@]}"}; do
  case "$b" in
    *_2.12) pyspark_wheel "${b%_2.12}" ;;
    4.*_2.13) pyspark_wheel "${b%_2.13}" ;;
    *_2.13) spark_213 "${b%_2.13}" ;;
    *) echo "setup: unknown build '$b' (want VERSION_2.12 or VERSION_2.13)" >&2; exit 2 ;;
  esac
done
