#!/usr/bin/env bash
# Installs Debian packages the real-server suites need, idempotently, without starting their daemons
# (no init system here; the tests start private instances and stop them by PID).
#   bash scripts/apt-install.sh <label> <package>…    # quick when everything is installed
set -euo pipefail

label="${1:?usage: $0 <label> <package>…}"
shift
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "$label: already installed ($*)"
  exit 0
fi
# Keep package scripts from starting system daemons.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "$label: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "$label: installed"
