#!/usr/bin/env bash
# Installs everything sparkgate's build and tests need, idempotently:
#   - Debian packages (compiler, libfcgi, jansson, lighttpd, spawn-fcgi)
#   - a pinned Spark from the PyPI pyspark package, cached outside the checkout
# Prints nothing but progress; safe to run on every `make check`.
# Usage: tools/setup.sh [--no-apt]     Env: SPARKGATE_CACHE (default ~/.cache/sparkgate)
set -euo pipefail

PYSPARK_VERSION="${PYSPARK_VERSION:-3.5.9}"
CACHE="${SPARKGATE_CACHE:-$HOME/.cache/sparkgate}"
APT_PACKAGES=(build-essential pkg-config clang libclang-rt-14-dev libfcgi-dev libjansson-dev lighttpd spawn-fcgi
              curl procps psmisc)

need_apt=()
if [[ "${1:-}" != "--no-apt" ]]; then
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need_apt+=("$p")
  done
fi
if ((${#need_apt[@]})); then
  echo "setup: installing Debian packages: ${need_apt[*]}" >&2
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
  # lighttpd's package starts a system instance on :80; we never use it.
  $SUDO systemctl disable --now lighttpd >/dev/null 2>&1 || service lighttpd stop >/dev/null 2>&1 || true
fi

spark_dir="$CACHE/pyspark-$PYSPARK_VERSION"
if [[ ! -x "$spark_dir/pyspark/bin/spark-class" ]]; then
  echo "setup: installing pyspark $PYSPARK_VERSION into $spark_dir (one-time, ~300 MB)" >&2
  mkdir -p "$CACHE"
  tmp="$(mktemp -d "$CACHE/.pyspark-$PYSPARK_VERSION.XXXXXX")"
  python3 -m pip install -q --disable-pip-version-check --no-deps --no-compile \
      --target "$tmp" "pyspark==$PYSPARK_VERSION" >&2
  chmod +x "$tmp"/pyspark/bin/* 2>/dev/null || true
  rm -rf "$spark_dir"
  mv "$tmp" "$spark_dir"
fi
echo "$spark_dir/pyspark"
