#!/usr/bin/env bash
# The command-line surface as users meet it: gst-inspect, gst-launch exit
# codes, the colorgan-model tool and the pipeline scripts.
# Usage: test_cli.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build="$1" src="$2"
export GST_PLUGIN_PATH="$build/plugins"
source "$(dirname "$0")/cli_support.sh"

model_tool="$build/tools/colorgan-model"
check "colorgan-model --help" 0 "$model_tool" --help
check "colorgan-model without a command" 2 "$model_tool"
check "colorgan-model unknown option" 2 "$model_tool" init --bogus "$tmp/x.cgan"
check "colorgan-model init" 0 "$model_tool" init --preset tiny --seed 3 "$tmp/m.cgan"
check "colorgan-model info" 0 "$model_tool" info "$tmp/m.cgan"
expect_output "info shows the provenance" "preset tiny"
check "colorgan-model init with a chroma-class head" 0 "$model_tool" init --preset tiny-encoder-decoder-classes "$tmp/classes.cgan"
check "colorgan-model temper" 0 "$model_tool" temper --temperature 0.2 "$tmp/classes.cgan" "$tmp/tempered.cgan"
check "... info shows the new temperature" 0 "$model_tool" info "$tmp/tempered.cgan"
expect_output "... 5 x 5 classes at 0.2" "chroma classes: *5 x 5 (annealed mean, temperature 0.2)"
check "... the same weights" 0 "$model_tool" compare "$tmp/classes.cgan" "$tmp/tempered.cgan"
expect_output "... none differs" "max abs difference: 0 "
check "colorgan-model temper on a U,V model" 2 "$model_tool" temper --temperature 0.2 "$tmp/m.cgan" "$tmp/x.cgan"
expect_output "... says it has no temperature" "regresses U,V"
check "colorgan-model temper --temperature 0" 2 "$model_tool" temper --temperature 0 "$tmp/classes.cgan" "$tmp/x.cgan"
# factor: the head multiplied out to one conv (rank 0: 5 x 5 logits from 4+1 maps' 3x3 conv) and cut again.
check "colorgan-model factor --rank 0" 0 "$model_tool" factor --rank 0 "$tmp/classes.cgan" "$tmp/full-head.cgan"
expect_output "... one conv to 25 logits: (4+1)*25*9+25 = 1,150 head parameters, 841 more" "head rank 0, 6138 parameters"
check "colorgan-model factor --rank 2" 0 "$model_tool" factor --rank 2 "$tmp/full-head.cgan" "$tmp/rank2.cgan"
check "... info shows the rank" 0 "$model_tool" info "$tmp/rank2.cgan"
expect_output "... rank 2" "head rank: *2"
check "colorgan-model factor --rank 25 (not below the 25 classes)" 2 "$model_tool" factor --rank 25 "$tmp/classes.cgan" "$tmp/x.cgan"
expect_output "... says why" "head rank 25"
check "colorgan-model factor on a U,V model" 2 "$model_tool" factor --rank 2 "$tmp/m.cgan" "$tmp/x.cgan"
expect_output "... says it has no head to factor" "no chroma-class head"
# stride: the head decoded at full size again (the preset's is 2), the same weights; 3 is no power of 2.
check "colorgan-model stride --stride 1" 0 "$model_tool" stride --stride 1 "$tmp/classes.cgan" "$tmp/full-size.cgan"
check "... the same weights" 0 "$model_tool" compare "$tmp/classes.cgan" "$tmp/full-size.cgan"
expect_output "... none differs" "max abs difference: 0 "
check "... info of the preset's shows its stride" 0 "$model_tool" info "$tmp/classes.cgan"
expect_output "... stride 2" "head stride: *2"
check "colorgan-model stride --stride 3" 2 "$model_tool" stride --stride 3 "$tmp/classes.cgan" "$tmp/x.cgan"
expect_output "... says why" "head stride 3"
check "colorgan-model stride on a U,V model" 2 "$model_tool" stride --stride 2 "$tmp/m.cgan" "$tmp/x.cgan"
expect_output "... says it has no head to decode" "regresses U,V"
# rebalance: the logits shifted by the rebalancing weights of real photos' chroma (the test photos).
check "colorgan-model rebalance" 0 "$model_tool" rebalance --data "$COLORGAN_TEST_DATA" --rebalance 0.5 --crops 128 \
  "$tmp/classes.cgan" "$tmp/rebalanced.cgan"
