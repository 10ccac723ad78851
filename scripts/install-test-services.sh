#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages the tests of registry://, podman:// and docker://
# sources run for real: podman (a throwaway store per test session, and its Docker-compatible
# API service), skopeo (pushes corpus images into the registry), docker-registry (a real
# registry on 127.0.0.1), apache2-utils (htpasswd) and openssl (the token server's key); and
# the validators of the desktop entry and the AppStream metainfo (desktop-file-utils,
# appstream), so CI checks them too.
# The tests start and stop these services themselves; without the packages they skip.
# Installs only what is missing; does nothing on a machine that has them all.
set -euo pipefail

packages=(podman skopeo docker-registry apache2-utils openssl desktop-file-utils appstream)

if ! command -v dpkg >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-test-services: not a Debian/Ubuntu system; the remote-source tests will skip" >&2
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-test-services: need root to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-test-services: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get -o DPkg::Lock::Timeout=600 update -qq
$sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
