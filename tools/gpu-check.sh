#!/usr/bin/env bash
# One-command check on a GPU machine that has a pip PyTorch with CUDA (python3
# -c 'import torch' works) and no network: builds colorgan against that
# LibTorch, runs the test suite, and prints + writes the GPU figures.
# Usage: tools/gpu-check.sh [OUT.json]   (default gpu-check.json)
# Without Debian's libcli11-dev and nlohmann-json3-dev there, first run
# tools/fetch-header-deps.sh on a Debian machine and bring subprojects/ along
# (the device tool: carry ["subprojects"]).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-gpu-check.json}"
build=build-gpu
say() { echo "== $*"; }

torch_dir=$(python3 -c 'import os, torch; print(os.path.dirname(torch.__file__))') ||
  { echo "gpu-check: python3 cannot import torch" >&2; exit 2; }
abi=$(python3 -c 'import torch; print("true" if torch._C._GLIBCXX_USE_CXX11_ABI else "false")')
gpu=$(python3 -c 'import torch; print(torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none")')
say "LibTorch: $torch_dir (torch $(python3 -c 'import torch; print(torch.__version__)'), CXX11 ABI $abi), GPU: $gpu"

# meson and ninja may come from pip (python3 -m mesonbuild) where no package is installed.
if command -v meson > /dev/null; then meson=(meson); else meson=(python3 -m mesonbuild.mesonmain); fi
"${meson[@]}" --version > /dev/null 2>&1 || { echo "gpu-check: needs meson (and ninja)" >&2; exit 2; }
if [ ! -f subprojects/cli11/meson.build ] && [ ! -f /usr/include/CLI/CLI.hpp ]; then
  echo "gpu-check: needs CLI11 and nlohmann-json headers: run tools/fetch-header-deps.sh on a Debian machine first" >&2
  exit 2
fi

say "configure + build (plugin and image tools only where their dev files exist)"
rm -rf "$build"
"${meson[@]}" setup "$build" -Dtorch_dir="$torch_dir" -Dtorch_cxx11_abi="$abi" \
  -Dplugins=auto -Dimages=auto -Dtests=auto > "$build.log" 2>&1 || { tail -30 "$build.log"; exit 1; }
"${meson[@]}" compile -C "$build" >> "$build.log" 2>&1 || { tail -30 "$build.log"; exit 1; }
"$build/tools/colorgan-model" devices

say "tests"
tests_status=0
"${meson[@]}" test -C "$build" --print-errorlogs || tests_status=$?

say "figures"
"$build/tools/colorgan-bench" --device cuda --json "$out.figures" ${GPU_CHECK_QUICK:+--quick}
{
  echo "{"
  echo "  \"gpu\": \"$gpu\","
  echo "  \"tests_exit_status\": $tests_status,"
  sed -n '/"figures"/,$p' "$out.figures"
} > "$out"
rm -f "$out.figures"
say "wrote $out"
exit "$tests_status"