expect_output "... says how far the logits moved" "logits shifted by .* from 128 crops of 3 images"
check "... compared with the model" 0 "$model_tool" compare "$tmp/classes.cgan" "$tmp/rebalanced.cgan"
expect_output "... only the cells' bias differs" "(cells.bias;"
check "... info shows it in the provenance" 0 "$model_tool" info "$tmp/rebalanced.cgan"
expect_output "... the step" "then colorgan-model rebalance --rebalance 0.5"
check "colorgan-model rebalance --rebalance 1" 2 "$model_tool" rebalance --data "$COLORGAN_TEST_DATA" --rebalance 1 \
  "$tmp/classes.cgan" "$tmp/x.cgan"
check "colorgan-model rebalance on a U,V model" 2 "$model_tool" rebalance --data "$COLORGAN_TEST_DATA" --rebalance 0.5 \
  "$tmp/m.cgan" "$tmp/x.cgan"
expect_output "... says it has no head to rebalance" "regresses U,V"
check "colorgan-model rebalance without images" 2 "$model_tool" rebalance --data "$tmp/none" --rebalance 0.5 \
  "$tmp/classes.cgan" "$tmp/x.cgan"
expect_output "... names the path" "$tmp/none"
# average: two models of one architecture, interpolated weight by weight.
check "colorgan-model init (another seed)" 0 "$model_tool" init --preset tiny --seed 4 "$tmp/m4.cgan"
check "colorgan-model average --weight 1" 0 "$model_tool" average --weight 1 "$tmp/m.cgan" "$tmp/m4.cgan" "$tmp/all-b.cgan"
check "... is B's weights" 0 "$model_tool" compare "$tmp/all-b.cgan" "$tmp/m4.cgan"
expect_output "... none differs" "max abs difference: 0 "
check "colorgan-model average" 0 "$model_tool" average "$tmp/m.cgan" "$tmp/m4.cgan" "$tmp/half.cgan"
check "... compared with A" 0 "$model_tool" compare "$tmp/m.cgan" "$tmp/half.cgan"
half_from_a=$(grep -o 'difference: [^ ]*' "$tmp/out")
check "... and with B" 0 "$model_tool" compare "$tmp/m4.cgan" "$tmp/half.cgan"
expect_output "... halfway: as far from B as from A ($half_from_a)" "$half_from_a "
check "... and A is not B" 1 grep -q "difference: 0 " "$tmp/out"
check "... info shows it in the provenance" 0 "$model_tool" info "$tmp/half.cgan"
expect_output "... the step" "then colorgan-model average --weight 0.5 with"
check "colorgan-model average of two architectures" 2 "$model_tool" average "$tmp/m.cgan" "$tmp/classes.cgan" "$tmp/x.cgan"
expect_output "... says why" "differ in architecture"
check "colorgan-model average --weight 2" 2 "$model_tool" average --weight 2 "$tmp/m.cgan" "$tmp/m4.cgan" "$tmp/x.cgan"
check "colorgan-model info on a missing file" 1 "$model_tool" info "$tmp/none.cgan"
expect_output "the error names the file" "$tmp/none.cgan"

# Export: the shipped default model as TorchScript runs in cgancolorize with the model file's colours.
check "colorgan-model export --format torchscript" 0 "$model_tool" export --format torchscript \
  "$COLORGAN_MODELS/default.cgan" "$tmp/default.pt"
check "colorgan-model export --format onnx" 0 "$model_tool" export --format onnx "$COLORGAN_MODELS/default.cgan" "$tmp/default.onnx"
expect_output "it says which sides the graph takes" "H and W multiples of 16"
check "... a file onnx's checker accepts (python3-onnx)" 0 /usr/bin/python3 -c \
  'import sys, onnx; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)' "$tmp/default.onnx"
