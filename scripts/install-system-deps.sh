#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages a fresh machine lacks for layerscope's Qt window
# (PySide6's xcb platform plugin and its libraries), a virtual screen (xvfb, for `make run`
# without a screen) and fonts. Installs only what is missing; does nothing on a machine that
# has them all. As root it runs apt-get; otherwise sudo, when sudo can run without stopping
# to ask in a non-interactive shell; failing both it says what to run and stops.
set -euo pipefail

packages=(
  libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 libxkbcommon0
  libxkbcommon-x11-0 libx11-xcb1 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
  libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0
  libxrender1 libxi6 xvfb xauth fonts-dejavu-core
)
me="install-system-deps"

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
  echo "$me: not a Debian/Ubuntu system; install Qt 6's xcb runtime libraries and xvfb yourself" >&2
  exit 0
fi

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q " installed$"; }
missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

as_root=()
if [ "$(id -u)" -ne 0 ]; then
  # sudo that can ask for a password (a terminal) or needs none; anything else would hang or fail
  if command -v sudo >/dev/null 2>&1 && { [ -t 0 ] || sudo -n true 2>/dev/null; }; then
    as_root=(sudo)
  else
    echo "$me: these Debian packages are missing: ${missing[*]}" >&2
    echo "$me: run this as root, then try again: sudo ${0#./}" >&2
    exit 1
  fi
fi
echo "$me: installing ${missing[*]}" >&2
apt_get=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get -o DPkg::Lock::Timeout=600 -qq)
"${apt_get[@]}" update
"${apt_get[@]}" install -y --no-install-recommends "${missing[@]}" >/dev/null
