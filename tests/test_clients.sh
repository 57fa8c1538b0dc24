#!/usr/bin/env bash
# The client programs of pipelines/clients: Python through GObject
# introspection (appsrc/appsink around cgancolorizebin) and OpenCV through
# CAP_GSTREAMER, each on a real encoded clip, with the default model.
# Usage: test_clients.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build="$1" src="$2"
export GST_PLUGIN_PATH="$build/plugins"
source "$(dirname "$0")/cli_support.sh"

# A gray VP8/WebM clip of 12 frames of a real photo (tests/data), with a name a
# shell or a pipeline description would misread.
clip="$tmp/gray clip \"1\"!.webm"
check "make a gray clip" 0 gst-launch-1.0 -q filesrc location="$COLORGAN_TEST_DATA/astronaut-128.jpg" ! jpegdec ! \
  imagefreeze num-buffers=12 ! video/x-raw,framerate=12/1 ! videoconvert ! video/x-raw,format=GRAY8 ! videoconvert ! \
  vp8enc ! webmmux ! filesink location="$clip"

# Colour: some pixel whose channels differ by more than a few levels (a gray frame has none).
is_colour_ppm() {  # FILE
  /usr/bin/python3 - "$1" <<'PY'
import sys
data = open(sys.argv[1], "rb").read()
header, pixels = data.split(b"\n", 3)[:3], data.split(b"\n", 3)[3]
width, height = map(int, header[1].split())
assert header[0] == b"P6" and len(pixels) == width * height * 3, "a binary PPM of its stated size"
spread = max(max(pixels[i:i + 3]) - min(pixels[i:i + 3]) for i in range(0, len(pixels), 3))
sys.exit(0 if spread > 8 else 1)
PY
}

py="$src/pipelines/clients/colorize_frames.py"
check "Python GI client colorizes the clip" 0 /usr/bin/python3 "$py" --every 5 "$clip" "$tmp/py"
expect_output "it reports every frame" "colorized 12 frames, wrote 3"
check "... into colour frames" 0 is_colour_ppm "$tmp/py/frame-000005.ppm"
check "Python GI client: a missing input is an error" 1 /usr/bin/python3 "$py" "$tmp/none.webm" "$tmp/py2"
expect_output "... naming it" "cannot read $tmp/none.webm"

client="$build/pipelines/colorgan-opencv-client"
out="$tmp/colour \"2\"!.webm"
check "OpenCV client colorizes the clip through CAP_GSTREAMER" 0 "$client" "$clip" "$out"
expect_output "it reads every frame" "frames 12 "
colourfulness=$(sed -n 's/.*colourfulness \([0-9.]*\).*/\1/p' "$tmp/out")
check "... in colour (colourfulness $colourfulness > 1)" 0 awk -v c="$colourfulness" 'BEGIN { exit !(c > 1) }'
check "... and writes a VP8 WebM of it" 0 gst-discoverer-1.0 "$out"
expect_output "the output is VP8" "VP8"
check "OpenCV client: a missing input is an error" 1 "$client" "$tmp/none.webm" "$tmp/x.webm"
expect_output "... naming it" "cannot open $tmp/none.webm"
check "OpenCV client: usage" 2 "$client"

finish
