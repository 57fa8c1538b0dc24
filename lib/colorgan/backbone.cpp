#include "colorgan/backbone.h"

#include "colorgan/errors.h"
#include "colorgan/model_file.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

namespace colorgan {

namespace {

constexpr uintmax_t kMaxManifestBytes = 16 << 20;
constexpr int64_t kMaxWeightElements = int64_t{1} << 28;

std::string read_file(const std::filesystem::path& path, uintmax_t expected_size, const std::string& what) {
  std::error_code error;
  const uintmax_t size = std::filesystem::file_size(path, error);
  if (error) throw ModelFileError("cannot read " + what + " '" + path.string() + "': " + error.message());
  if (size != expected_size) {
    throw ModelFileError(what + " '" + path.string() + "' is " + std::to_string(size) + " bytes, expected " +
                         std::to_string(expected_size));
  }
  std::string bytes(size, '\0');
  std::ifstream in(path, std::ios::binary);
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size))) {
    throw ModelFileError("cannot read " + what + " '" + path.string() + "'");
  }
  return bytes;
}

// One weight of a manifest, as float32 in Keras' layout.
struct KerasWeight {
  std::string name;
  std::vector<int64_t> shape;
  std::string stored;  // "float32", "uint8", "uint16" or "float16"
  double min = 0, scale = 1;
  int64_t bytes() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n * (stored == "float32" ? 4 : stored == "uint8" ? 1 : 2);
  }
};

KerasWeight parse_weight(const nlohmann::json& spec, const std::string& where) {
  KerasWeight w;
  w.name = spec.at("name").get<std::string>();
  w.shape = spec.at("shape").get<std::vector<int64_t>>();
  if (spec.at("dtype").get<std::string>() != "float32") throw ModelFileError(where + ": weight " + w.name + " is not float32");
  int64_t elements = 1;
  for (int64_t d : w.shape) {
    if (d < 1 || d > kMaxWeightElements || elements * d > kMaxWeightElements) {
      throw ModelFileError(where + ": weight " + w.name + " has an implausible shape");
    }
    elements *= d;
  }
  w.stored = "float32";
  if (spec.contains("quantization")) {
    const auto& q = spec.at("quantization");
    w.stored = q.at("dtype").get<std::string>();
    if (w.stored == "uint8" || w.stored == "uint16") {
      w.min = q.at("min").get<double>();
      w.scale = q.at("scale").get<double>();
    } else if (w.stored != "float16") {
      throw ModelFileError(where + ": weight " + w.name + " is quantized as " + w.stored + " (not supported)");
    }
  }
  return w;
}

torch::Tensor dequantize(const KerasWeight& w, const char* data) {
  const auto options = torch::TensorOptions();
  auto raw = [&](torch::ScalarType type) {  // copied: a weight's offset in the file need not be aligned
    auto t = torch::empty(w.shape, options.dtype(type));
    std::memcpy(t.data_ptr(), data, static_cast<size_t>(w.bytes()));
    return t.to(torch::kFloat);
  };
  if (w.stored == "float32") return raw(torch::kFloat);
  if (w.stored == "float16") return raw(torch::kHalf);
  if (w.stored == "uint8") return raw(torch::kUInt8) * w.scale + w.min;
  // uint16: no unsigned 16-bit tensors in LibTorch 1.13; widen by hand (little-endian, as TensorFlow.js writes).
  const auto bytes = torch::from_blob(const_cast<char*>(data), {w.bytes()}, options.dtype(torch::kUInt8)).to(torch::kInt);
  const auto values = bytes.view({-1, 2}).select(1, 0) + bytes.view({-1, 2}).select(1, 1) * 256;
  return (values.to(torch::kFloat) * w.scale + w.min).view(w.shape);
}

// Keras "layer/kind" -> (the module's key, the weight in PyTorch's layout).
std::pair<std::string, torch::Tensor> to_torch(const std::string& name, torch::Tensor value) {
  const auto slash = name.rfind('/');
  if (slash == std::string::npos) return {name, value};
  const std::string layer = name.substr(0, slash), kind = name.substr(slash + 1);
  static const std::map<std::string, std::string> kKinds = {
      {"kernel", "weight"},       {"depthwise_kernel", "weight"},    {"bias", "bias"},          {"gamma", "weight"},
      {"beta", "bias"},           {"moving_mean", "running_mean"}, {"moving_variance", "running_var"}};
  const auto it = kKinds.find(kind);
  if (it == kKinds.end()) return {name, value};
  if (kind == "kernel" && value.dim() == 4) value = value.permute({3, 2, 0, 1});         // HWIO -> OIHW
  if (kind == "depthwise_kernel" && value.dim() == 4) value = value.permute({2, 3, 0, 1});  // HWC1 -> C1HW
  if (kind == "kernel" && value.dim() == 2) value = value.t();                            // [in,out] -> [out,in]
  return {layer + "." + it->second, value.contiguous()};
}

}  // namespace

