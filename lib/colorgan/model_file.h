// Model files: one file with the generator's weights, its config and metadata.
#pragma once

#include "colorgan/errors.h"
#include "colorgan/networks.h"
#include "colorgan/noise.h"

#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>

#include <cstdint>
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

// Whether reading a model file demands the digest format version 2 stores.
// Unchecked is for `colorgan-model upgrade` of version-1 files (bare LibTorch
// archives), written before the digest existed.
enum class Integrity { Required, Unchecked };

// A model file is a container: "CGANMODL", the payload's length and 64-bit
// FNV-1a digest (u64 little-endian each), then the payload, a LibTorch archive.
// The digest is checked before LibTorch parses a byte: its archive reader
// crashes on some corrupt archives (found by fuzzing). It detects corruption;
// it does not make a file crafted by someone else safe to load.
void write_model_archive(torch::serialize::OutputArchive& archive, const std::string& path);
void read_model_archive(const std::string& path, torch::serialize::InputArchive& archive,
                        Integrity integrity = Integrity::Required);

// Loads `weights` into `module`, whose layers fix what each weight's shape must be:
// Module::load() resizes tensors to whatever an archive holds, so this checks every
// parameter and buffer afterwards. Throws ModelFileError("<where>: weight '<name>' does not match ...").
void load_checked_weights(torch::nn::Module& module, torch::serialize::InputArchive& weights, const std::string& where);

// Writes atomically: a temporary file beside `path`, then rename().
void save_model(const std::string& path, Generator& generator, const ModelMetadata& metadata);

// Loads and checks a model file: readable, at most kMaxModelFileBytes, the
// container's digest (a flipped byte is an error), format tag and version,
// sizes within bounds before anything is allocated, colour convention, layer shapes.
// Every error is a ModelFileError naming the file. The generator is on the
// CPU, in train() mode as constructed.
ModelFile load_model(const std::string& path, Integrity integrity = Integrity::Required);

constexpr int64_t kMaxModelFileBytes = int64_t{1} << 30;

// Throws ModelFileError unless `path` is a readable regular file of at most
// kMaxModelFileBytes (any model file: colorgan's own or TorchScript); returns its size.
uintmax_t check_model_file_readable(const std::string& path);
constexpr int64_t kMaxTrainingSide = 8192;

}  // namespace colorgan
