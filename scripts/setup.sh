#!/usr/bin/env bash
# Installs everything pesdc and its tests need on a fresh Debian 12 machine:
# Debian packages (the real daemons the lab runs) and a Python venv in .venv.
# Idempotent: a second run only checks.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"

APT_PACKAGES=(
  iproute2 nftables frr openssh-server openssh-client graphviz
  debootstrap apt-utils iputils-ping netcat-openbsd procps psmisc
)
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: need root to install Debian packages: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Debian starts these daemons on install; pesdc runs its own instances per lab node.
  for svc in frr ssh; do
    if command -v service >/dev/null; then service "$svc" stop >/dev/null 2>&1 || true; fi
  done
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e ".[dev]"
echo "setup: ok ($(.venv/bin/python --version), pesdc $(.venv/bin/pesdc --version 2>/dev/null | awk '{print $NF}'))"