void import_tfjs(MobileNetV2& net, const std::string& model_json) {
  const std::filesystem::path json_path(model_json);
  std::error_code error;
  const uintmax_t json_size = std::filesystem::file_size(json_path, error);
  if (error) throw ModelFileError("cannot read TensorFlow.js model '" + model_json + "': " + error.message());
  if (json_size > kMaxManifestBytes) throw ModelFileError("'" + model_json + "' is too large for a model.json");
  nlohmann::json model;
  try {
    model = nlohmann::json::parse(read_file(json_path, json_size, "TensorFlow.js model"));
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError("'" + model_json + "' is not a TensorFlow.js model: " + e.what());
  }

  auto targets = floating_weights(*net);
  size_t assigned = 0;
  torch::NoGradGuard no_grad;
  try {
    for (const auto& group : model.at("weightsManifest")) {
      std::vector<KerasWeight> weights;
      int64_t total = 0;
      for (const auto& spec : group.at("weights")) {
        weights.push_back(parse_weight(spec, model_json));
        total += weights.back().bytes();
      }
      // The group's files hold its weights back to back; their sizes must add up to the manifest's.
      std::string data;
      for (const auto& file : group.at("paths")) {
        const std::filesystem::path shard = json_path.parent_path() / file.get<std::string>();
        if (shard.filename().string() != file.get<std::string>()) {
          throw ModelFileError(model_json + ": weight file '" + file.get<std::string>() + "' is not beside it");
        }
        const uintmax_t size = std::filesystem::file_size(shard, error);
        if (error) throw ModelFileError("cannot read weight file '" + shard.string() + "': " + error.message());
        if (data.size() + size > static_cast<uintmax_t>(total)) {
          throw ModelFileError("weight file '" + shard.string() + "' holds more than the manifest describes");
        }
        data += read_file(shard, size, "weight file");
      }
      if (static_cast<int64_t>(data.size()) != total) {
        throw ModelFileError(model_json + ": the weight files hold " + std::to_string(data.size()) +
                             " bytes, the manifest describes " + std::to_string(total));
      }
      int64_t offset = 0;
      for (const KerasWeight& w : weights) {
        auto [key, value] = to_torch(w.name, dequantize(w, data.data() + offset));
        offset += w.bytes();
        torch::Tensor* target = targets.find(key);
        if (target == nullptr) throw ModelFileError(model_json + ": weight " + w.name + " is not MobileNetV2's");
        if (target->sizes() != value.sizes()) {
          throw ModelFileError(model_json + ": weight " + w.name + " has the wrong shape for " + key);
        }
        target->copy_(value);
        ++assigned;
      }
    }
  } catch (const nlohmann::json::exception& e) {
    throw ModelFileError("'" + model_json + "' is not a TensorFlow.js weights manifest: " + e.what());
  }
  if (assigned != targets.size()) {
    throw ModelFileError(model_json + ": " + std::to_string(assigned) + " weights assigned, MobileNetV2 has " +
                         std::to_string(targets.size()));
  }
}

namespace {
const char* kBackboneTag = "colorgan-backbone mobilenet_v2";
}

void save_backbone(const std::string& path, MobileNetV2& net) {
  torch::serialize::OutputArchive archive, weights;
  archive.write("format", c10::IValue(std::string(kBackboneTag)));
  net->save(weights);
  archive.write("network", weights);
  write_model_archive(archive, path);
}

MobileNetV2 load_backbone(const std::string& path) {
  torch::serialize::InputArchive archive;
  read_model_archive(path, archive);
  MobileNetV2 net;
  try {
    c10::IValue tag;
    if (!archive.try_read("format", tag) || !tag.isString() || tag.toStringRef() != kBackboneTag) {
      throw ModelFileError("'" + path + "' is not a colorgan backbone file");
    }
    torch::serialize::InputArchive weights;
    archive.read("network", weights);
    load_checked_weights(*net, weights, "backbone file '" + path + "'");
  } catch (const ModelFileError&) {
    throw;
  } catch (const std::exception& e) {
    throw ModelFileError("cannot load backbone file '" + path + "': " + first_line(e.what()));
  }
  net->eval();
  return net;
}

}  // namespace colorgan
