// Generators for the export tests (LibTorch types: only for the tests that use them).
#pragma once

#include "colorgan/networks.h"

#include <torch/torch.h>

namespace colorgan::testing {

struct ExportCase {
  const char* preset;
  NoiseInput noise_input;
};

// Gives `module`'s batch-norm statistics values that look trained (away from their
// initial values), so that folding them matters.
inline void give_trained_looking_statistics(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& buffer : module.buffers()) {
    if (buffer.is_floating_point()) buffer.uniform_(0.5, 1.5);
  }
}

// A generator of `c`'s preset in eval mode with trained-looking statistics;
// projected-noise ones at 16x16.
inline Generator trained_looking_generator(const ExportCase& c, unsigned seed) {
  GeneratorConfig config = GeneratorConfig::preset(c.preset);
  config.noise_input = c.noise_input;
  config.projected_size = 16;
  torch::manual_seed(seed);
  Generator generator(config);
  generator->eval();
  give_trained_looking_statistics(*generator);
  return generator;
}

}  // namespace colorgan::testing
