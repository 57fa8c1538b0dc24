#include "colorgan/video.h"

#include <ATen/ATen.h>

namespace colorgan {

ChromaStabilizer::ChromaStabilizer(StabilizerOptions options) : options_(options) {}

at::Tensor ChromaStabilizer::apply(const at::Tensor& y, const at::Tensor& uv) {
  if (options_.strength <= 0) return uv;
  const at::Tensor luma = y.reshape({1, 1, y.size(-2), y.size(-1)});
  const bool continues = previous_y_.defined() && previous_y_.sizes() == luma.sizes();
  at::Tensor out = uv;
  if (continues) {
    // Compare 3x3 means: single-pixel noise is not motion.
    auto smooth = [](const at::Tensor& t) { return at::avg_pool2d(t, {3, 3}, {1, 1}, {1, 1}, false, false); };
    const at::Tensor change = (smooth(luma) - smooth(previous_y_)).abs_();
    if (change.mean().item<double>() > options_.cut_threshold) {
      ++cuts_;
    } else {
      const at::Tensor weight = (1.0 - change / options_.motion_threshold).clamp_(0.0, 1.0).mul_(options_.strength);
      out = at::lerp(uv.reshape({1, 2, y.size(-2), y.size(-1)}), previous_uv_, weight).reshape(uv.sizes());
    }
  }
  previous_y_ = luma.clone();
  previous_uv_ = out.reshape({1, 2, y.size(-2), y.size(-1)}).clone();
  return out;
}

void ChromaStabilizer::reset() {
  previous_y_ = at::Tensor();
  previous_uv_ = at::Tensor();
}

int64_t ChromaStabilizer::scene_cuts() const { return cuts_; }

FlickerMeter::FlickerMeter(double luma_threshold) : threshold_(luma_threshold) {}

void FlickerMeter::add(const at::Tensor& yuv) {
  const at::Tensor frame = yuv.to(at::kFloat);
  if (previous_.defined() && previous_.sizes() == frame.sizes()) {
    const at::Tensor still = (frame[0] - previous_[0]).abs() < threshold_;
    const at::Tensor change = (frame.narrow(0, 1, 2) - previous_.narrow(0, 1, 2)).abs().mean(0);
    sum_ += change.masked_select(still).sum().item<double>();
    count_ += still.sum().item<int64_t>();
  }
  previous_ = frame.clone();
}

double FlickerMeter::mean() const { return count_ > 0 ? sum_ / static_cast<double>(count_) : 0.0; }
int64_t FlickerMeter::pixels() const { return count_; }

}  // namespace colorgan
