#!/usr/bin/env bash
# The pipeline scripts on hostile file names: command substitutions, backticks,
# quotes, spaces, a leading dash, backslashes, gst-launch syntax and non-ASCII
# letters in inputs, folders, sequence patterns, outputs and --model. Nothing
# may run (the marker file is never created) and every output must exist.
# Usage: test_script_names.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build="$1" src="$2"
export GST_PLUGIN_PATH="$build/plugins"
source "$(dirname "$0")/cli_support.sh"

# The names run `touch INJECTED` if anything evaluates them: in $tmp, where the scripts run.
cd "$tmp" || exit 1
marker="$tmp/INJECTED"
names=(
  "\$(touch INJECTED)"
  "\`touch INJECTED\`"
  "say \"hi\" it's"
  "with  two spaces"
  "-dash"
  "back\\slash"
  "a ! fakesink name=x"
  "ünïcødé café"
)
no_injection() {  # DESCRIPTION
  if [ -e "$marker" ]; then echo "FAIL: $1: a name ran a command"; failures=$((failures + 1)); rm -f "$marker";
  else echo "ok:   $1: no command ran"; fi
}

model="$tmp/model \$(touch INJECTED) \"q\".cgan"
check "a tiny model" 0 "$build/tools/colorgan-model" init --preset tiny --seed 1 "$model"

# ---- colorize-images.sh: a hostile folder of hostile files, then the files one by one after --
in_dir="$tmp/in \$(touch INJECTED) \`x\`"
mkdir -p "$in_dir"
for name in "${names[@]}"; do
  gst-launch-1.0 -q videotestsrc num-buffers=1 ! video/x-raw,width=20,height=10 ! videoconvert ! \
    video/x-raw,format=GRAY8 ! pngenc ! filesink location="$tmp/plain.png"
  cp "$tmp/plain.png" "$in_dir/$name.png"
done
out_dir="$tmp/out \"\$(touch INJECTED)\""
check "colorize-images.sh on a folder of hostile names" 0 bash "$src/pipelines/colorize-images.sh" --model "$model" \
  "$in_dir" "$out_dir"
no_injection "colorize-images.sh folder"
for name in "${names[@]}"; do check "an output for '$name'" 0 test -s "$out_dir/$name.png"; done

rm -rf "$out_dir"
(cd "$in_dir" && bash "$src/pipelines/colorize-images.sh" --model "$model" -- "${names[@]/%/.png}" "$out_dir") \
  > "$tmp/out" 2>&1
check "colorize-images.sh on relative hostile names after --" 0 test $? -eq 0
no_injection "colorize-images.sh files"
for name in "${names[@]}"; do check "an output for '$name'" 0 test -s "$out_dir/$name.png"; done
check "a leading dash without -- is an unknown option" 2 bash "$src/pipelines/colorize-images.sh" -dash.png "$out_dir"

seq_dir="$tmp/seq \$(touch INJECTED) \"q\" 100%"
mkdir -p "$seq_dir"
for i in 0 1 2; do cp "$tmp/plain.png" "$seq_dir/\`f\` $i.png"; done
check "colorize-images.sh on a sequence in a hostile folder" 0 bash "$src/pipelines/colorize-images.sh" \
  --model "$model" "${seq_dir//%/%%}/\`f\` %d.png" "$out_dir/seq 50%"
no_injection "colorize-images.sh sequence"
check "three sequence frames out" 0 test "$(ls "$out_dir/seq 50%" | wc -l)" -eq 3
check "a pattern with two conversions is refused" 2 bash "$src/pipelines/colorize-images.sh" --model "$model" \
  "$seq_dir/%s %d.png" "$out_dir/x"
expect_output "the error says what a pattern needs" "exactly one %d"

# ---- colorize-video.sh: hostile input and output names, plain and side by side
for name in "${names[@]}"; do
  video="$tmp/$name.webm"
  gst-launch-1.0 -q videotestsrc num-buffers=3 ! video/x-raw,width=32,height=24,framerate=8/1 ! videoconvert ! \
    vp8enc deadline=1 ! webmmux ! filesink location="$tmp/plain.webm"
  cp "$tmp/plain.webm" "$video"
  check "colorize-video.sh on '$name'" 0 bash "$src/pipelines/colorize-video.sh" --model "$model" -- "$video" \
    "$out_dir/$name.webm"
  check "a video out for '$name'" 0 test -s "$out_dir/$name.webm"
done
check "colorize-video.sh --side-by-side on a hostile name" 0 bash "$src/pipelines/colorize-video.sh" --side-by-side \
  --model "$model" "$tmp/${names[0]}.webm" "$out_dir/side \"by\" side.webm"
check "the side-by-side video exists" 0 test -s "$out_dir/side \"by\" side.webm"
no_injection "colorize-video.sh"

# ---- live-camera.sh: hostile camera path and model
check "live-camera.sh with hostile names" 0 bash "$src/pipelines/live-camera.sh" --camera "/dev/\$(touch INJECTED)" \
  --sink fakesink --num-buffers 3 --size 32x24 --model "$model"
no_injection "live-camera.sh"
check "live-camera.sh refuses a sink that is not an element name" 2 bash "$src/pipelines/live-camera.sh" \
  --sink '$(touch x)' --num-buffers 1 --model "$model"
check "a non-number option value is refused" 2 bash "$src/pipelines/live-camera.sh" --seed '1 ! fakesink' \
  --sink fakesink --num-buffers 1 --model "$model"

finish
