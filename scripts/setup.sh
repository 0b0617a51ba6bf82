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
  fonts-noto-cjk
  sudo rsyslog chrony auditd logrotate libpwquality-tools libpam-pwquality
  cracklib-runtime python3-pwquality chromium
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
  # pesdc runs its own instances of these daemons (per lab node); Debian must not start
  # the machine's own ones on install (chronyd would even steer the machine's clock).
  made_policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -n "$made_policy" ] && rm -f /usr/sbin/policy-rc.d
fi

PY="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/pip install -q --upgrade pip >/dev/null
.venv/bin/pip install -q -e ".[dev]"
# fake-switches (the Cisco IOS emulator of the push tests) pins a Twisted that no longer
# builds on Python 3.11: install it without its pins; its real deps are in [dev].
.venv/bin/pip install -q --no-deps fake-switches
# The awx.awx collection of the ansible community package, unpacked into .collections/
# (gitignored): tests/awx check `pesdc export awx` against its modules' argument specs
# and run ansible-playbook --syntax-check with it. Pinned: the specs are that release's.
AWX_FROM_ANSIBLE="12.3.0"
if [ "$(cat .collections/.from-ansible 2>/dev/null)" != "$AWX_FROM_ANSIBLE" ] \
    || [ ! -f .collections/ansible_collections/awx/awx/MANIFEST.json ]; then
  wheels="$(mktemp -d)"
  .venv/bin/pip download -q --no-deps -d "$wheels" "ansible==$AWX_FROM_ANSIBLE" >/dev/null
  rm -rf .collections.new
  .venv/bin/python - "$wheels"/ansible-"$AWX_FROM_ANSIBLE"-*.whl .collections.new <<'PY'
import sys
import zipfile

with zipfile.ZipFile(sys.argv[1]) as wheel:
    wheel.extractall(sys.argv[2], [n for n in wheel.namelist()
                                   if n.startswith("ansible_collections/awx/awx/")])
PY
  echo "$AWX_FROM_ANSIBLE" > .collections.new/.from-ansible
  rm -rf .collections "$wheels"
  mv .collections.new .collections
fi
echo "setup: ok ($(.venv/bin/python --version), pesdc $(.venv/bin/pesdc --version 2>/dev/null | awk '{print $NF}'))"
