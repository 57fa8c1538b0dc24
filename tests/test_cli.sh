#!/usr/bin/env bash
# The command-line surface as users meet it: gst-inspect, gst-launch exit
# codes, the colorgan-model tool and the pipeline scripts.
# Usage: test_cli.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build="$1" src="$2"
export GST_PLUGIN_PATH="$build/plugins"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

check() {  # DESCRIPTION EXPECTED_STATUS (a number, or "fail" for any non-zero) COMMAND...
  local what="$1" expected="$2"
  shift 2
  "$@" > "$tmp/out" 2>&1
  local status=$?
  if { [ "$expected" = fail ] && [ "$status" -eq 0 ]; } || { [ "$expected" != fail ] && [ "$status" -ne "$expected" ]; }; then
    echo "FAIL: $what: exit $status, expected $expected"; sed 's/^/    /' "$tmp/out" | tail -20
    failures=$((failures + 1))
  else
    echo "ok:   $what"
  fi
}

expect_output() {  # DESCRIPTION PATTERN (in the last command's output)
  if grep -q -- "$2" "$tmp/out"; then echo "ok:   $1"; else
    echo "FAIL: $1: output lacks '$2'"; sed 's/^/    /' "$tmp/out" | tail -20; failures=$((failures + 1)); fi
}

model_tool="$build/tools/colorgan-model"
check "colorgan-model --help" 0 "$model_tool" --help
check "colorgan-model without a command" 2 "$model_tool"
check "colorgan-model unknown option" 2 "$model_tool" init --bogus "$tmp/x.cgan"
check "colorgan-model init" 0 "$model_tool" init --preset tiny --seed 3 "$tmp/m.cgan"
check "colorgan-model info" 0 "$model_tool" info "$tmp/m.cgan"
expect_output "info shows the provenance" "preset tiny"
check "colorgan-model info on a missing file" 1 "$model_tool" info "$tmp/none.cgan"
expect_output "the error names the file" "$tmp/none.cgan"

check "gst-inspect lists the plugin" 0 gst-inspect-1.0 colorgan
for element in cganrgb2yuv cgannoise cgancolorize cganyuv2rgb cgancolorizebin; do
  expect_output "gst-inspect lists $element" "$element"
done

chain="videotestsrc num-buffers=30 ! video/x-raw,width=64,height=64 ! cganrgb2yuv ! cgannoise seed=1"
check "gst-launch chain with a model" 0 gst-launch-1.0 $chain ! cgancolorize model="$tmp/m.cgan" ! cganyuv2rgb ! videoconvert ! fakesink
check "gst-launch with model=/nonexistent" fail gst-launch-1.0 $chain ! cgancolorize model=/nonexistent ! cganyuv2rgb ! videoconvert ! fakesink
expect_output "the error names /nonexistent" "/nonexistent"
head -c 3000 "$tmp/m.cgan" > "$tmp/corrupt.cgan"
check "gst-launch with a corrupt model" fail gst-launch-1.0 $chain ! cgancolorize model="$tmp/corrupt.cgan" ! cganyuv2rgb ! videoconvert ! fakesink
expect_output "the error names the corrupt file" "$tmp/corrupt.cgan"
if "$model_tool" devices | grep -q "^cuda"; then
  echo "skip: device=cuda refusal (this build has a GPU)"
else
  check "gst-launch with device=cuda on a CPU-only build" fail gst-launch-1.0 $chain ! cgancolorize model="$tmp/m.cgan" device=cuda ! cganyuv2rgb ! videoconvert ! fakesink
  expect_output "the error says CUDA is not available" "CUDA is not available"
fi

for script in colorize-video colorize-images live-camera; do
  check "pipelines/$script.sh -h" 0 bash "$src/pipelines/$script.sh" -h
  expect_output "$script usage" "usage:"
done
check "colorize-video.sh without arguments" 2 bash "$src/pipelines/colorize-video.sh"

gst-launch-1.0 -q videotestsrc num-buffers=4 ! video/x-raw,width=48,height=32,framerate=8/1 ! videoconvert ! \
  vp8enc ! webmmux ! filesink location="$tmp/in.webm"
check "colorize-video.sh side by side" 0 bash "$src/pipelines/colorize-video.sh" --side-by-side --model "$tmp/m.cgan" "$tmp/in.webm" "$tmp/out.webm"
check "the side-by-side video decodes" 0 gst-launch-1.0 -v filesrc location="$tmp/out.webm" ! decodebin ! fakesink name=probe
expect_output "side by side is twice as wide" "width=(int)96"

mkdir -p "$tmp/images"
gst-launch-1.0 -q videotestsrc num-buffers=3 ! video/x-raw,width=20,height=10,framerate=1/1 ! videoconvert ! \
  video/x-raw,format=GRAY8 ! pngenc ! multifilesink location="$tmp/images/%02d.png"
check "colorize-images.sh on a folder" 0 bash "$src/pipelines/colorize-images.sh" --model "$tmp/m.cgan" "$tmp/images" "$tmp/png-out"
check "one PNG per image" 0 test "$(ls "$tmp/png-out" | wc -l)" -eq 3
check "colorize-images.sh on a sequence" 0 bash "$src/pipelines/colorize-images.sh" --model "$tmp/m.cgan" "$tmp/images/%02d.png" "$tmp/seq-out"
check "one PNG per sequence frame" 0 test "$(ls "$tmp/seq-out" | wc -l)" -eq 3

check "live-camera.sh without a camera falls back" 0 bash "$src/pipelines/live-camera.sh" --camera /dev/no-such-camera \
  --sink fakesink --num-buffers 5 --model "$tmp/m.cgan" --size 32x24
expect_output "it says it uses the test source" "no camera"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
