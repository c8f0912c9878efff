#!/bin/sh
# Installs what machine-health needs from Debian 12's packages, only if missing.
#   tools/install-deps.sh build   compiler, CMake and libraries
#   tools/install-deps.sh test    the above plus test references (numpy, scipy,
#                                 scikit-learn), sanitizer runtimes, clang-format
set -eu
mode="${1:-build}"
pkgs="g++ cmake ninja-build pkg-config make tzdata
  libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev
  nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libkissfft-dev libfftw3-dev libsqlite3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libsnappy-dev libzstd-dev liblz4-dev libbz2-dev liblzma-dev
  libsimdjson-dev libcurl4-openssl-dev libisal-dev librdkafka-dev libmosquitto-dev"
# npm installs the dashboard's chart library (web/package.json) at build time;
# Debian's npm only where no npm is there already (a newer nodejs brings its own).
command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
if [ "$mode" = test ]; then
  pkgs="$pkgs clang-format python3 python3-numpy python3-scipy python3-sklearn
    python3-pandas python3-joblib python3-yaml sqlite3 curl chromium
    mosquitto mosquitto-clients influxdb influxdb-client victoria-metrics prometheus kcat openssl
    zstd systemd"
fi
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "install-deps: installing$missing"
  if [ "$(id -u)" != 0 ]; then
    echo "install-deps: need root to apt-get install:$missing" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends $missing
fi
root="$(cd "$(dirname "$0")/.." && pwd)"
# uPlot, pinned by web/package-lock.json, embedded into the binary by
# src/http/CMakeLists.txt (which stops with a message when it is missing).
if [ ! -f "$root/web/node_modules/uplot/dist/uPlot.iife.min.js" ]; then
  echo "install-deps: npm ci --prefix web"
  npm ci --prefix "$root/web" --no-audit --no-fund
fi
if [ "$mode" = test ] && command -v npm >/dev/null 2>&1; then
  # DuckDB (@duckdb/node-api) as the independent reader of our Parquet files.
  if [ ! -d "$root/tools/duckdb/node_modules/@duckdb/node-api" ]; then
    echo "install-deps: npm ci --prefix tools/duckdb"
    npm ci --prefix "$root/tools/duckdb" --no-audit --no-fund
  fi
  # Azurite (the Azure Storage emulator) for the Blob model-source tests.
  if [ ! -x "$root/tools/azurite/node_modules/.bin/azurite-blob" ]; then
    echo "install-deps: npm ci --prefix tools/azurite"
    npm ci --prefix "$root/tools/azurite" --no-audit --no-fund
  fi
  # playwright-core drives Debian's Chromium in tests/http/serve_e2e_test.cc
  # (no browser download).
  if [ ! -d "$root/tests/http/browser/node_modules/playwright-core" ]; then
    echo "install-deps: npm ci --prefix tests/http/browser"
    npm ci --prefix "$root/tests/http/browser" --no-audit --no-fund
  fi
fi
