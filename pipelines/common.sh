# Shared by the pipeline scripts: finds the colorgan plugin and the default model.
# Sourced, not run.

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Prefer the plugin of a build tree next to these scripts; an installed plugin is found by GStreamer itself.
if [ -d "$repo_root/build/plugins" ]; then
  export GST_PLUGIN_PATH="$repo_root/build/plugins${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
fi
# OpenBLAS 0.3.21 does not recognise this CPU family and would pick a slow kernel.
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-SkylakeX}"
# LibTorch's OpenMP threads sleep instead of spinning between parallel regions:
# spinning against the decoder and encoder threads made a 7 s clip take 116 s
# on 2 busy cores (docs/PERFORMANCE.md). libgomp reads this only at start-up.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

die() { echo "$(basename "$0"): $*" >&2; exit 2; }

require_plugin() {
  gst-inspect-1.0 cgancolorizebin > /dev/null 2>&1 ||
    die "the colorgan GStreamer plugin was not found: build it (meson setup build && meson compile -C build) or install it"
}

# The help lines of the options common_option() takes, for each script's usage.
COMMON_OPTIONS_HELP='  --model FILE        model file (default: the project'"'"'s default model)
  --device DEV        auto | cpu | cuda | cuda:N (default auto)
  --seed N            noise seed: another seed, another plausible colouring (default 0)
  --threads N         LibTorch CPU threads (default 0 = one less than the cores, at least 1)
  --smoothing S       temporal-smoothing 0-1: blend with the previous frame'"'"'s colour where nothing moved (default 0.5)
  --batch N           frames per forward pass (files only; default 1)
  --precision P       auto | fp32 | bf16 (default auto: bf16 on CPUs with AVX512-BF16 or AMX-BF16, else fp32)
  -h, --help          this text'

# The options every script shares. Sets model, device, seed, threads, smoothing,
# batch, precision and shift_by (how many arguments the option took); returns 1
# for other arguments. Numbers are checked here: they reach gst-launch unquoted.
model="" device=auto seed=0 threads=0 smoothing="" batch="" precision=""
common_option() {
  case "$1" in
    --smoothing) number smoothing "$1" "${2-}" '0|1|0?\.[0-9]+|1\.0*' ;;
    --batch) number batch "$1" "${2-}" '[1-9][0-9]{0,3}' ;;
    --precision) precision="${2-}"; [[ "$precision" =~ ^(auto|fp32|bf16)$ ]] || die "--precision takes auto, fp32 or bf16" ;;
    --model) model="${2:?--model needs a file}" ;;
    --device) device="${2-}"; [[ "$device" =~ ^(auto|cpu|cuda(:[0-9]{1,3})?)$ ]] || die "--device takes auto, cpu, cuda or cuda:N" ;;
    --seed) number seed "$1" "${2-}" '[0-9]{1,19}' ;;
    --threads) number threads "$1" "${2-}" '[0-9]{1,4}' ;;
    *) return 1 ;;
  esac
  shift_by=2
}

number() {  # VARIABLE OPTION VALUE REGEX: sets VARIABLE to VALUE if it matches, else dies
  [[ "$3" =~ ^($4)$ ]] || die "$2 needs a number, got '$3'"
  printf -v "$1" '%s' "$3"
}

# gst-launch-1.0 parses its arguments once more as pipeline syntax, so a file
# name goes in double quotes with \ and " escaped. A relative name gets "./"
# first: gst would read a value that starts and ends with " as quoted once
# more, and the value NULL as no file. Sets the variable named $1.
gst_quoted_path() {
  local value="$2"
  [[ "$value" == /* ]] || value="./$value"
  value=${value//\\/\\\\}
  value=${value//\"/\\\"}
  printf -v "$1" '"%s"' "$value"
}

# A printf-style location (multifilesrc/-sink) from a literal folder: % doubled.
printf_escaped() { echo "${1//%/%%}"; }

# Appends the cgancolorizebin properties of the common options to the array colorize.
colorize_properties() {
  colorize+=("device=$device" "seed=$seed")
  if [ -n "$model" ]; then
    local quoted
    gst_quoted_path quoted "$model"
    colorize+=("model=$quoted")
  fi
  [ "$threads" = 0 ] || colorize+=("num-threads=$threads")
  [ -z "$smoothing" ] || colorize+=("temporal-smoothing=$smoothing")
  [ -z "$batch" ] || colorize+=("batch-size=$batch")
  [ -z "$precision" ] || colorize+=("precision=$precision")
}
