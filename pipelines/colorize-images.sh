#!/usr/bin/env bash
# Colorizes grayscale images (a folder, single files, or a numbered sequence) into PNGs.
set -euo pipefail
source "$(dirname "$0")/common.sh"

usage() {
  cat <<USAGE
usage: $(basename "$0") [options] [--] INPUT... OUT_DIR

INPUT is an image file (PNG, JPEG: anything decodebin reads), a folder of
them, or a numbered sequence pattern such as frames/%04d.png. Each image is
written to OUT_DIR as a PNG with the same stem (sequences keep their numbering).

options:
$COMMON_OPTIONS_HELP
USAGE
}

args=()
while [ $# -gt 0 ]; do
  if common_option "$@"; then shift "$shift_by"; continue; fi
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --) shift; args+=("$@"); break ;;
    -*) usage >&2; die "unknown option $1 (put -- before file names that start with -)" ;;
    *) args+=("$1") ;;
  esac
  shift
done
[ ${#args[@]} -ge 2 ] || { usage >&2; die "expected INPUT... and OUT_DIR"; }
out_dir="${args[-1]}"
unset 'args[-1]'
[ -z "$model" ] || [ -r "$model" ] || die "cannot read model $model"
require_plugin
mkdir -p -- "$out_dir"
colorize=(cgancolorizebin)
colorize_properties

colorize_one() {  # INPUT OUTPUT
  local in out
  gst_quoted_path in "$1"
  gst_quoted_path out "$2"
  gst-launch-1.0 -q filesrc location="$in" ! decodebin ! videoconvert ! "${colorize[@]}" ! \
    videoconvert ! pngenc ! filesink location="$out" || die "failed on $1"
  echo "$2"
}

colorize_sequence() {  # PATTERN
  # One pipeline, the model loaded once. The pattern is printf-style: exactly
  # one %d (%04d, ...) and any literal % written %%.
  local pattern="$1" literal='%%' decoder in out
  [[ "${pattern//"$literal"/}" =~ ^[^%]*%[0-9]*d[^%]*$ ]] ||
    die "a sequence pattern needs exactly one %d (like frames/%04d.png), got $pattern"
  local ext="${pattern##*.}"
  ext="${ext,,}"
  case "$ext" in
    png) decoder=pngdec ;;
    jpg|jpeg) decoder=jpegdec ext=jpeg ;;
    *) die "sequences of .$ext are not supported (use png or jpeg)" ;;
  esac
  gst_quoted_path in "$pattern"
  gst_quoted_path out "$(printf_escaped "$out_dir")/$(basename -- "${pattern%.*}").png"
  gst-launch-1.0 -q multifilesrc location="$in" caps="image/$ext,framerate=1/1" ! \
    $decoder ! videoconvert ! "${colorize[@]}" ! videoconvert ! pngenc ! multifilesink location="$out" ||
    die "failed on $pattern"
  echo "wrote the sequence into $out_dir"
}

for input in "${args[@]}"; do
  if [[ "$input" == *%* ]] && [ ! -e "$input" ]; then
    colorize_sequence "$input"
  elif [ -d "$input" ]; then
    found=0 dir="$input"
    [[ "$dir" == /* ]] || dir="./$dir"  # find would read a leading - as an option
    while IFS= read -r -d '' file; do
      found=1
      name=$(basename -- "$file")
      colorize_one "$file" "$out_dir/${name%.*}.png"
    done < <(find "$dir" -maxdepth 1 -type f \( -iname '*.png' -o -iname '*.jpg' -o -iname '*.jpeg' \) -print0 | sort -z)
    [ "$found" = 1 ] || die "no PNG or JPEG images in $input"
  elif [ -r "$input" ]; then
    name=$(basename -- "$input")
    colorize_one "$input" "$out_dir/${name%.*}.png"
  else
    die "cannot read $input"
  fi
done
