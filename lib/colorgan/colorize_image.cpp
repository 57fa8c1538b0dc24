#include "colorgan/colorize_image.h"

#include "colorgan/colorspace.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <regex>
#include <vector>

namespace colorgan {

WorkingSize parse_working_size(const std::string& text) {
  constexpr int64_t kMaxSide = 16384;
  auto side = [&](const std::string& digits) {
    // At most 5 digits: no overflow, and the bound below names the limit.
    const int64_t value = digits.size() <= 5 ? std::stoll(digits) : kMaxSide + 1;
    if (value < 1 || value > kMaxSide) {
      throw std::invalid_argument("size '" + text + "': sides must be 1.." + std::to_string(kMaxSide));
    }
    return value;
  };
  WorkingSize size;
  std::smatch match;
  if (text == "native") {
    size.native = true;
  } else if (std::regex_match(text, match, std::regex(R"((\d+)x(\d+))"))) {
    size.width = side(match[1]);
    size.height = side(match[2]);
  } else if (std::regex_match(text, std::regex(R"(\d+)"))) {
    size.short_side = side(text);
  } else {
    throw std::invalid_argument("bad size '" + text + "' (expected native, WxH or a short-side length)");
  }
  return size;
}

WorkingSize working_size_for(const std::string& text, const ModelMetadata& model) {
  if (!text.empty()) return parse_working_size(text);
  WorkingSize size;
  size.short_side = std::min(model.training_width, model.training_height);
  return size;
}

std::pair<int64_t, int64_t> working_dims(const WorkingSize& size, int64_t height, int64_t width) {
  if (size.native) return {height, width};
  if (size.short_side > 0) {
    const double f = static_cast<double>(size.short_side) / static_cast<double>(std::min(height, width));
    return {std::max<int64_t>(1, std::lround(height * f)), std::max<int64_t>(1, std::lround(width * f))};
  }
  return {size.height, size.width};
}

at::Tensor resize_luma(const at::Tensor& y, std::pair<int64_t, int64_t> dims) {
  const auto [h, w] = dims;
  if (h == y.size(2) && w == y.size(3)) return y;
  // Area averaging when shrinking (no aliasing), bilinear when growing.
  return (h <= y.size(2) && w <= y.size(3)) ? at::adaptive_avg_pool2d(y, {h, w})
                                            : at::upsample_bilinear2d(y, {h, w}, false);
}

at::Tensor resize_noise(const at::Tensor& noise, std::pair<int64_t, int64_t> dims) {
  if (!noise.defined() || noise.dim() != 4 || (noise.size(2) == dims.first && noise.size(3) == dims.second)) {
    return noise;
  }
  return at::upsample_nearest2d(noise, {dims.first, dims.second});
}

namespace {

// Mean over a (2r+1)^2 window, counting only the pixels inside the image.
at::Tensor box(const at::Tensor& x, int64_t r) {
  return at::avg_pool2d(x, {2 * r + 1, 2 * r + 1}, {1, 1}, {r, r}, false, /*count_include_pad=*/false);
}

}  // namespace

GuidedFit fit_guided(const at::Tensor& uv_low, const at::Tensor& y_low) {
  // Fast guided filter: fit uv = a*Y + b in each small window at the working
  // size and average the fits; they are applied to the full-resolution Y.
  constexpr int64_t radius = 1;
  constexpr double eps = 1e-3;  // below it, luma variation is treated as noise (a -> 0)
  const at::Tensor mean_y = box(y_low, radius);
  const at::Tensor mean_uv = box(uv_low, radius);
  const at::Tensor cov = box(y_low * uv_low, radius) - mean_y * mean_uv;
  const at::Tensor var = box(y_low * y_low, radius) - mean_y * mean_y;
  const at::Tensor a = cov / (var + eps);
  const at::Tensor b = mean_uv - a * mean_y;
  return {box(a, radius), box(b, radius)};
}

at::Tensor upsample_chroma(const at::Tensor& uv_low, const at::Tensor& y_low, const at::Tensor& y_full,
                           ChromaUpsampling method) {
  const int64_t h = y_full.size(2), w = y_full.size(3);
  if (uv_low.size(2) == h && uv_low.size(3) == w) return uv_low;
  if (method == ChromaUpsampling::Bicubic) {
    return at::upsample_bicubic2d(uv_low, {h, w}, false).clamp_(0.0, 1.0);
  }
  const GuidedFit fit = fit_guided(uv_low, y_low);
  const at::Tensor a_full = at::upsample_bilinear2d(fit.a, {h, w}, false);
  const at::Tensor b_full = at::upsample_bilinear2d(fit.b, {h, w}, false);
  return (a_full * y_full + b_full).clamp_(0.0, 1.0);
}

FitSampler::FitSampler(const GuidedFit& fit, int64_t frame_width, int64_t frame_height, int step)
    : ab_(at::cat({fit.a, fit.b}, 1)[0].to(at::kFloat).contiguous()),
      xs_(taps(frame_width, ab_.size(2), step)),
      ys_(taps(frame_height, ab_.size(1), step)) {
  static std::atomic<uint64_t> samplers{0};
  id_ = ++samplers;
}

std::vector<FitSampler::Tap> FitSampler::taps(int64_t frame, int64_t low, int step) {
  std::vector<Tap> result((frame + step - 1) / step);
  const float scale = static_cast<float>(low) / static_cast<float>(frame);
  for (int64_t o = 0; o < static_cast<int64_t>(result.size()); ++o) {
    // The block's centre in frame pixels (a last block at an odd edge is narrower).
    const float centre = 0.5f * static_cast<float>(step * o + std::min<int64_t>(step * o + step, frame));
    const float src = std::max(0.0f, scale * centre - 0.5f);
    const int64_t i0 = std::min(static_cast<int64_t>(src), low - 1);
    result[o] = {i0, std::min(i0 + 1, low - 1), src - static_cast<float>(i0)};
  }
  return result;
}

void FitSampler::widen(int64_t low_row, float* out) const {
  const int64_t h = ab_.size(1), w = ab_.size(2), n = width();
  const float* low = ab_.data_ptr<float>();
  for (int64_t k = 0; k < 4; ++k) {
    const float* plane = low + (k * h + low_row) * w;
    float* dst = out + k * n;
    for (int64_t x = 0; x < n; ++x) {
      const Tap& tx = xs_[x];
      dst[x] = plane[tx.i0] + tx.t * (plane[tx.i1] - plane[tx.i0]);
    }
  }
}

void FitSampler::row(int64_t row, const float* y, float* u, float* v) const {
  // Output rows run in order and several share two working-size rows: each
  // thread keeps the last two widened (4 planes each, sampled along x), and
  // an output row is then one contiguous, vectorized blend of them.
  struct Widened {
    uint64_t sampler = 0;
    int64_t rows[2] = {-1, -1};
    std::vector<float> data[2];
  };
  thread_local Widened cache;
  const int64_t n = width();
  if (cache.sampler != id_) {
    cache.sampler = id_;
    cache.rows[0] = cache.rows[1] = -1;
    for (auto& d : cache.data) d.resize(4 * n);
  }
  const Tap& ty = ys_[row];
  auto slot = [&](int64_t low_row, int keep) -> const float* {
    for (int k = 0; k < 2; ++k) {
      if (cache.rows[k] == low_row) return cache.data[k].data();
    }
    const int k = keep == 0 ? 1 : 0;  // never evict the row the blend still needs
    widen(low_row, cache.data[k].data());
    cache.rows[k] = low_row;
    return cache.data[k].data();
  };
  const float* top = slot(ty.i0, -1);
  const int top_slot = cache.rows[0] == ty.i0 ? 0 : 1;
  const float* bottom = slot(ty.i1, top_slot);
  apply_fit(top, bottom, ty.t, y, u, v, n);
}

// u, v = clamp(a*y + b), a and b blended between two widened rows (a_u, a_v, b_u, b_v of n each).
void FitSampler::apply_fit(const float* __restrict top, const float* __restrict bottom, float t,
                           const float* __restrict y, float* __restrict u, float* __restrict v, int64_t n) {
  for (int64_t x = 0; x < n; ++x) {
    const float a_u = top[x] + t * (bottom[x] - top[x]);
    const float a_v = top[n + x] + t * (bottom[n + x] - top[n + x]);
    const float b_u = top[2 * n + x] + t * (bottom[2 * n + x] - top[2 * n + x]);
    const float b_v = top[3 * n + x] + t * (bottom[3 * n + x] - top[3 * n + x]);
    u[x] = std::min(1.0f, std::max(0.0f, a_u * y[x] + b_u));
    v[x] = std::min(1.0f, std::max(0.0f, a_v * y[x] + b_v));
  }
}

GuidedFit constant_fit(const at::Tensor& uv) { return {at::zeros_like(uv), uv}; }

void write_guided_chroma(const GuidedFit& fit, const float* y, float* u, float* v, int64_t width, int64_t height) {
  const FitSampler sampler(fit, width, height);
  at::parallel_for(0, height, 16, [&](int64_t first, int64_t last) {
    for (int64_t row = first; row < last; ++row) {
      sampler.row(row, y + row * width, u + row * width, v + row * width);
    }
  });
}

at::Tensor colorize_luma(InferenceEngine& engine, const at::Tensor& y, const WorkingSize& size, const at::Tensor& noise,
                         ChromaUpsampling method) {
  const auto dims = working_dims(size, y.size(2), y.size(3));
  const at::Tensor y_work = resize_luma(y, dims);
  return upsample_chroma(engine.colorize(y_work, resize_noise(noise, dims)), y_work, y, method);
}

at::Tensor colorize_image(InferenceEngine& engine, const at::Tensor& rgb, const WorkingSize& size,
                          ChromaUpsampling method) {
  const at::Tensor y = rgb_to_yuv(rgb.to(at::kFloat)).narrow(0, 0, 1).unsqueeze(0);  // [1,1,H,W]
  return yuv_to_rgb_keep_luma(at::cat({y, colorize_luma(engine, y, size, at::Tensor(), method)}, 1))[0];
}

at::Tensor gray_baseline(const at::Tensor& rgb) {
  at::Tensor yuv = rgb_to_yuv(rgb.to(at::kFloat));
  yuv.narrow(0, 1, 2).fill_(0.5);
  return yuv_to_rgb(yuv);
}

}  // namespace colorgan