check "colorgan-model export of a missing model" 1 "$model_tool" export "$tmp/none.cgan" "$tmp/none.pt"
check "colorgan-model export --format unknown" 2 "$model_tool" export --format tflite "$COLORGAN_MODELS/default.cgan" "$tmp/x"
photo=(filesrc location="$COLORGAN_TEST_DATA/astronaut-128.jpg" ! jpegdec ! videoconvert ! video/x-raw,format=GRAY8)
for model in "$COLORGAN_MODELS/default.cgan" "$tmp/default.pt"; do
  check "cgancolorizebin with $(basename "$model")" 0 gst-launch-1.0 -q "${photo[@]}" ! \
    cgancolorizebin model="$model" precision=fp32 inference-size=128 temporal-smoothing=0 ! \
    video/x-raw,format=RGB ! filesink location="$tmp/$(basename "$model").rgb"
done
same_within_one_level() {  # FILE FILE
  /usr/bin/python3 -c 'import sys; a, b = (open(f, "rb").read() for f in sys.argv[1:3]);
sys.exit(0 if len(a) == len(b) > 0 and max(abs(x - y) for x, y in zip(a, b)) <= 1 else 1)' "$1" "$2"
}
check "... the same colours from the model file and its TorchScript export" 0 \
  same_within_one_level "$tmp/default.cgan.rgb" "$tmp/default.pt.rgb"
printf 'PK\003\004 and no archive' > "$tmp/corrupt.pt"
check "cgancolorizebin with a corrupt TorchScript file" fail gst-launch-1.0 -q "${photo[@]}" ! \
  cgancolorizebin model="$tmp/corrupt.pt" ! fakesink
expect_output "the error names the file" "$tmp/corrupt.pt"

# LibTorch's backends register from static initialisers: every torch library must stay linked.
check "libcolorgan links libtorch despite --as-needed" 0 readelf -d "$build/lib/libcolorgan.so"
expect_output "libtorch is NEEDED" "NEEDED.*\[libtorch\.so"
expect_output "libtorch_cpu is NEEDED" "NEEDED.*\[libtorch_cpu\.so"
# The plugin links the inference library alone, which needs LibTorch alone: no training side.
# (ldd still lists OpenCV and LMDB: Debian's libtorch_cpu itself needs them.)
readelf -d "$build/plugins/libgstcolorgan.so" "$build/lib/libcolorgan.so" | grep NEEDED > "$tmp/plugin-needs"
check "the plugin needs libcolorgan" 0 grep -q "\[libcolorgan\.so" "$tmp/plugin-needs"
check "... and neither it nor libcolorgan needs OpenCV, LMDB or libcolorgan-train" 1 \
  grep -E "opencv|lmdb|libcolorgan-train" "$tmp/plugin-needs"

GST_REGISTRY="$tmp/fresh-registry.bin" GST_DEBUG=2 gst-inspect-1.0 colorgan > "$tmp/inspect.log" 2>&1
check "the plugin's licence is one GStreamer knows" 1 grep -i "unknown license" "$tmp/inspect.log"
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
head -c 5000 /dev/urandom > "$tmp/garbage.webm"
check "colorize-video.sh on an undecodable file fails" fail bash "$src/pipelines/colorize-video.sh" \
  --model "$tmp/m.cgan" "$tmp/garbage.webm" "$tmp/none-out.webm"
check "... and leaves no output file" 1 test -e "$tmp/none-out.webm"
check "... nor a partial one" 0 test -z "$(find "$tmp" -maxdepth 1 -name '.none-out.webm.partial.*')"

gst-launch-1.0 -q videotestsrc num-buffers=4 ! video/x-raw,width=48,height=32,framerate=8/1 ! videoconvert ! \
  vp8enc ! webmmux ! filesink location="$tmp/in.webm"
check "colorize-video.sh side by side" 0 bash "$src/pipelines/colorize-video.sh" --side-by-side --model "$tmp/m.cgan" "$tmp/in.webm" "$tmp/out.webm"
check "the side-by-side video decodes" 0 gst-launch-1.0 -v filesrc location="$tmp/out.webm" ! decodebin ! fakesink name=probe
expect_output "side by side is twice as wide" "width=(int)96"

