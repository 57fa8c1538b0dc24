#include "colorgan/noise.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>

#include <stdexcept>

namespace colorgan {

NoiseSource::NoiseSource(uint64_t seed, NoiseDistribution distribution)
    : generator_(at::make_generator<at::CPUGeneratorImpl>(seed)), distribution_(distribution) {}

at::Tensor NoiseSource::draw(at::IntArrayRef shape) {
  auto options = at::TensorOptions().dtype(at::kFloat);
  if (distribution_ == NoiseDistribution::Gaussian) {
    return at::randn(shape, generator_, options);
  }
  return at::empty(shape, options).uniform_(-1.0, 1.0, generator_);
}

at::Tensor NoiseSource::planes(int64_t n, int64_t height, int64_t width) {
  return draw({n, 1, height, width});
}

at::Tensor NoiseSource::vectors(int64_t n, int64_t dim) { return draw({n, dim}); }

void NoiseSource::fill(float* out, int64_t count) {
  at::from_blob(out, {count}, at::kFloat).copy_(draw({count}));
}

}  // namespace colorgan
