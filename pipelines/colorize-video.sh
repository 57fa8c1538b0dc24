#!/usr/bin/env bash
# Colorizes a video file (anything decodebin can read), keeping its sound,
# frame rate and pixel aspect ratio; OUTPUT's extension picks the container.
set -euo pipefail
source "$(dirname "$0")/common.sh"

usage() {
  cat <<USAGE
usage: $(basename "$0") [options] [--] INPUT OUTPUT

Colorizes INPUT (colour input is treated as grayscale) with colorgan's element
chain. OUTPUT's extension picks the container and codecs:
  .webm  VP8 video (--vp9: VP9), Opus audio
  .mkv   VP9 video, Opus audio; --lossless: FFV1 video, FLAC audio (for archives)
  .mp4   H.264 video (x264enc, gstreamer1.0-plugins-ugly), AAC audio
The sound is kept: Vorbis or Opus go into .webm and .mkv as they are, anything
else is re-encoded. Frame rate and pixel aspect ratio are kept. On a terminal
it shows the percentage done and the time left.

options:
  --side-by-side      write gray input | colorized output next to each other
  --vp9               .webm: VP9 instead of VP8
  --lossless          .mkv: FFV1 video and FLAC audio, nothing lost after colorizing
  --no-audio          leave the sound out
$COMMON_OPTIONS_HELP
USAGE
}

side_by_side=0 vp9=0 lossless=0 audio=1 args=()
while [ $# -gt 0 ]; do
  if common_option "$@"; then shift "$shift_by"; continue; fi
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --side-by-side) side_by_side=1 ;;
    --vp9) vp9=1 ;;
    --lossless) lossless=1 ;;
    --no-audio) audio=0 ;;
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
command -v gst-discoverer-1.0 > /dev/null || die "needs gst-discoverer-1.0 (Debian: gstreamer1.0-plugins-base-apps)"

# The container and codecs, by OUTPUT's extension.
extension="${output##*.}"
extension="${extension,,}"
case "$extension" in
  webm)
    [ "$lossless" = 0 ] || die "--lossless needs a .mkv OUTPUT"
    video_encoder=(vp8enc deadline=1 cpu-used=8 target-bitrate=4000000)
    [ "$vp9" = 0 ] || video_encoder=(vp9enc deadline=1 cpu-used=8 row-mt=true target-bitrate=4000000)
    audio_encoder=(opusenc) keep_audio="Vorbis|Opus" muxer=(webmmux) ;;
  mkv)
    [ "$vp9" = 0 ] || die "--vp9 is for .webm (.mkv is VP9 already)"
    if [ "$lossless" = 1 ]; then
      video_encoder=(avenc_ffv1) audio_encoder=(flacenc) keep_audio="FLAC"
    else
      video_encoder=(vp9enc deadline=1 cpu-used=8 row-mt=true target-bitrate=4000000)
      audio_encoder=(opusenc) keep_audio="Vorbis|Opus"
    fi
    muxer=(matroskamux) ;;
  mp4)
    [ "$lossless" = 0 ] && [ "$vp9" = 0 ] || die "--lossless and --vp9 are for .mkv and .webm"
    gst-inspect-1.0 x264enc > /dev/null 2>&1 || die "writing .mp4 needs x264enc (Debian: gstreamer1.0-plugins-ugly)"
    video_encoder=(video/x-raw,format=I420 ! x264enc speed-preset=veryfast bitrate=4000)
    audio_encoder=(avenc_aac) keep_audio="" muxer=(mp4mux) ;;
  *) die "OUTPUT must end in .webm, .mkv or .mp4 (got '$output')" ;;
esac

