#include "colorgan/colorspace.h"

#include <ATen/ATen.h>

#include <stdexcept>

namespace colorgan {
namespace {

void check_three_channels(const at::Tensor& t, const char* what) {
  if (t.dim() < 3 || t.size(-3) != 3) {
    throw std::invalid_argument(std::string(what) + ": expected a [..., 3, H, W] tensor");
  }
}

}  // namespace

at::Tensor rgb_to_luma(const at::Tensor& rgb) {
  check_three_channels(rgb, "rgb_to_luma");
  auto planes = rgb.unbind(-3);
  return 0.299 * planes[0] + 0.587 * planes[1] + 0.114 * planes[2];
}

at::Tensor rgb_to_yuv(const at::Tensor& rgb) {
  check_three_channels(rgb, "rgb_to_yuv");
  auto planes = rgb.unbind(-3);
  const auto& r = planes[0];
  const auto& b = planes[2];
  auto y = rgb_to_luma(rgb);
  auto u = ((b - y) * kUScale + 0.5).clamp(0.0, 1.0);
  auto v = ((r - y) * kVScale + 0.5).clamp(0.0, 1.0);
  return at::stack({y, u, v}, -3);
}

at::Tensor yuv_to_rgb(const at::Tensor& yuv) {
  check_three_channels(yuv, "yuv_to_rgb");
  auto planes = yuv.unbind(-3);
  const auto& y = planes[0];
  auto u = (planes[1] - 0.5) * kUMax;
  auto v = (planes[2] - 0.5) * kVMax;
  auto r = y + 1.14 * v;
  auto g = y - 0.395 * u - 0.581 * v;
  auto b = y + 2.033 * u;
  return at::stack({r, g, b}, -3).clamp(0.0, 1.0);
}

at::Tensor yuv_to_rgb_keep_luma(const at::Tensor& yuv) {
  check_three_channels(yuv, "yuv_to_rgb_keep_luma");
  auto planes = yuv.unbind(-3);
  const auto y = planes[0].clamp(0.0, 1.0);
  const auto u = (planes[1] - 0.5) * kUMax;
  const auto v = (planes[2] - 0.5) * kVMax;
  // Each channel is Y + d with d linear in (u, v): scaling (u, v) by t scales d by t.
  const std::vector<at::Tensor> offsets = {1.14 * v, -0.395 * u - 0.581 * v, 2.033 * u};
  auto t = at::ones_like(y);
  for (const auto& d : offsets) {
    // The largest t in [0,1] with 0 <= Y + t d <= 1.
    const auto limit = at::where(d > 0, (1.0 - y) / d, at::where(d < 0, -y / d, at::ones_like(d)));
    t = at::minimum(t, limit.clamp(0.0, 1.0));
  }
  std::vector<at::Tensor> rgb;
  for (const auto& d : offsets) rgb.push_back((y + t * d).clamp(0.0, 1.0));
  return at::stack(rgb, -3);
}

at::Tensor rgb8_to_tensor(const at::Tensor& hwc) {
  if (hwc.dim() != 3 || hwc.size(2) != 3 || hwc.scalar_type() != at::kByte) {
    throw std::invalid_argument("rgb8_to_tensor: expected a uint8 [H, W, 3] tensor");
  }
  return hwc.permute({2, 0, 1}).to(at::kFloat).div_(255.0);
}

at::Tensor tensor_to_rgb8(const at::Tensor& chw) {
  if (chw.dim() != 3 || chw.size(0) != 3) {
    throw std::invalid_argument("tensor_to_rgb8: expected a [3, H, W] tensor");
  }
  return chw.mul(255.0).round_().clamp_(0, 255).to(at::kByte).permute({1, 2, 0}).contiguous();
}

}  // namespace colorgan