# A clip with sound and non-square pixels: the container follows OUTPUT's
# extension, the sound is kept (as it is where the container holds it), and so
# are the frame rate and the pixel aspect ratio.
gst-launch-1.0 -q videotestsrc num-buffers=16 ! video/x-raw,width=48,height=32,framerate=8/1,pixel-aspect-ratio=16/15 ! \
  videoconvert ! vp8enc deadline=1 ! webmmux name=mux ! filesink location="$tmp/sound.webm" \
  audiotestsrc num-buffers=100 ! audioconvert ! vorbisenc ! mux.
gst-discoverer-1.0 "$tmp/sound.webm" > "$tmp/sound.info"
input_par=$(sed -n -E 's/^ *Pixel aspect ratio: (.*)$/\1/p' "$tmp/sound.info")
for case in "webm:VP8:Vorbis:" "mkv:VP9:Vorbis:" "mp4:H.264:MPEG-4 AAC:" "mkv:FFMpeg v1:Free Lossless Audio Codec:--lossless"; do
  IFS=: read -r extension video sound flag <<< "$case"
  out="$tmp/sound-out${flag}.$extension"
  check "colorize-video.sh to .$extension $flag" 0 bash "$src/pipelines/colorize-video.sh" $flag --model "$tmp/m.cgan" \
    "$tmp/sound.webm" "$out"
  gst-discoverer-1.0 "$out" > "$tmp/out"
  expect_output "... $video video" "video #[0-9]*: $video"
  expect_output "... with its sound: $sound" "audio #[0-9]*: $sound"
  expect_output "... at 8 frames/s" "Frame rate: 8/1"
  expect_output "... in pixels of $input_par" "Pixel aspect ratio: $input_par"
done
check "colorize-video.sh --no-audio" 0 bash "$src/pipelines/colorize-video.sh" --no-audio --model "$tmp/m.cgan" \
  "$tmp/sound.webm" "$tmp/silent.webm"
gst-discoverer-1.0 "$tmp/silent.webm" > "$tmp/out"
check "... leaves the sound out" 1 grep -q "audio #" "$tmp/out"
check "colorize-video.sh to .avi is refused" 2 bash "$src/pipelines/colorize-video.sh" --model "$tmp/m.cgan" \
  "$tmp/sound.webm" "$tmp/out.avi"
expect_output "it names the containers it writes" ".webm, .mkv or .mp4"

# The video issue's acceptance line, with the default model (no model property) at 1280x720.
gst-launch-1.0 -q videotestsrc num-buffers=3 pattern=smpte ! video/x-raw,width=1280,height=720,framerate=25/1 ! \
  videoconvert ! vp8enc deadline=1 ! webmmux ! filesink location="$tmp/hd.webm"
check "cgancolorizebin with the default model on 1280x720" 0 gst-launch-1.0 -q filesrc location="$tmp/hd.webm" ! \
  decodebin ! videoconvert ! cgancolorizebin ! videoconvert ! vp8enc deadline=1 ! webmmux ! filesink location="$tmp/hd-out.webm"
check "the output keeps 1280x720" 0 gst-launch-1.0 -v filesrc location="$tmp/hd-out.webm" ! decodebin ! fakesink name=probe
expect_output "1280x720 out" "width=(int)1280, height=(int)720"

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

# ---- training, evaluation and colorize tools -----------------------------------
train="$build/tools/colorgan-train" evaluate="$build/tools/colorgan-eval" colorize="$build/tools/colorgan-colorize"
for tool in "$train" "$evaluate" "$colorize"; do
  check "$(basename "$tool") --help" 0 "$tool" --help
  expect_output "$(basename "$tool") usage" "usage:"
  check "$(basename "$tool") unknown flag" 2 "$tool" --no-such-flag
  expect_output "$(basename "$tool") names the bad flag" "not expected: --no-such-flag"
done
check "colorgan-train with a missing data dir" 2 "$train" --data "$tmp/no-such-dir" --out "$tmp/run-x"
expect_output "the error names the data dir" "no-such-dir"
check "colorgan-train without --data" 2 "$train" --out "$tmp/run-x"

