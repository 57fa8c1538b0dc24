#include "colorgan/model_file.h"

#include "colorgan/colorspace.h"

#include <torch/serialize/input-archive.h>

#include <cstdio>
#include <filesystem>
#include <unistd.h>

namespace colorgan {
namespace {

constexpr const char* kFormatTag = "colorgan-model";
constexpr int64_t kFormatVersion = 1;

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

c10::List<int64_t> to_list(const std::vector<int64_t>& values) { return c10::List<int64_t>(values); }

std::vector<int64_t> read_ints(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toIntVector();
}

int64_t read_int(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toInt();
}

std::string read_string(torch::serialize::InputArchive& archive, const std::string& key) {
  c10::IValue value;
  archive.read(key, value);
  return value.toStringRef();
}

}  // namespace

void save_archive_atomically(torch::serialize::OutputArchive& archive, const std::string& path, const char* what) {
  const std::string temporary = path + ".tmp." + std::to_string(getpid());
  try {
    archive.save_to(temporary);
  } catch (const std::exception& e) {
    std::remove(temporary.c_str());
    throw ModelFileError(std::string("cannot write ") + what + " '" + path + "': " + first_line(e.what()));
  }
  if (std::rename(temporary.c_str(), path.c_str()) != 0) {
    std::remove(temporary.c_str());
    throw ModelFileError(std::string("cannot write ") + what + " '" + path + "': rename failed");
  }
}

void save_model(const std::string& path, Generator& generator, const ModelMetadata& metadata) {
  const GeneratorConfig& config = generator->config();
  std::vector<int64_t> channels, kernels;
  for (const auto& layer : config.hidden) {
    channels.push_back(layer.channels);
    kernels.push_back(layer.kernel);
  }
  torch::serialize::OutputArchive archive;
  archive.write("format", c10::IValue(std::string(kFormatTag)));
  archive.write("format_version", c10::IValue(kFormatVersion));
  archive.write("config.hidden_channels", c10::IValue(to_list(channels)));
  archive.write("config.hidden_kernels", c10::IValue(to_list(kernels)));
  archive.write("config.output_kernel", c10::IValue(config.output_kernel));
  archive.write("config.noise_layers", c10::IValue(to_list(config.noise_layers)));
  archive.write("config.noise_input", c10::IValue(std::string(to_string(config.noise_input))));
  archive.write("config.noise_dim", c10::IValue(config.noise_dim));
  archive.write("config.projected_size", c10::IValue(config.projected_size));
  archive.write("meta.training_width", c10::IValue(metadata.training_width));
  archive.write("meta.training_height", c10::IValue(metadata.training_height));
  archive.write("meta.noise_distribution", c10::IValue(std::string(to_string(metadata.noise_distribution))));
  archive.write("meta.colour_convention", c10::IValue(metadata.colour_convention));
  archive.write("meta.provenance", c10::IValue(metadata.provenance));
  torch::serialize::OutputArchive weights;
  generator->save(weights);
  archive.write("generator", weights);

  save_archive_atomically(archive, path, "model file");
}

ModelFile load_model(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) {
    throw ModelFileError("model file '" + path + "' does not exist or is not a file");
  }
  ModelFile model;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    c10::IValue tag;
    if (!archive.try_read("format", tag) || !tag.isString() || tag.toStringRef() != kFormatTag) {
      throw ModelFileError("'" + path + "' is not a colorgan model file (no colorgan format tag)");
    }
    const int64_t version = read_int(archive, "format_version");
    if (version != kFormatVersion) {
      throw ModelFileError("model file '" + path + "' has format version " + std::to_string(version) +
                           ", this build reads version " + std::to_string(kFormatVersion));
    }
    GeneratorConfig config;
    const auto channels = read_ints(archive, "config.hidden_channels");
    const auto kernels = read_ints(archive, "config.hidden_kernels");
    if (channels.size() != kernels.size()) throw ModelFileError("model file '" + path + "': inconsistent layer list");
    config.hidden.clear();
    for (size_t i = 0; i < channels.size(); ++i) config.hidden.push_back({channels[i], kernels[i]});
    config.output_kernel = read_int(archive, "config.output_kernel");
    config.noise_layers = read_ints(archive, "config.noise_layers");
    config.noise_input = parse_noise_input(read_string(archive, "config.noise_input"));
    config.noise_dim = read_int(archive, "config.noise_dim");
    config.projected_size = read_int(archive, "config.projected_size");

    ModelMetadata& meta = model.metadata;
    meta.training_width = read_int(archive, "meta.training_width");
    meta.training_height = read_int(archive, "meta.training_height");
    meta.noise_distribution = parse_noise_distribution(read_string(archive, "meta.noise_distribution"));
    meta.colour_convention = read_int(archive, "meta.colour_convention");
    meta.provenance = read_string(archive, "meta.provenance");
    if (meta.colour_convention != kColourConventionVersion) {
      throw ModelFileError("model file '" + path + "' uses colour convention " +
                           std::to_string(meta.colour_convention) + ", this build uses " +
                           std::to_string(kColourConventionVersion));
    }

    model.generator = Generator(config);
    // Module::load() resizes tensors to whatever the file holds: check shapes ourselves.
    std::vector<std::vector<int64_t>> expected;
    for (const auto& t : model.generator->named_parameters()) expected.push_back(t.value().sizes().vec());
    torch::serialize::InputArchive weights;
    archive.read("generator", weights);
    model.generator->load(weights);
    size_t i = 0;
    for (const auto& t : model.generator->named_parameters()) {
      if (t.value().sizes().vec() != expected[i++]) {
        throw ModelFileError("model file '" + path + "': weight '" + t.key() + "' does not match the stored config");
      }
    }
  } catch (const ModelFileError&) {
    throw;
  } catch (const std::exception& e) {
    throw ModelFileError("cannot load model file '" + path + "': " + first_line(e.what()));
  }
  return model;
}

}  // namespace colorgan
