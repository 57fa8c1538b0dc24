#include "colorgan/model_file.h"

#include "colorgan/colorspace.h"
#include "colorgan/files.h"

#include <torch/serialize/input-archive.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace colorgan {
namespace {

constexpr const char* kFormatTag = "colorgan-model";
// Version 2: the archive inside a container with a digest (write_model_archive);
// version 1 files, bare archives, load only unchecked (for upgrading).
constexpr int64_t kFormatVersion = 2;

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

// 64-bit FNV-1a: detects corruption (it is no signature: whoever can write the
// file can write a matching digest).
uint64_t fnv1a(const char* data, size_t size) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (size_t i = 0; i < size; ++i) hash = (hash ^ static_cast<unsigned char>(data[i])) * 0x100000001b3ULL;
  return hash;
}

// The container around a model's LibTorch archive: magic, payload length and
// payload digest (u64, little-endian), then the payload.
constexpr char kMagic[8] = {'C', 'G', 'A', 'N', 'M', 'O', 'D', 'L'};
constexpr size_t kHeaderBytes = 24;

void put_u64(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint64_t get_u64(const char* in) {
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(in[i]);
  return value;
}

std::string archive_bytes(torch::serialize::OutputArchive& archive) {
  std::ostringstream out;
  archive.save_to(out);
  return out.str();
}

void write_atomically(const std::string& bytes, const std::string& path, const char* what) {
  try {
    write_file_atomically(path, bytes, what);
  } catch (const std::runtime_error& e) {
    throw ModelFileError(e.what());
  }
}

int64_t read_bounded(torch::serialize::InputArchive& archive, const std::string& key, int64_t low, int64_t high,
                     const std::string& path) {
  const int64_t value = read_int(archive, key);
  if (value < low || value > high) {
    throw ModelFileError("model file '" + path + "': " + key + " is " + std::to_string(value) + ", outside " +
                         std::to_string(low) + ".." + std::to_string(high));
  }
  return value;
}

}  // namespace

// Says why a model file cannot be read, before LibTorch tries (its messages
// for these are raw errno numbers). Returns its size.
uintmax_t check_model_file_readable(const std::string& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (!std::filesystem::exists(status)) throw ModelFileError("model file '" + path + "' does not exist");
  if (!std::filesystem::is_regular_file(status)) throw ModelFileError("model file '" + path + "' is not a file");
  const auto size = std::filesystem::file_size(path, error);
  if (error || size > static_cast<uintmax_t>(kMaxModelFileBytes)) {
    throw ModelFileError("model file '" + path + "' is " + std::to_string(size) + " bytes, more than the " +
                         std::to_string(kMaxModelFileBytes) + " a model file may have");
  }
  return size;
}

void save_archive_atomically(torch::serialize::OutputArchive& archive, const std::string& path, const char* what) {
  std::string bytes;
  try {
    bytes = archive_bytes(archive);
  } catch (const std::exception& e) {
    throw ModelFileError(std::string("cannot write ") + what + " '" + path + "': " + first_line(e.what()));
  }
  write_atomically(bytes, path, what);
}

void write_model_archive(torch::serialize::OutputArchive& archive, const std::string& path) {
  std::string payload;
  try {
    payload = archive_bytes(archive);
  } catch (const std::exception& e) {
    throw ModelFileError("cannot write model file '" + path + "': " + first_line(e.what()));
  }
  std::string file(kMagic, sizeof kMagic);
  put_u64(file, payload.size());
  put_u64(file, fnv1a(payload.data(), payload.size()));
  file += payload;
  write_atomically(file, path, "model file");
}

void read_model_archive(const std::string& path, torch::serialize::InputArchive& archive, Integrity integrity) {
  const uintmax_t size = check_model_file_readable(path);
  std::string file(static_cast<size_t>(size), '\0');
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelFileError("cannot read model file '" + path + "': " + std::strerror(errno));
  if (!in.read(file.data(), static_cast<std::streamsize>(size))) {
    throw ModelFileError("cannot read model file '" + path + "': " + std::strerror(errno));
  }
  const bool contained = size >= kHeaderBytes && file.compare(0, sizeof kMagic, kMagic, sizeof kMagic) == 0;
  try {
    if (!contained) {
      // Version 1: a bare LibTorch archive (a zip), without a digest.
      if (file.compare(0, 2, "PK") != 0) {
        throw ModelFileError("'" + path + "' is not a colorgan model file (no colorgan header)");
      }
      if (integrity == Integrity::Required) {
        throw ModelFileError("'" + path + "' is a LibTorch archive with no colorgan header: not a model file, or " +
                             "one of format version 1, which has no integrity digest (check it, then re-save it " +
                             "with `colorgan-model upgrade " + path + "`)");
      }
      archive.load_from(file.data(), file.size());
      return;
    }
    const uint64_t length = get_u64(file.data() + 8), digest = get_u64(file.data() + 16);
    if (length != size - kHeaderBytes) {
      throw ModelFileError("model file '" + path + "' is truncated or padded: its header says " +
                           std::to_string(length) + " bytes follow, the file has " +
                           std::to_string(size - kHeaderBytes));
    }
    // Checked before LibTorch parses anything: its archive reader is not made for hostile input.
    if (fnv1a(file.data() + kHeaderBytes, length) != digest) {
      throw ModelFileError("model file '" + path + "' is corrupt: its contents do not match the digest in its header");
    }
    archive.load_from(file.data() + kHeaderBytes, length);
  } catch (const ModelFileError&) {
    throw;
  } catch (const std::exception& e) {
    throw ModelFileError("cannot load model file '" + path + "': " + first_line(e.what()));
  }
}

