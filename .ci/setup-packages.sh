#!/usr/bin/env bash
# Installs the Debian packages that the test suite needs. Idempotent, quiet, non-interactive; run as root.
#   openssh-server, openssh-client  sandbox nodes' sshd; ssh, ssh-keygen, ssh-keyscan, ssh-agent in e2e tests
#   sudo                            the sandbox nodes' sudoers
#   util-linux, mount, procps       unshare, nsenter, setpriv, mount -a (X-mount.mkdir), ps
#   systemd                         the reference parsers the kubelet unit-file tests compare against
#   kubernetes-client               kubectl, only where the machine has none: the simulator's API server
#                                   is checked with the real kubectl
set -euo pipefail

packages=(openssh-server openssh-client sudo util-linux mount procps systemd)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
command -v kubectl >/dev/null 2>&1 || missing+=(kubernetes-client)
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "setup-packages: missing ${missing[*]}; run this script as root" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
