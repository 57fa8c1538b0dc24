#!/usr/bin/env bash
# The pretrained backbone end to end: tools/fetch-backbone.sh fetches nsfwjs from
# npm, unwraps it and converts it, and the converted MobileNetV2 reproduces what
# TensorFlow.js computed on two real photos (tests/data/mobilenet_v2-reference.json);
# a converter that is off, or broken weight files, write nothing; a short training
# run uses the converted network for its feature loss.
# Usage: test_backbone.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build="$1" src="$2"
source "$(dirname "$0")/cli_support.sh"
model_tool="$build/tools/colorgan-model" train="$build/tools/colorgan-train"
cache="$build/backbone-cache"  # the 74 MB package, kept between runs of this build

# The one thing here from outside: the package. Where the npm registry cannot be
# reached (no network, a proxy whose CA this machine does not trust), say so and
# skip (status 77: meson reports SKIP), rather than fail on what is not ours.
if ! ls "$cache"/.packages/nsfwjs/nsfwjs-4.2.1.tgz > /dev/null 2>&1 && ! npm view nsfwjs@4.2.1 version > "$tmp/npm" 2>&1; then
  echo "SKIP: the npm registry cannot be reached from this machine (npm view nsfwjs@4.2.1):"
  sed 's/^/    /' "$tmp/npm" | tail -5
  exit 77
fi

check "fetch-backbone.sh converts nsfwjs's MobileNetV2 and checks it" 0 \
  bash "$src/tools/fetch-backbone.sh" --colorgan-model "$model_tool" "$cache"
expect_output "it compared every tapped block" "chelsea-224.png out_relu bottom right"
expect_output "it wrote the backbone" "wrote $cache/mobilenet_v2.pt (MobileNetV2, 2585349 parameters)"
tfjs="$cache/.packages/nsfwjs/tfjs"
reference="$src/tests/data/mobilenet_v2-reference.json"

check "a tolerance nothing float32 meets: refused" fail \
  "$model_tool" import-tfjs "$tfjs/model.json" --out "$tmp/strict.pt" --check "$reference" --tolerance 1e-9
expect_output "it says what was too far" "TOO FAR"
[ ! -e "$tmp/strict.pt" ] && echo "ok:   nothing written" || { echo "FAIL: strict.pt written"; failures=$((failures + 1)); }

mkdir -p "$tmp/short"
cp "$tfjs/model.json" "$tmp/short/"
for f in "$tfjs"/*.bin; do head -c -1 "$f" > "$tmp/short/$(basename "$f")"; done
check "a weight file one byte short: refused" fail "$model_tool" import-tfjs "$tmp/short/model.json" --out "$tmp/short.pt"
expect_output "it says so" "the manifest describes"

mkdir -p "$tmp/data"
cp "$COLORGAN_TEST_DATA/astronaut-128.jpg" "$tmp/data/"
check "training with the feature loss" 0 "$train" --data "$tmp/data" --out "$tmp/run" --size 32 --generator tiny \
  --batch 2 --steps 2 --log-every 1 --threads 1 --feature-weight 5 --backbone "$cache/mobilenet_v2.pt"
feature=$(tail -n 1 "$tmp/run/log.csv" | cut -d, -f8)
/usr/bin/python3 -c 'import sys; sys.exit(0 if 0 < float(sys.argv[1]) < 100 else 1)' "$feature" &&
  echo "ok:   log.csv has the feature loss ($feature)" || { echo "FAIL: feature loss '$feature'"; failures=$((failures + 1)); }
check "a feature loss without a backbone: a usage error" fail "$train" --data "$tmp/data" --out "$tmp/run2" --size 32 \
  --generator tiny --steps 1 --feature-weight 5
expect_output "it names the option" "backbone"
finish