# What the input holds: its length, pixel aspect ratio and first audio codec.
discover_path="$input"
[[ "$discover_path" == /* ]] || discover_path="./$discover_path"  # never read as an option
info=$(gst-discoverer-1.0 "$discover_path" 2>/dev/null) || true
duration=$(sed -n -E 's/^ *Duration: ([0-9]+):([0-9]+):([0-9]+).*/\1 \2 \3/p' <<< "$info" | head -n1)
[ -n "$duration" ] || die "cannot read $input as a video (gst-discoverer-1.0 found no duration)"
read -r hours minutes seconds <<< "$duration"
duration_s=$((10#$hours * 3600 + 10#$minutes * 60 + 10#$seconds))
par=$(sed -n -E 's/^ *Pixel aspect ratio: ([0-9]+\/[0-9]+)$/\1/p' <<< "$info" | head -n1)
audio_codec=$(sed -n -E 's/^ *audio #[0-9]+: (.*)$/\1/p' <<< "$info" | head -n1)
width=$(sed -n -E 's/^ *Width: ([0-9]+)$/\1/p' <<< "$info" | sort -n | tail -n1)  # nested streams may say 0; side by side uses it
height=$(sed -n -E 's/^ *Height: ([0-9]+)$/\1/p' <<< "$info" | sort -n | tail -n1)
[ "$audio" = 1 ] || audio_codec=""

# Written beside OUTPUT under another name and renamed when complete: a failed
# run leaves no empty or truncated OUTPUT behind.
partial="$(dirname -- "$output")/.$(basename -- "$output").partial.$$"
trap 'rm -f -- "$partial"' EXIT
gst_quoted_path input_location "$input"
gst_quoted_path output_location "$partial"
colorize=(cgancolorizebin)
colorize_properties
# Progress: progressreport prints "(elapsed): done / total seconds (P %)" lines, read below.
progress=()
[ -t 2 ] && progress=(progressreport update-freq=1 silent=false !)
# The colorizer's planar caps carry no pixel aspect ratio yet: set it back on its
# output (side by side, the compositor works in square pixels).
keep_par=()
if [ -n "$par" ] && [ "$par" != 1/1 ] && [ "$side_by_side" = 0 ]; then
  keep_par=(capssetter caps="video/x-raw,pixel-aspect-ratio=(fraction)$par" !)
fi
# H.264 in 4:2:0 needs even sides: an odd last column or row is cropped.
even=()
if [ "$extension" = mp4 ] && [ "$side_by_side" = 0 ] && [ $((${width:-0} % 2 + ${height:-0} % 2)) -gt 0 ]; then
  even=(videocrop right=$((${width:-0} % 2)) bottom=$((${height:-0} % 2)) !)
fi
encode=(videoconvert ! "${even[@]}" "${keep_par[@]}" "${video_encoder[@]}" ! queue ! mux.)
pipeline=("${muxer[@]}" name=mux ! filesink location="$output_location")
if [ "$side_by_side" = 1 ]; then
  [ "${width:-0}" -gt 0 ] || die "cannot read the frame width of $input"
  # The compositor would otherwise settle on the gray input's format and drop the colour.
  pipeline+=(
    filesrc location="$input_location" ! decodebin ! "${progress[@]}" videoconvert ! tee name=t
    compositor name=mix sink_1::xpos="$width" ! video/x-raw,format=BGRx ! "${encode[@]}"
    t. ! queue ! videoconvert ! video/x-raw,format=GRAY8 ! videoconvert ! mix.sink_0
    t. ! queue ! "${colorize[@]}" ! videoconvert ! mix.sink_1)
else
  pipeline+=(filesrc location="$input_location" ! decodebin ! "${progress[@]}" videoconvert ! "${colorize[@]}" ! "${encode[@]}")
fi
# The sound from a second reader of the file: kept as it is where the container
# holds it, else decoded and re-encoded.
if [ -n "$audio_codec" ]; then
  if [ -n "$keep_audio" ] && [[ "$audio_codec" =~ ^($keep_audio)$ ]]; then
    # Through its parser once more: straight from parsebin, webmmux and matroskamux would not link (1.22).
    codec="${audio_codec,,}"
    pipeline+=(filesrc location="$input_location" ! parsebin ! "audio/x-$codec" ! "${codec}parse" ! queue ! mux.)
  else
    pipeline+=(filesrc location="$input_location" ! decodebin ! audio/x-raw ! queue ! audioconvert ! audioresample !
               "${audio_encoder[@]}" ! queue ! mux.)
  fi
fi

show_progress() {  # reads progressreport's lines; prints percentage and time left on the terminal
  local start=$SECONDS line percent elapsed
  while IFS= read -r line; do
    [[ "$line" =~ \(\ *([0-9]+)\.[0-9]\ %\) ]] || continue
    percent=${BASH_REMATCH[1]}
    elapsed=$((SECONDS - start))
    if [ "$percent" -gt 0 ]; then
      printf '\r%s: %3d%%, %d s left ' "$(basename "$0")" "$percent" $((elapsed * (100 - percent) / percent)) >&2
    fi
  done
  printf '\r\033[K' >&2
}

if [ ${#progress[@]} -gt 0 ]; then
  gst-launch-1.0 -q "${pipeline[@]}" | show_progress || die "failed on $input"  # pipefail: either failing fails
else
  gst-launch-1.0 -q "${pipeline[@]}" || die "failed on $input"
fi
mv -f -- "$partial" "$output"
echo "wrote $output (${duration_s} s${audio_codec:+, sound: $audio_codec})"
