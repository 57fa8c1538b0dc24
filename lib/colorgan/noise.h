// Seeded, reproducible noise for the generator's noise input.
#pragma once

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>

#include "colorgan/options.h"

#include <cstdint>
#include <string>

namespace colorgan {

// Draws noise from its own generator, so the same seed gives the same values
// whatever else uses LibTorch's global RNG. Gaussian: N(0,1); uniform: U(-1,1).
// Values are drawn on the CPU and moved, so a seed means the same noise on
// every device.
class NoiseSource {
 public:
  explicit NoiseSource(uint64_t seed, NoiseDistribution distribution = NoiseDistribution::Gaussian);

  // [n, 1, height, width] float noise planes.
  at::Tensor planes(int64_t n, int64_t height, int64_t width);
  // [n, dim] float noise vectors (for generators that project a noise vector).
  at::Tensor vectors(int64_t n, int64_t dim);
  // Fills `count` floats at `out` (contiguous) with fresh noise.
  void fill(float* out, int64_t count);

  NoiseDistribution distribution() const { return distribution_; }

 private:
  at::Tensor draw(at::IntArrayRef shape);

  at::Generator generator_;
  NoiseDistribution distribution_;
};

}  // namespace colorgan