# Colour photos-like data: test patterns as PNG and JPEG, plus a truncated file to skip.
mkdir -p "$tmp/data"
for p in 0 4 5 6 10 13 18 22 23 24; do
  gst-launch-1.0 -q videotestsrc pattern=$p num-buffers=1 ! video/x-raw,width=72,height=56 ! videoconvert ! \
    pngenc ! filesink location="$tmp/data/p$p.png"
done
gst-launch-1.0 -q videotestsrc pattern=smpte num-buffers=1 ! video/x-raw,width=60,height=90 ! videoconvert ! \
  jpegenc ! filesink location="$tmp/data/tall.jpg"
head -c 300 "$tmp/data/p0.png" > "$tmp/data/truncated.png"

run="$tmp/run"
check "colorgan-train 50 steps" 0 "$train" --data "$tmp/data" --steps 50 --size 32 --batch 8 --generator tiny \
  --out "$run" --checkpoint-every 25 --sample-every 25 --log-every 5 --threads 2
expect_output "it warns about the truncated file" "truncated.png"
expect_output "it reports progress" "step 50/50"
for f in loss.png samples_000025.png samples_000050.png log.csv model.cgan checkpoint.pt config.json; do
  check "run directory has $f" 0 test -s "$run/$f"
done
check "colorgan-train --resume to 100 steps" 0 "$train" --resume "$run" --steps 100 --l1-weight 7 --ema 0.9
expect_output "it resumes at step 50" "resumed .* at step 50"
check "the log continues to step 100" 0 grep -q "^100," "$run/log.csv"
check "the log holds step 50 once" 0 test "$(grep -c '^50,' "$run/log.csv")" -eq 1
check "a model file per checkpoint" 0 test -s "$run/model_000075.cgan"
check "colorgan-train --resume again to 110 steps" 0 "$train" --resume "$run" --steps 110
check "an earlier resume's changes are kept" 0 grep -q '"l1_weight": 7.0,' "$run/config.json"
check "... with the moving average" 0 grep -q '"ema": 0.9' "$run/config.json"
check "config.json is the run's one record (no args.txt)" 1 test -e "$run/args.txt"
check "... with every setting, data paths included" 0 grep -q "^ *\"$tmp/data\"" "$run/config.json"
check "--preset with --resume is refused" 2 "$train" --resume "$run" --preset seed

# Cut-outs: a white ball whose black surround is made transparent, beside an opaque JPEG (skipped).
mkdir -p "$tmp/cutouts" "$tmp/opaque-only"
gst-launch-1.0 -q videotestsrc pattern=ball num-buffers=1 ! video/x-raw,format=RGBA,width=40,height=40 ! \
  alpha method=custom target-r=0 target-g=0 target-b=0 ! pngenc ! filesink location="$tmp/cutouts/ball.png"
cp "$tmp/data/tall.jpg" "$tmp/cutouts/opaque.jpg"
cp "$tmp/data/tall.jpg" "$tmp/opaque-only/"
check "colorgan-train --cutouts" 0 "$train" --data "$tmp/data" --cutouts "$tmp/cutouts" --cutout-fraction 0.7 \
  --steps 4 --size 32 --batch 8 --generator tiny --out "$tmp/run-cutouts" --threads 2
expect_output "it counts the cut-out and the image without alpha it skipped" "cut-outs: 1 (1 skipped), pasted onto 70%"
expect_output "... naming it" "opaque.jpg"
check "config.json keeps the cut-outs" 0 grep -q '"cutout_fraction": 0.7' "$tmp/run-cutouts/config.json"
check "--cutouts without one RGBA image" 2 "$train" --data "$tmp/data" --cutouts "$tmp/opaque-only" --steps 4 \
  --size 32 --batch 8 --generator tiny --out "$tmp/run-no-cutouts"
expect_output "... says so" "no readable cut-outs"
check "--cutout-fraction above 1 is refused" 2 "$train" --data "$tmp/data" --cutouts "$tmp/cutouts" \
  --cutout-fraction 1.5 --out "$tmp/run-bad-fraction"
