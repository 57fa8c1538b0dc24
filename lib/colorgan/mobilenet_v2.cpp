#include "colorgan/mobilenet_v2.h"

#include <torch/nn/functional/padding.h>

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

// Inverted residual settings of MobileNetV2 (Sandler et al. 2018, table 2): expansion, channels, repeats, stride.
struct Stage {
  int64_t expansion, channels, repeats, stride;
};
constexpr Stage kStages[] = {{1, 16, 1, 1}, {6, 24, 2, 2},  {6, 32, 3, 2}, {6, 64, 4, 2},
                             {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}};

// Calls f(stage, repeat, input channels) for the first `blocks` blocks, in order.
template <class F>
void for_each_block(int blocks, const F& f) {
  int64_t in = 32, index = 0;
  for (const Stage& stage : kStages) {
    for (int64_t r = 0; r < stage.repeats && index < blocks; ++r, ++index) {
      f(stage, r, in);
      in = stage.channels;
    }
  }
}

}  // namespace

torch::Tensor pad_for_stride_2(const torch::Tensor& x) {
  const int64_t top = x.size(2) % 2, left = x.size(3) % 2;
  return F::pad(x, F::PadFuncOptions({left, 1, top, 1}));
}

int64_t mobilenet_v2_channels(int block) {
  int64_t channels = 32;
  for_each_block(block + 1, [&](const Stage& stage, int64_t, int64_t) { channels = stage.channels; });
  return channels;
}

double mobilenet_v2_flops(int64_t h, int64_t w, int blocks) {
  h = (h + 1) / 2;
  w = (w + 1) / 2;
  double flops = 2.0 * 3 * 32 * 9 * h * w;
  for_each_block(blocks, [&](const Stage& stage, int64_t r, int64_t in) {
    const int64_t hidden = in * stage.expansion;
    if (stage.expansion != 1) flops += 2.0 * in * hidden * h * w;
    if (r == 0 && stage.stride == 2) {
      h = (h + 1) / 2;
      w = (w + 1) / 2;
    }
    flops += 2.0 * hidden * 9 * h * w + 2.0 * hidden * stage.channels * h * w;
  });
  return flops;
}

MobileNetV2Impl::MobileNetV2Impl(int blocks) {
  TORCH_CHECK(blocks >= 1 && blocks <= kBlocks, "MobileNetV2 has 1..", kBlocks, " blocks");
  conv1_ = register_module("Conv1", conv(3, 32, 3, 2, 1, 0));
  conv1_bn_ = register_module("bn_Conv1", batch_norm(32));
  for_each_block(blocks, [&](const Stage& stage, int64_t r, int64_t in) {
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
  });
  if (blocks < kBlocks) return;
  conv_last_ = register_module("Conv_1", conv(blocks_.back().project->options.out_channels(), 1280, 1, 1, 1, 0));
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
  const int last_block = static_cast<int>(blocks_.size());  // tap of Conv_1, where built
  int deepest = -1;
  for (int tap : taps) {
    TORCH_CHECK(tap >= 0 && (tap < last_block || (tap == last_block && conv_last_)), "MobileNetV2 has no block ", tap);
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
  TORCH_CHECK(dense3_, "this MobileNetV2 is built without its classifier");
  TORCH_CHECK(rgb.size(2) == 224 && rgb.size(3) == 224, "MobileNetV2's classifier takes 224x224 input");
  torch::Tensor x = features(rgb, {static_cast<int>(blocks_.size())})[0];
  x = x.mean({2, 3});  // the 7x7 average pool
  x = torch::relu(dense1_(x));
  x = torch::relu(dense2_(x));
  return torch::softmax(dense3_(x), 1);
}

}  // namespace colorgan
