// Colorizing whole images at a working size, the way the tools (and the
// element) use the model: luma kept at full resolution, chroma upsampled.
#pragma once

#include "colorgan/engine.h"

#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

namespace colorgan {

// The size the model runs at: `native` (the image's own size), an explicit
// WxH, or (short_side > 0) the image scaled so its short side is that long.
struct WorkingSize {
  bool native = false;
  int64_t width = 0;
  int64_t height = 0;
  int64_t short_side = 0;
};

// "native", "WxH" or a single number (the short side). Throws std::invalid_argument.
WorkingSize parse_working_size(const std::string& text);

// As parse_working_size, but "" means the model's own training size (its short side).
WorkingSize working_size_for(const std::string& text, const ModelMetadata& model);

// The working size for a frame of height x width: {height, width}.
std::pair<int64_t, int64_t> working_dims(const WorkingSize& size, int64_t height, int64_t width);

// Luma [N,1,H,W] shrunk (area average) or grown (bilinear) to {height, width}.
at::Tensor resize_luma(const at::Tensor& y, std::pair<int64_t, int64_t> dims);

// A noise plane [N,1,H,W] resampled by nearest neighbour (which keeps its
// distribution) to {height, width}; noise vectors and undefined tensors pass.
at::Tensor resize_noise(const at::Tensor& noise, std::pair<int64_t, int64_t> dims);

// How predicted chroma goes back to the frame's size (colorgan/options.h):
// Guided, a fast guided filter (colour edges follow the full-resolution
// luma's edges), or Bicubic (colour edges smear over a working-size pixel or two).

// Chroma uv_low [N,2,h,w] predicted from luma y_low [N,1,h,w], brought to the
// size of y_full [N,1,H,W]. Guided: a local linear model uv = a*Y + b is fitted
// at the working size (He & Sun's fast guided filter, radius 1, eps 1e-3) and
// applied to the full-resolution Y. Output clamped to [0,1].
at::Tensor upsample_chroma(const at::Tensor& uv_low, const at::Tensor& y_low, const at::Tensor& y_full,
                           ChromaUpsampling method = ChromaUpsampling::Guided);

// The guided filter's fit at the working size, for one frame: uv = a*Y + b with
// a, b [2,h,w] (U then V), smoothed. upsample_chroma applies it with tensor ops;
// write_guided_chroma in one pass into float planes.
struct GuidedFit {
  at::Tensor a, b;
};
GuidedFit fit_guided(const at::Tensor& uv_low, const at::Tensor& y_low);  // [1,2,h,w], [1,1,h,w]

// A fit applied at a grid of points over a frame of frame_width x frame_height:
// a, b are sampled bilinearly (half-pixel centres, as at::upsample_bilinear2d)
// at the centre of each step x step block (step 1: every pixel; 2: the chroma
// sites of 4:2:0 video), u, v = clamp(a*Y + b) with the luma Y there.
class FitSampler {
 public:
  FitSampler(const GuidedFit& fit, int64_t frame_width, int64_t frame_height, int step = 1);
  int64_t width() const { return static_cast<int64_t>(xs_.size()); }   // points per row
  int64_t height() const { return static_cast<int64_t>(ys_.size()); }  // rows
  // u, v at the points of grid row `row` (width() each), given the luma y there.
  // Thread-safe: rows may be sampled in parallel.
  void row(int64_t row, const float* y, float* u, float* v) const;

 private:
  struct Tap {
    int64_t i0, i1;
    float t;  // weight of i1
  };
  static std::vector<Tap> taps(int64_t frame, int64_t low, int step);
  void widen(int64_t low_row, float* out) const;  // a working-size row's 4 planes, sampled along x
  static void apply_fit(const float* top, const float* bottom, float t, const float* y, float* u, float* v, int64_t n);
  at::Tensor ab_;  // [4,h,w] a_u, a_v, b_u, b_v at the working size
  std::vector<Tap> xs_, ys_;
  uint64_t id_;    // tells the per-thread cache of widened rows which sampler filled it
};

// A fit that is no fit: a = 0, b = uv [1,2,H,W] (chroma already at the frame's
// size, e.g. upsampled bicubically), so a FitSampler reproduces uv.
GuidedFit constant_fit(const at::Tensor& uv);

// u, v (each H x W floats) = FitSampler(fit, W, H) applied to every row of y;
// rows in parallel, no full-size temporaries.
void write_guided_chroma(const GuidedFit& fit, const float* y, float* u, float* v, int64_t width, int64_t height);

// y: luma [N,1,H,W]; noise: a plane of the frame's size (resampled to the
// working size), a noise vector, or undefined (the engine draws it).
// Returns U,V [N,2,H,W] at the frame's size: predicted at the working size,
// upsampled by `method`.
at::Tensor colorize_luma(InferenceEngine& engine, const at::Tensor& y, const WorkingSize& size,
                         const at::Tensor& noise = at::Tensor(),
                         ChromaUpsampling method = ChromaUpsampling::Guided);

// rgb: float [3,H,W] in [0,1] (treated as gray: only its luma is used).
// Returns the colorized RGB [3,H,W]: the model's U,V at the working size,
// upsampled by `method`, with the image's own full-resolution Y.
at::Tensor colorize_image(InferenceEngine& engine, const at::Tensor& rgb, const WorkingSize& size,
                          ChromaUpsampling method = ChromaUpsampling::Guided);

// The same image with U = V = 0.5: the gray baseline every metric is compared with.
at::Tensor gray_baseline(const at::Tensor& rgb);

}  // namespace colorgan
