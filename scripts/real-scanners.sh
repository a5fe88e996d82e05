#!/usr/bin/env bash
# Installs the real scanner servers used by test/real and the clamd benchmarks, and Samba + smbclient
# for apps/filer/test/real/samba*.test.ts (Debian packages).
# The tests start their own clamd / c-icap instances with private configs on unix sockets or
# 127.0.0.1 and stop them by PID, so nothing here starts a daemon.
#   bash scripts/real-scanners.sh install    # idempotent; quick when already installed
set -euo pipefail

# samba + samba-vfs-modules (vfs_virusfilter is not in `samba`) + smbclient: the real SMB filer tests.
pkgs=(clamav-daemon clamdscan c-icap libc-icap-mod-virus-scan samba samba-vfs-modules smbclient)

install() {
  local missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "real-scanners: already installed (${pkgs[*]})"
    return 0
  fi
  # Keep package scripts from starting system daemons (no init system here; we start our own).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "real-scanners: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "real-scanners: installed"
}

case "${1:-}" in
  install) install ;;
  *) echo "usage: $0 install" >&2; exit 2 ;;
esac
