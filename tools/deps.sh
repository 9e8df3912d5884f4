#!/bin/sh
# Install the Debian 12 packages that building, testing and running drudge
# need. Idempotent: only what is missing is installed. Run as root (or with
# sudo available).
set -e
PKGS="build-essential pkg-config
libhiredis-dev libjansson-dev libyaml-dev libcmocka-dev
libcurl4-openssl-dev libmicrohttpd-dev libmagickwand-6.q16-dev libseccomp-dev
redis-server redis-tools supervisor
imagemagick fonts-dejavu-core chromium poppler-utils
python3 python3-pytest python3-redis python3-aiosmtpd
cppcheck valgrind"
missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
if [ -z "$missing" ]; then
    echo "deps: everything is installed"
    exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "deps: installing$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
