#!/usr/bin/env bash
# Unpacks Debian's header-only CLI11 and nlohmann-json (without installing them)
# into subprojects/, where meson.build falls back to them when the packages are
# not installed: for a machine that cannot install Debian packages, such as a
# GPU machine with a pip PyTorch (tools/gpu-check.sh). Run it on a Debian
# machine, then take subprojects/ along.
set -euo pipefail
case "${1:-}" in
  -h|--help) sed -n '2,6p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# PACKAGE SUBPROJECT DEPENDENCY_VARIABLE
unpack() {
  (cd "$work" && apt-get download "$1" 2>&1 > /dev/null | { grep -v "^W: Download is performed unsandboxed" || true; } >&2)
  local dest="$root/subprojects/$2"
  rm -rf "$dest" "$work/root"
  dpkg-deb -x "$work/$1"_*.deb "$work/root"
  mkdir -p "$dest"
  cp -r "$work/root/usr/include" "$dest/include"
  cp "$work/root/usr/share/doc/$1/copyright" "$dest/copyright"
  local version
  version=$(dpkg-deb -f "$work/$1"_*.deb Version)
  cat > "$dest/meson.build" <<MESON
project('$2', 'cpp', version : '${version%%[+-]*}')  # Debian's $1 $version, unpacked by tools/fetch-header-deps.sh
$3 = declare_dependency(include_directories : include_directories('include'))
MESON
  echo "subprojects/$2: $1 $version"
}

unpack libcli11-dev cli11 cli11_dep
unpack nlohmann-json3-dev nlohmann_json nlohmann_json_dep
