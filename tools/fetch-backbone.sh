#!/usr/bin/env bash
# Fetches the pretrained MobileNetV2 inside npm's nsfwjs (MIT; pinned version,
# unpacked, not installed) and converts it to a colorgan backbone file with
# `colorgan-model import-tfjs`, which writes it only if it reproduces values
# recorded from TensorFlow.js on real photos (tests/data/mobilenet_v2-reference.json).
# Used by training's feature loss (colorgan-train --feature-loss). Nothing here is committed.
set -euo pipefail

usage() {
  cat <<USAGE
usage: $(basename "$0") [--colorgan-model PATH] [DEST]

Writes DEST/mobilenet_v2.pt (DEST defaults to \$COLORGAN_DATA or ~/.cache/colorgan/data).
  --colorgan-model PATH   the converter (default: build/tools/colorgan-model of this checkout)
USAGE
}

root="$(cd "$(dirname "$0")/.." && pwd)"
converter="$root/build/tools/colorgan-model" dest=""
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --colorgan-model) [ $# -ge 2 ] || { usage >&2; exit 2; }; converter="$2"; shift ;;
    -*) usage >&2; exit 2 ;;
    *) dest="$1" ;;
  esac
  shift
done
dest="${dest:-${COLORGAN_DATA:-$HOME/.cache/colorgan/data}}"
for tool in npm node tar sha256sum; do
  command -v "$tool" > /dev/null || { echo "$(basename "$0"): needs $tool (tools/install-deps.sh installs it)" >&2; exit 2; }
done
[ -x "$converter" ] || { echo "$(basename "$0"): no converter at $converter (build first, or --colorgan-model)" >&2; exit 2; }

package=nsfwjs@4.2.1
sha256=d2f8423d87ba1e14d5744f8faeb6604e740da5d2ff21ccef55f55e60a7929c6b
work="$dest/.packages/nsfwjs"
mkdir -p "$work"
tarball="$work/nsfwjs-4.2.1.tgz"
if [ ! -f "$tarball" ]; then
  echo "npm pack $package (74 MB)"
  if ! log=$(cd "$work" && npm pack "$package" 2>&1 > /dev/null); then
    echo "$log" >&2
    echo "$(basename "$0"): npm pack $package failed (npm's messages above)" >&2
    exit 1
  fi
fi
if ! echo "$sha256  $tarball" | sha256sum --check --status; then
  echo "$(basename "$0"): $tarball is not the $package this script was written for (sha256 differs)" >&2
  exit 1
fi
rm -rf "$work/unpacked" "$work/tfjs"
mkdir -p "$work/unpacked"
tar -xzf "$tarball" -C "$work/unpacked" package/dist/models/mobilenet_v2 package/LICENSE
node "$root/tools/backbone/unwrap-tfjs-bundle.cjs" "$work/unpacked/package/dist/models/mobilenet_v2" "$work/tfjs"
"$converter" import-tfjs "$work/tfjs/model.json" --out "$dest/mobilenet_v2.pt" \
  --check "$root/tests/data/mobilenet_v2-reference.json"