mkdir -p "$tmp/run-old" && cp "$run/checkpoint.pt" "$tmp/run-old/" && echo "--steps" > "$tmp/run-old/args.txt"
echo '{"generator_preset": "tiny"}' > "$tmp/run-old/config.json"
check "a run directory of the earlier layout (args.txt) is refused" 2 "$train" --resume "$tmp/run-old"
expect_output "... saying so" "written by an earlier colorgan-train"
check "a trained model runs in cgancolorize" 0 gst-launch-1.0 $chain ! cgancolorize model="$run/model.cgan" ! cganyuv2rgb ! videoconvert ! fakesink

# SIGINT: a checkpoint is written and the run can go on.
"$train" --data "$tmp/data" --steps 100000 --size 32 --batch 8 --generator tiny --out "$tmp/run-int" \
  --checkpoint-every 100000 > "$tmp/int.log" 2>&1 &
pid=$!
# Sent once the handler is in place (the tool says so), however long the set-up takes on this machine.
for _ in $(seq 1200); do grep -q "^training: Ctrl-C" "$tmp/int.log" && break; sleep 0.1; done
check "a second colorgan-train on a run directory in use is refused" 2 "$train" --data "$tmp/data" --steps 10 \
  --size 32 --batch 8 --generator tiny --out "$tmp/run-int"
expect_output "it says the directory is in use" "another colorgan-train is using the run directory"
kill -INT "$pid"
wait "$pid"
status=$?
if [ "$status" -eq 130 ] && [ -s "$tmp/run-int/checkpoint.pt" ] && grep -q "interrupted: step" "$tmp/int.log"; then
  echo "ok:   SIGINT writes a checkpoint and exits"
else
  echo "FAIL: SIGINT: exit $status"; tail -5 "$tmp/int.log"; failures=$((failures + 1))
fi

# SIGKILL: the rows logged so far stay; a resume drops the ones past the checkpoint (they are trained
# again), so every step is logged exactly once, and the killed run's temporaries are removed.
"$train" --data "$tmp/data" --steps 100000 --size 32 --batch 8 --generator tiny --out "$tmp/run-kill" \
  --checkpoint-every 20 --log-every 1 --sample-every 1000 > "$tmp/out" 2>&1 &
pid=$!
for _ in $(seq 1200); do [ "$(cat "$tmp/run-kill/log.csv" 2>/dev/null | wc -l)" -gt 30 ] && break; sleep 0.1; done
kill -KILL "$pid"
wait "$pid" 2>/dev/null
check "the killed run's log has its rows past the checkpoint" 0 test "$(tail -n 1 "$tmp/run-kill/log.csv" | cut -d, -f1)" -gt 20
head -c 1000 /dev/zero > "$tmp/run-kill/checkpoint.pt.tmp.99999"
check "resume after SIGKILL" 0 "$train" --resume "$tmp/run-kill" --steps 45
expect_output "it removes the killed run's temporary file" "removing .*checkpoint.pt.tmp.99999"
check "no temporary files are left" 0 test -z "$(find "$tmp/run-kill" -name '*.tmp*')"
check "every step 1-45 is logged once" 0 test "$(cut -d, -f1 "$tmp/run-kill/log.csv" | tail -n +2 | tr '\n' ' ')" = \
  "$(seq -s ' ' 1 45) "
cp "$tmp/run-kill/config.json" "$tmp/config-before"
check "--resume with another --size is refused" 2 "$train" --resume "$tmp/run-kill" --size 48 --steps 50
expect_output "it says why" "cannot change on --resume"
check "... before config.json is touched" 0 cmp "$tmp/config-before" "$tmp/run-kill/config.json"
check "colorgan-train --beta1 0 --gp-weight 0" 0 "$train" --data "$tmp/data" --steps 1 --size 32 --batch 8 \
  --generator tiny --beta1 0 --gp-weight 0 --out "$tmp/run-zero"
check "--beta1 0 is used, not ignored" 0 grep -q '"beta1": 0.0,' "$tmp/run-zero/config.json"
check "--gp-weight 0 is used, not ignored" 0 grep -q '"gp_weight": 0.0,' "$tmp/run-zero/config.json"
check "an out-of-range value is refused" 2 "$train" --data "$tmp/data" --beta1 1.5 --out "$tmp/run-bad"
expect_output "with its range" "--beta1: must be in \[0, 1)"
mkdir -p "$tmp/empty-val"
check "an empty --val-data is an error" 2 "$train" --data "$tmp/data" --val-data "$tmp/empty-val" --steps 5 --size 32 \
  --batch 8 --generator tiny --out "$tmp/run-val"
