#!/usr/bin/env bash
# Colorizes a live camera (v4l2) into a window; without a camera, a live test source.
set -euo pipefail
source "$(dirname "$0")/common.sh"

usage() {
  cat <<USAGE
usage: $(basename "$0") [options]

Shows a live camera colorized by colorgan. Without a camera (no /dev/video*),
it says so and uses videotestsrc is-live=true instead.

options:
  --camera DEV        v4l2 device (default /dev/video0)
  --size WxH          capture size (default 320x240)
  --sink ELEMENT      video sink (default autovideosink; fakesink for headless runs)
  --num-buffers N     stop after N frames (default: run until interrupted)
$COMMON_OPTIONS_HELP

A leaky queue before the colorizer keeps only the newest frame, so when the
model is slower than the camera frames are dropped instead of building latency.
USAGE
}

camera=/dev/video0 size=320x240 sink=autovideosink num_buffers=-1
while [ $# -gt 0 ]; do
  if common_option "$@"; then shift "$shift_by"; continue; fi
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --camera) camera="${2:?--camera needs a device}"; shift ;;
    --size) size="${2:?--size needs WxH}"; shift ;;
    --sink) sink="${2:?--sink needs an element}"; shift ;;
    --num-buffers) number num_buffers "$1" "${2-}" '-1|[0-9]{1,9}'; shift ;;
    *) usage >&2; die "unknown argument $1" ;;
  esac
  shift
done
[[ "$size" =~ ^[1-9][0-9]{0,4}x[1-9][0-9]{0,4}$ ]] || die "--size must look like 320x240"
width=${size%x*} height=${size#*x}
# The sink is an element with optional properties ("xvimagesink sync=false"): split into words, never evaluated.
read -r -a sink_words <<< "$sink"
[[ "${sink_words[0]-}" =~ ^[A-Za-z0-9_-]+$ ]] || die "--sink must start with an element name, got '$sink'"
[ -z "$model" ] || [ -r "$model" ] || die "cannot read model $model"
require_plugin

if [ -e "$camera" ]; then
  echo "using camera $camera"
  gst_quoted_path device_location "$camera"
  source=(v4l2src device="$device_location" num-buffers="$num_buffers")
else
  echo "no camera at $camera: using videotestsrc is-live=true instead"
  source=(videotestsrc is-live=true pattern=ball num-buffers="$num_buffers")
fi
colorize=(cgancolorizebin)
colorize_properties
gst-launch-1.0 "${source[@]}" ! videoconvert ! videoscale ! video/x-raw,width="$width",height="$height" ! \
  queue leaky=downstream max-size-buffers=1 max-size-bytes=0 max-size-time=0 ! \
  "${colorize[@]}" ! videoconvert ! "${sink_words[@]}"
