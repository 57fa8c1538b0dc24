// What frame-by-frame colorization of video needs beyond single images:
// chroma that stays put where the picture does, and a way to measure flicker.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace colorgan {

struct StabilizerOptions {
  double strength = 0.0;          // 0 = off; weight of the previous chroma where the luma is unchanged
  double motion_threshold = 0.05; // |luma change| at which a pixel counts as moving (weight falls to 0)
  double cut_threshold = 0.15;    // mean |luma change| above which a frame starts a new scene
};

// Temporal chroma stabilisation: a recursive blend of each frame's chroma with
// the previous output, per pixel, weighted by how little the luma changed
// there (moving objects keep their own colour), reset on scene cuts and size
// changes. Works at whatever size it is fed (the working size, before upsampling).
class ChromaStabilizer {
 public:
  explicit ChromaStabilizer(StabilizerOptions options = {});

  // y [1,h,w] or [1,1,h,w] luma, uv [2,h,w] or [1,2,h,w]; returns the stabilised U,V (uv's shape).
  at::Tensor apply(const at::Tensor& y, const at::Tensor& uv);
  void reset();               // forget the history (flush, seek, new stream)
  int64_t scene_cuts() const; // cuts detected since construction

 private:
  StabilizerOptions options_;
  at::Tensor previous_y_, previous_uv_;
  int64_t cuts_ = 0;
};

// Flicker of a sequence of YUV frames [3,H,W]: mean |change of U| and |change of V|
// between consecutive frames, over the pixels whose luma changed less than
// `luma_threshold` (where the colour should not change either).
class FlickerMeter {
 public:
  explicit FlickerMeter(double luma_threshold = 0.02);
  void add(const at::Tensor& yuv);
  double mean() const;        // 0 until two frames were added
  int64_t pixels() const;     // static pixels counted

 private:
  double threshold_;
  at::Tensor previous_;
  double sum_ = 0;
  int64_t count_ = 0;
};

}  // namespace colorgan
