#!/usr/bin/env bash
# Colorizes a video file (anything decodebin can read) into a WebM/VP8 file.
set -euo pipefail
source "$(dirname "$0")/common.sh"

usage() {
  cat <<USAGE
usage: $(basename "$0") [options] [--] INPUT OUTPUT.webm

Colorizes INPUT (colour input is treated as grayscale) with colorgan's element
chain and writes OUTPUT as WebM (VP8).

options:
  --side-by-side      write gray input | colorized output next to each other
$COMMON_OPTIONS_HELP
USAGE
}

side_by_side=0 args=()
while [ $# -gt 0 ]; do
  if common_option "$@"; then shift "$shift_by"; continue; fi
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --side-by-side) side_by_side=1 ;;
    --) shift; args+=("$@"); break ;;
    -*) usage >&2; die "unknown option $1 (put -- before file names that start with -)" ;;
    *) args+=("$1") ;;
  esac
  shift
done
[ ${#args[@]} -eq 2 ] || { usage >&2; die "expected INPUT and OUTPUT"; }
input="${args[0]}" output="${args[1]}"
[ -r "$input" ] || die "cannot read $input"
[ -z "$model" ] || [ -r "$model" ] || die "cannot read model $model"
require_plugin

# Written beside OUTPUT under another name and renamed when complete: a failed
# run leaves no empty or truncated OUTPUT behind.
partial="$(dirname -- "$output")/.$(basename -- "$output").partial.$$"
trap 'rm -f -- "$partial"' EXIT
gst_quoted_path input_location "$input"
gst_quoted_path output_location "$partial"
colorize=(cgancolorizebin)
colorize_properties
encode=(videoconvert ! vp8enc deadline=1 cpu-used=8 target-bitrate=4000000 ! webmmux ! filesink location="$output_location")
if [ "$side_by_side" = 1 ]; then
  read -r width height < <(probe_size "$input") || die "cannot decode a video frame from $input"
  # The compositor would otherwise settle on the gray input's format and drop the colour.
  gst-launch-1.0 -q \
    filesrc location="$input_location" ! decodebin ! videoconvert ! tee name=t \
    compositor name=mix sink_1::xpos="$width" ! video/x-raw,format=BGRx ! "${encode[@]}" \
    t. ! queue ! videoconvert ! video/x-raw,format=GRAY8 ! videoconvert ! mix.sink_0 \
    t. ! queue ! "${colorize[@]}" ! videoconvert ! mix.sink_1 || die "failed on $input"
else
  gst-launch-1.0 -q filesrc location="$input_location" ! decodebin ! videoconvert ! "${colorize[@]}" ! "${encode[@]}" ||
    die "failed on $input"
fi
mv -f -- "$partial" "$output"
echo "wrote $output"
