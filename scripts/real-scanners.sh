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
  bash "$(dirname "$0")/apt-install.sh" real-scanners "${pkgs[@]}"
}

case "${1:-}" in
  install) install ;;
  *) echo "usage: $0 install" >&2; exit 2 ;;
esac
