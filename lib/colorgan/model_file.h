// Model files: one file with the generator's weights, its config and metadata.
#pragma once

#include "colorgan/errors.h"
#include "colorgan/networks.h"
#include "colorgan/noise.h"

#include <torch/serialize/output-archive.h>

#include <string>

namespace colorgan {

// Everything in a model file besides the weights.
struct ModelMetadata {
  int64_t training_width = 64;   // frame size the model was trained at
  int64_t training_height = 64;
  NoiseDistribution noise_distribution = NoiseDistribution::Gaussian;
  int64_t colour_convention = 1;  // kColourConventionVersion when written
  std::string provenance;         // free text: data, steps, hyperparameters, date
};

struct ModelFile {
  Generator generator{nullptr};
  ModelMetadata metadata;
};

// Saves an archive atomically: a temporary file beside `path`, then rename().
// Throws ModelFileError("cannot write <what> '<path>': ...").
void save_archive_atomically(torch::serialize::OutputArchive& archive, const std::string& path, const char* what);

// Writes atomically: a temporary file beside `path`, then rename().
void save_model(const std::string& path, Generator& generator, const ModelMetadata& metadata);

// Loads and checks a model file (format tag, colour convention, layer shapes).
// The generator is on the CPU, in train() mode as constructed.
ModelFile load_model(const std::string& path);

}  // namespace colorgan
