#include "colorgan/colorize_image.h"

#include "colorgan/colorspace.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <regex>

namespace colorgan {

WorkingSize parse_working_size(const std::string& text) {
  WorkingSize size;
  std::smatch match;
  if (text == "native") {
    size.native = true;
  } else if (std::regex_match(text, match, std::regex(R"((\d+)x(\d+))"))) {
    size.width = std::stoll(match[1]);
    size.height = std::stoll(match[2]);
  } else if (std::regex_match(text, std::regex(R"(\d+)"))) {
    size.short_side = std::stoll(text);
  } else {
    throw std::invalid_argument("bad size '" + text + "' (expected native, WxH or a short-side length)");
  }
  if (!size.native && size.width * size.height == 0 && size.short_side == 0) {
    throw std::invalid_argument("size '" + text + "' must be positive");
  }
  return size;
}

WorkingSize working_size_for(const std::string& text, const ModelMetadata& model) {
  if (!text.empty()) return parse_working_size(text);
  WorkingSize size;
  size.short_side = std::min(model.training_width, model.training_height);
  return size;
}

at::Tensor colorize_luma(InferenceEngine& engine, const at::Tensor& y, const WorkingSize& size, const at::Tensor& noise) {
  const int64_t h = y.size(2), w = y.size(3);
  int64_t wh = h, ww = w;
  if (!size.native) {
    if (size.short_side > 0) {
      const double f = static_cast<double>(size.short_side) / static_cast<double>(std::min(h, w));
      wh = std::max<int64_t>(1, std::lround(h * f));
      ww = std::max<int64_t>(1, std::lround(w * f));
    } else {
      wh = size.height;
      ww = size.width;
    }
  }
  if (wh == h && ww == w) return engine.colorize(y, noise);
  // Area averaging when shrinking (no aliasing), bilinear when growing.
  const at::Tensor y_work = (wh <= h && ww <= w) ? at::adaptive_avg_pool2d(y, {wh, ww})
                                                 : at::upsample_bilinear2d(y, {wh, ww}, false);
  // Noise is resampled by nearest neighbour, which keeps its distribution.
  const at::Tensor noise_work =
      noise.defined() && noise.dim() == 4 ? at::upsample_nearest2d(noise, {wh, ww}) : noise;
  return at::upsample_bicubic2d(engine.colorize(y_work, noise_work), {h, w}, false).clamp_(0.0, 1.0);
}

at::Tensor colorize_image(InferenceEngine& engine, const at::Tensor& rgb, const WorkingSize& size) {
  const at::Tensor y = rgb_to_yuv(rgb.to(at::kFloat)).narrow(0, 0, 1).unsqueeze(0);  // [1,1,H,W]
  return yuv_to_rgb_keep_luma(at::cat({y, colorize_luma(engine, y, size)}, 1))[0];
}

at::Tensor gray_baseline(const at::Tensor& rgb) {
  at::Tensor yuv = rgb_to_yuv(rgb.to(at::kFloat));
  yuv.narrow(0, 1, 2).fill_(0.5);
  return yuv_to_rgb(yuv);
}

}  // namespace colorgan
