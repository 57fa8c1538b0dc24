# Shared by the pipeline scripts: finds the colorgan plugin and the default model.
# Sourced, not run.

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Prefer the plugin of a build tree next to these scripts; an installed plugin is found by GStreamer itself.
if [ -d "$repo_root/build/plugins" ]; then
  export GST_PLUGIN_PATH="$repo_root/build/plugins${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
fi
# OpenBLAS 0.3.21 does not recognise this CPU family and would pick a slow kernel.
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-SkylakeX}"

die() { echo "$(basename "$0"): $*" >&2; exit 2; }

require_plugin() {
  gst-inspect-1.0 cgancolorizebin > /dev/null 2>&1 ||
    die "the colorgan GStreamer plugin was not found: build it (meson setup build && meson compile -C build) or install it"
}

# The options every script shares. Sets model, device, seed, threads, smoothing,
# batch, precision and
# shift_by (how many arguments the option took); returns 1 for other arguments.
model="" device=auto seed=0 threads=0 smoothing="" batch="" precision=""
common_option() {
  case "$1" in
    --smoothing) smoothing="${2:?--smoothing needs a value 0-1}"; shift_by=2 ;;
    --batch) batch="${2:?--batch needs a number}"; shift_by=2 ;;
    --precision) precision="${2:?--precision needs fp32 or bf16}"; shift_by=2 ;;
    --model) model="${2:?--model needs a file}"; shift_by=2 ;;
    --device) device="${2:?--device needs a value}"; shift_by=2 ;;
    --seed) seed="${2:?--seed needs a value}"; shift_by=2 ;;
    --threads) threads="${2:?--threads needs a value}"; shift_by=2 ;;
    *) return 1 ;;
  esac
}

# Properties for cgancolorizebin from the common options.
colorize_properties() {
  local props="device=$device seed=$seed"
  [ -n "$model" ] && props="$props model=\"$model\""
  [ "$threads" != 0 ] && props="$props num-threads=$threads"
  [ -n "$smoothing" ] && props="$props temporal-smoothing=$smoothing"
  [ -n "$batch" ] && props="$props batch-size=$batch"
  [ -n "$precision" ] && props="$props precision=$precision"
  echo "$props"
}

# Prints "WIDTH HEIGHT" of the first decoded frame of a media file.
probe_size() {
  local caps
  caps=$(gst-launch-1.0 -v filesrc location="$1" ! decodebin ! videoconvert ! video/x-raw,format=RGB ! \
         fakesink name=probe num-buffers=1 2>/dev/null | grep 'probe.GstPad:sink: caps = video/x-raw' | head -n1)
  [ -n "$caps" ] || return 1
  echo "$(echo "$caps" | sed -E 's/.*width=\(int\)([0-9]+).*/\1/') $(echo "$caps" | sed -E 's/.*height=\(int\)([0-9]+).*/\1/')"
}
