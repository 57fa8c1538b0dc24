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

namespace F = torch::nn::functional;

// Keras' BatchNormalization default epsilon (PyTorch's is 1e-5).
constexpr double kKerasEpsilon = 1e-3;

torch::nn::Conv2d conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups, int64_t padding) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, kernel).stride(stride).groups(groups).padding(padding).bias(false));
}

torch::nn::BatchNorm2d batch_norm(int64_t channels) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).eps(kKerasEpsilon));
}

torch::Tensor clamp6(const torch::Tensor& x) { return x.clamp(0, 6); }  // Keras' ReLU(max_value=6)

// Keras' MobileNetV2 pads before each stride-2 conv, then runs it "valid" (its correct_pad):
// one row/column at the bottom/right of an even side, one on each side of an odd one.
// Outputs are ceil(side / 2), as "same" padding gives.
torch::Tensor pad_for_stride_2(const torch::Tensor& x) {
  const int64_t top = x.size(2) % 2, left = x.size(3) % 2;
  return F::pad(x, F::PadFuncOptions({left, 1, top, 1}));
}

// Inverted residual settings of MobileNetV2 (Sandler et al. 2018, table 2): expansion, channels, repeats, stride.
struct Stage {
  int64_t expansion, channels, repeats, stride;
};
constexpr Stage kStages[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                             {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};

}  // namespace

MobileNetV2Impl::MobileNetV2Impl() {
  conv1_ = register_module("Conv1", conv(3, 32, 3, 2, 1, 0));
  conv1_bn_ = register_module("bn_Conv1", batch_norm(32));
  int64_t in = 32;
  for (const Stage& stage : kStages) {
    for (int64_t r = 0; r < stage.repeats; ++r) {
      const std::string name = blocks_.empty() ? "expanded_conv" : "block_" + std::to_string(blocks_.size());
      Block block;
      block.stride = r == 0 ? stage.stride : 1;
      block.residual = block.stride == 1 && in == stage.channels;
      const int64_t hidden = in * stage.expansion;
      if (stage.expansion != 1) {
        block.expand = register_module(name + "_expand", conv(in, hidden, 1, 1, 1, 0));
        block.expand_bn = register_module(name + "_expand_BN", batch_norm(hidden));
      }
      block.depthwise = register_module(name + "_depthwise", conv(hidden, hidden, 3, block.stride, hidden,
                                                                   block.stride == 1 ? 1 : 0));
      block.depthwise_bn = register_module(name + "_depthwise_BN", batch_norm(hidden));
      block.project = register_module(name + "_project", conv(hidden, stage.channels, 1, 1, 1, 0));
      block.project_bn = register_module(name + "_project_BN", batch_norm(stage.channels));
      blocks_.push_back(block);
      in = stage.channels;
    }
  }
  conv_last_ = register_module("Conv_1", conv(in, 1280, 1, 1, 1, 0));
  conv_last_bn_ = register_module("Conv_1_bn", batch_norm(1280));
  dense1_ = register_module("dense_1", torch::nn::Linear(1280, 256));
  dense2_ = register_module("dense_2", torch::nn::Linear(256, 128));
  dense3_ = register_module("dense_3", torch::nn::Linear(128, 5));
}

torch::Tensor MobileNetV2Impl::run_block(Block& block, const torch::Tensor& x) {
  torch::Tensor h = x;
  if (block.expand) h = clamp6(block.expand_bn(block.expand(h)));
  if (block.stride == 2) h = pad_for_stride_2(h);
  h = clamp6(block.depthwise_bn(block.depthwise(h)));
  h = block.project_bn(block.project(h));
  return block.residual ? h + x : h;
}

std::vector<torch::Tensor> MobileNetV2Impl::features(const torch::Tensor& rgb, const std::vector<int>& taps) {
  TORCH_CHECK(rgb.dim() == 4 && rgb.size(1) == 3, "MobileNetV2 takes [N,3,H,W] RGB");
  const int last_block = static_cast<int>(blocks_.size());  // tap of Conv_1
  int deepest = -1;
  for (int tap : taps) {
    TORCH_CHECK(tap >= 0 && tap <= last_block, "MobileNetV2 has no block ", tap);
    deepest = std::max(deepest, tap);
  }
  std::map<int, torch::Tensor> found;
  torch::Tensor x = clamp6(conv1_bn_(conv1_(pad_for_stride_2(rgb))));
  for (int i = 0; i <= deepest; ++i) {
    x = i < last_block ? run_block(blocks_[static_cast<size_t>(i)], x) : clamp6(conv_last_bn_(conv_last_(x)));
    found[i] = x;
  }
  std::vector<torch::Tensor> out;
  for (int tap : taps) out.push_back(found.at(tap));
  return out;
}

torch::Tensor MobileNetV2Impl::classify(const torch::Tensor& rgb) {
  TORCH_CHECK(rgb.size(2) == 224 && rgb.size(3) == 224, "MobileNetV2's classifier takes 224x224 input");
  torch::Tensor x = features(rgb, {static_cast<int>(blocks_.size())})[0];
  x = x.mean({2, 3});  // the 7x7 average pool
  x = torch::relu(dense1_(x));
  x = torch::relu(dense2_(x));
  return torch::softmax(dense3_(x), 1);
}

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
