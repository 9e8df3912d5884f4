#!/bin/sh
# Install the Debian 12 packages that building, testing and running drudge
# need (prometheus only for promtool, which validates /metrics in the tests).
# Idempotent: only what is missing is installed. Run as root (or with sudo
# available).
set -e
PKGS="build-essential pkg-config
libhiredis-dev libjansson-dev libyaml-dev libcmocka-dev
libcurl4-openssl-dev libmicrohttpd-dev libmagickwand-6.q16-dev libseccomp-dev
redis-server redis-tools supervisor
imagemagick fonts-dejavu-core chromium chromium-headless-shell poppler-utils
python3 python3-pytest python3-redis python3-aiosmtpd
curl procps prometheus
cppcheck valgrind"
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ -z "$missing" ]; then
    echo "deps: everything is installed"
else
    echo "deps: installing$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
fi

# ---- last, apart from the Debian packages: the browser tests' npm package ----
# playwright-core (no browser download: it drives Debian's /usr/bin/chromium)
# into tests/system/browser/node_modules, from its package.json and lock file.
# Skipped when it is there already.
browser_dir="$(cd "$(dirname "$0")/.." && pwd)/tests/system/browser"
if [ -d "$browser_dir/node_modules/playwright-core" ]; then
    echo "deps: playwright-core is installed"
else
    if ! command -v npm >/dev/null 2>&1; then
        echo "deps: installing nodejs npm"
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
    fi
    echo "deps: npm ci --prefix tests/system/browser"
    npm ci --prefix "$browser_dir" --no-audit --no-fund --loglevel=error
fi