expect_output "it names the problem" "no readable validation images"

check "colorgan-eval" 0 "$evaluate" --model "$run/model.cgan" --data "$tmp/data" --out "$tmp/eval"
expect_output "eval prints the gray baseline" "gray baseline"
expect_output "eval prints a row per source" "^data  *1[01] "
for f in report.json report.csv grid.png; do check "eval wrote $f" 0 test -s "$tmp/eval/$f"; done
check "eval report has both columns" 0 grep -q '"gray_baseline"' "$tmp/eval/report.json"
check "... per source, each source weighing the same" 0 grep -q '"sources_balanced"' "$tmp/eval/report.json"
check "... and false colour on neutrals" 0 grep -q '"neutral_chroma"' "$tmp/eval/report.json"
check "colorgan-eval --grid-count 0: the reports, no grid" 0 "$evaluate" --model "$run/model.cgan" --data "$tmp/data" \
  --out "$tmp/eval-nogrid" --grid-count 0
check "... report.json written" 0 test -s "$tmp/eval-nogrid/report.json"
check "... and no grid.png" 1 test -e "$tmp/eval-nogrid/grid.png"

# The side-by-side video must keep its colour half in colour (a compositor left
# to itself settled on the gray half's format once).
gst-launch-1.0 -q filesrc location="$tmp/out.webm" ! decodebin ! videoconvert ! pngenc snapshot=true ! \
  filesink location="$tmp/side-by-side.png"
check "colorgan-eval reads the side-by-side frame" 0 "$evaluate" --model "$tmp/m.cgan" --data "$tmp/side-by-side.png" \
  --out "$tmp/sbs-eval"
check "the side-by-side frame has colour" 0 awk -F'"colorfulness": ' \
  '/"truth"/ { in_truth = 1 } in_truth && NF > 1 { found = 1; ok = $2 + 0 > 1; in_truth = 0 } END { exit !(found && ok) }' \
  "$tmp/sbs-eval/report.json"

check "colorgan-eval --flicker on a video and a panned photo" 0 "$evaluate" --flicker --model "$run/model.cgan" \
  --data "$tmp/in.webm" --data "$tmp/data/p0.png" --max-frames 6 --out "$tmp/flicker"
expect_output "flicker is reported beside the original's" "flicker pred  flicker true"
check "flicker.json has both clips" 0 test "$(grep -c '"flicker_ratio"' "$tmp/flicker/flicker.json")" -eq 2
check "colorgan-eval --flicker on a missing clip fails" 1 "$evaluate" --flicker --model "$run/model.cgan" \
  --data "$tmp/none.webm" --out "$tmp/flicker"
check "... and leaves the earlier report whole" 0 test "$(grep -c '"flicker_ratio"' "$tmp/flicker/flicker.json")" -eq 2

# Reports are real JSON and CSV, whatever the names hold.
gst-launch-1.0 -q videotestsrc num-buffers=1 ! video/x-raw,width=1,height=1 ! videoconvert ! pngenc ! \
  filesink location="$tmp/one-pixel.png"
check "colorgan-eval --flicker on a 1x1 photo" 0 "$evaluate" --flicker --model "$run/model.cgan" \
  --data "$tmp/one-pixel.png" --max-frames 3 --out "$tmp/flicker-1x1"
odd="$tmp/odd \"quoted\", back\\slash"
mkdir -p "$odd"
cp "$tmp/data/p0.png" "$odd/a \"b\", c.png"
cp "$run/model.cgan" "$odd/m \"1\".cgan"
check "colorgan-eval with quotes and backslashes in names" 0 "$evaluate" --model "$odd/m \"1\".cgan" --data "$odd" \
  --out "$tmp/odd-eval"
