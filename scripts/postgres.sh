#!/usr/bin/env bash
# Installs Debian's PostgreSQL server (15 on bookworm) for the @avscan/store-pg suites and bench/cluster.
# The tests run initdb and pg_ctl themselves (as the `postgres` user when root) in temp dirs on unix
# sockets and stop the server by PID, so nothing here starts a daemon.
#   bash scripts/postgres.sh install    # idempotent; quick when already installed
set -euo pipefail

install() {
  if dpkg-query -W -f='${Status}' postgresql 2>/dev/null | grep -q 'install ok installed'; then
    echo "postgres: already installed"
    return 0
  fi
  # Keep the package's postinst from starting the system cluster (no init system here; tests start their own).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "postgres: installing postgresql"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  echo "postgres: installed"
}

case "${1:-}" in
  install) install ;;
  *) echo "usage: $0 install" >&2; exit 2 ;;
esac
