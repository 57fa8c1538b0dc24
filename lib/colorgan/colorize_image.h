// Colorizing whole images at a working size, the way the tools (and the
// element) use the model: luma kept at full resolution, chroma upsampled.
#pragma once

#include "colorgan/engine.h"

#include <ATen/core/Tensor.h>

#include <string>

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

// y: luma [N,1,H,W]; noise: a plane of the frame's size (resampled to the
// working size), a noise vector, or undefined (the engine draws it).
// Returns U,V [N,2,H,W] at the frame's size: predicted at the working size,
// upsampled bicubically.
at::Tensor colorize_luma(InferenceEngine& engine, const at::Tensor& y, const WorkingSize& size,
                         const at::Tensor& noise = at::Tensor());

// rgb: float [3,H,W] in [0,1] (treated as gray: only its luma is used).
// Returns the colorized RGB [3,H,W]: the model's U,V at the working size,
// upsampled bicubically, with the image's own full-resolution Y.
at::Tensor colorize_image(InferenceEngine& engine, const at::Tensor& rgb, const WorkingSize& size);

// The same image with U = V = 0.5: the gray baseline every metric is compared with.
at::Tensor gray_baseline(const at::Tensor& rgb);

}  // namespace colorgan