check "report.json parses and keeps the model path" 0 /usr/bin/python3 -c 'import json, sys
report = json.load(open(sys.argv[1] + "/report.json"))
assert report["model"] == sys.argv[2], report["model"]' "$tmp/odd-eval" "$odd/m \"1\".cgan"
check "report.csv parses and keeps the image name" 0 /usr/bin/python3 -c 'import csv, sys
rows = list(csv.reader(open(sys.argv[1] + "/report.csv")))
assert len(rows) == 2 and rows[1][0].endswith("a \"b\", c.png"), rows' "$tmp/odd-eval"

check "colorgan-colorize" 0 "$colorize" --model "$run/model.cgan" --out "$tmp/colour" "$tmp/data/p0.png" "$tmp/data/tall.jpg"
check "colorize wrote p0.png" 0 test -s "$tmp/colour/p0.png"
check "colorize wrote tall.png" 0 test -s "$tmp/colour/tall.png"
check "outputs keep the input size" 0 gst-launch-1.0 -v filesrc location="$tmp/colour/tall.png" ! pngdec ! fakesink
expect_output "tall.png is 60x90" "width=(int)60, height=(int)90"
check "colorize of a missing file fails" 1 "$colorize" --model "$run/model.cgan" --out "$tmp/colour" "$tmp/none.png"

# One bad image does not stop a batch; the failures are listed; no C++ stack traces for user errors.
head -c 2000 /dev/urandom > "$tmp/data/garbage.png"
gst-launch-1.0 -q videotestsrc num-buffers=1 pattern=gradient ! video/x-raw,width=7000,height=5000 ! videoconvert ! \
  video/x-raw,format=GRAY8 ! pngenc compression-level=1 ! filesink location="$tmp/huge.png"
rm -rf "$tmp/batch"
"$model_tool" init --preset seed "$tmp/seed.cgan" > /dev/null  # 128 channels: 7000x5000 needs 36 GB
check "colorize goes on past bad images" 1 "$colorize" --model "$tmp/seed.cgan" --size native \
  --out "$tmp/batch" "$tmp/data/p0.png" "$tmp/data/garbage.png" "$tmp/huge.png" "$tmp/data/tall.jpg"
expect_output "it lists the failures" "2 of 4 image(s) failed: $tmp/data/garbage.png $tmp/huge.png"
expect_output "the huge one says what to do" "huge.png: .*use a smaller working size"
cp "$tmp/out" "$tmp/batch.log"
check "... and prints no stack trace" 1 grep -q "frame #\|Exception raised from" "$tmp/batch.log"
check "the images before and after the bad ones were written" 0 test -s "$tmp/batch/p0.png" -a -s "$tmp/batch/tall.png"
mkdir -p "$tmp/a" "$tmp/b"
cp "$tmp/data/p0.png" "$tmp/a/same.png"
cp "$tmp/data/p4.png" "$tmp/b/same.png"
check "two inputs with one output name are refused" 2 "$colorize" --model "$run/model.cgan" --out "$tmp/batch" \
  "$tmp/a/same.png" "$tmp/b/same.png"
expect_output "the error names both" "$tmp/a/same.png' and '$tmp/b/same.png' would both be written"
check "a huge --size is a clear error" 2 "$colorize" --model "$run/model.cgan" --out "$tmp/batch" \
  --size 99999999999999999999 "$tmp/data/p0.png"
expect_output "it gives the bounds" "sides must be 1..16384"
check "a huge --threads is a clear error" 2 "$colorize" --model "$run/model.cgan" --out "$tmp/batch" \
  --threads 99999999999999999999 "$tmp/data/p0.png"
expect_output "it names the option" "--threads: Value 99999999999999999999 not in range"
cp "$tmp/data/p0.png" "$tmp/-dash.png"
check "-- ends the options" 0 bash -c 'cd "$1" && "$2" --model "$3" --out batch -- -dash.png' _ "$tmp" "$colorize" \
  "$run/model.cgan"
check "-dash.png was colorized" 0 test -s "$tmp/batch/-dash.png"
head -c 1500 "$tmp/data/tall.jpg" > "$tmp/cut.jpg"
check "a truncated JPEG is colorized" 0 "$colorize" --model "$run/model.cgan" --out "$tmp/batch" "$tmp/cut.jpg"
expect_output "with a warning naming it" "warning: '$tmp/cut.jpg' looks truncated"

finish