void load_checked_weights(torch::nn::Module& module, torch::serialize::InputArchive& weights, const std::string& where) {
  auto shapes = [&] {
    std::vector<std::pair<std::string, std::vector<int64_t>>> all;
    for (const auto& t : module.named_parameters()) all.emplace_back(t.key(), t.value().sizes().vec());
    for (const auto& t : module.named_buffers()) all.emplace_back(t.key(), t.value().sizes().vec());
    return all;
  };
  const auto expected = shapes();
  module.load(weights);
  const auto loaded = shapes();
  for (size_t i = 0; i < expected.size(); ++i) {
    if (loaded[i] != expected[i]) {
      throw ModelFileError(where + ": weight '" + expected[i].first + "' does not match its layer's shape");
    }
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
  archive.write("config.kind", c10::IValue(std::string(to_string(config.kind))));
  archive.write("config.scale_channels", c10::IValue(to_list(config.scale_channels)));
  archive.write("config.chroma_classes", c10::IValue(config.chroma_classes));
  archive.write("config.temperature", c10::IValue(config.temperature));
  archive.write("config.head_rank", c10::IValue(config.head_rank));
  archive.write("config.head_stride", c10::IValue(config.head_stride));
  archive.write("meta.training_width", c10::IValue(metadata.training_width));
  archive.write("meta.training_height", c10::IValue(metadata.training_height));
  archive.write("meta.noise_distribution", c10::IValue(std::string(to_string(metadata.noise_distribution))));
  archive.write("meta.colour_convention", c10::IValue(metadata.colour_convention));
  archive.write("meta.provenance", c10::IValue(metadata.provenance));
  torch::serialize::OutputArchive weights;
  generator->save(weights);
  archive.write("generator", weights);

  write_model_archive(archive, path);
}

ModelFile load_model(const std::string& path, Integrity integrity) {
  torch::serialize::InputArchive archive;
  read_model_archive(path, archive, integrity);
  ModelFile model;
  try {
    c10::IValue tag;
    if (!archive.try_read("format", tag) || !tag.isString() || tag.toStringRef() != kFormatTag) {
      throw ModelFileError("'" + path + "' is not a colorgan model file (no colorgan format tag)");
    }
    const int64_t version = read_int(archive, "format_version");
    if (version != 1 && version != kFormatVersion) {
      throw ModelFileError("model file '" + path + "' has format version " + std::to_string(version) +
                           ", this build reads versions 1 and " + std::to_string(kFormatVersion));
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
    c10::IValue kind;  // files written before the encoder-decoder hold a seed generator and no kind
    if (archive.try_read("config.kind", kind)) {
      config.kind = parse_generator_kind(read_string(archive, "config.kind"));
      config.scale_channels = read_ints(archive, "config.scale_channels");
    }
    c10::IValue classes;  // files written before the chroma-class head regress U,V
    if (archive.try_read("config.chroma_classes", classes)) {
      config.chroma_classes = classes.toInt();
      c10::IValue temperature;
      archive.read("config.temperature", temperature);
      config.temperature = temperature.toDouble();
    }
    c10::IValue rank;  // nor have files written before the factored head a rank
    if (archive.try_read("config.head_rank", rank)) config.head_rank = read_int(archive, "config.head_rank");
    c10::IValue stride;  // nor a head stride (they decode at full size)
    if (archive.try_read("config.head_stride", stride)) config.head_stride = read_int(archive, "config.head_stride");
    try {
      config.check();
    } catch (const std::invalid_argument& e) {
      throw ModelFileError("model file '" + path + "': " + e.what());
    }

    ModelMetadata& meta = model.metadata;
    meta.training_width = read_bounded(archive, "meta.training_width", 1, kMaxTrainingSide, path);
    meta.training_height = read_bounded(archive, "meta.training_height", 1, kMaxTrainingSide, path);
    meta.noise_distribution = parse_noise_distribution(read_string(archive, "meta.noise_distribution"));
    meta.colour_convention = read_int(archive, "meta.colour_convention");
    meta.provenance = read_string(archive, "meta.provenance");
    if (meta.colour_convention != kColourConventionVersion) {
      throw ModelFileError("model file '" + path + "' uses colour convention " +
                           std::to_string(meta.colour_convention) + ", this build uses " +
                           std::to_string(kColourConventionVersion));
    }

    model.generator = Generator(config);
    torch::serialize::InputArchive weights;
    archive.read("generator", weights);
    load_checked_weights(*model.generator, weights, "model file '" + path + "' (its stored config)");
  } catch (const ModelFileError&) {
    throw;
  } catch (const std::exception& e) {
    throw ModelFileError("cannot load model file '" + path + "': " + first_line(e.what()));
  }
  return model;
}

}  // namespace colorgan
