// Keras' MobileNetV2 (width 1.0), the network of the pretrained weights colorgan
// uses (colorgan/backbone.h reads them): the pretrained-encoder generator's
// encoder and the trainer's feature loss.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <vector>

namespace colorgan {

class MobileNetV2Impl : public torch::nn::Module {
 public:
  static constexpr int kBlocks = 17;  // expanded_conv, block_1 .. block_16

  // Modules are named as Keras names its layers (Conv1, bn_Conv1, block_3_expand, ...).
  // `blocks` < kBlocks builds only Conv1 and the first `blocks` blocks (an encoder's
  // part of the network; no Conv_1, no classifier).
  explicit MobileNetV2Impl(int blocks = kBlocks);

  // rgb: [N,3,H,W] in [0,1] (nsfwjs's input scaling), any H,W. The outputs of
  // the blocks in `taps` (0 = expanded_conv, 1..16 = block_N, 17 = Conv_1 after
  // its ReLU6), in the order asked; runs no further than the last one.
  std::vector<torch::Tensor> features(const torch::Tensor& rgb, const std::vector<int>& taps);
  // The whole network on 224x224 input: nsfwjs's five class probabilities [N,5].
  torch::Tensor classify(const torch::Tensor& rgb);

  // An inverted residual block: 1x1 expansion (none in the first), 3x3 depthwise,
  // 1x1 linear projection; each conv with its batch norm, ReLU6 after the first two.
  struct Block {
    torch::nn::Conv2d expand{nullptr}, depthwise{nullptr}, project{nullptr};
    torch::nn::BatchNorm2d expand_bn{nullptr}, depthwise_bn{nullptr}, project_bn{nullptr};
    int64_t stride;
    bool residual;
  };
  // For folding into an inference copy (FoldedGenerator).
  const torch::nn::Conv2d& conv1() const { return conv1_; }
  const torch::nn::BatchNorm2d& conv1_bn() const { return conv1_bn_; }
  const std::vector<Block>& blocks() const { return blocks_; }

 private:
  torch::Tensor run_block(Block& block, const torch::Tensor& x);

  torch::nn::Conv2d conv1_{nullptr}, conv_last_{nullptr};
  torch::nn::BatchNorm2d conv1_bn_{nullptr}, conv_last_bn_{nullptr};
  std::vector<Block> blocks_;  // expanded_conv, block_1 .. block_16
  torch::nn::Linear dense1_{nullptr}, dense2_{nullptr}, dense3_{nullptr};
};
TORCH_MODULE(MobileNetV2);

// Keras' MobileNetV2 pads before each stride-2 conv, then runs it "valid" (its correct_pad):
// one row/column at the bottom/right of an even side, one on each side of an odd one.
// Outputs are ceil(side / 2), as "same" padding gives.
torch::Tensor pad_for_stride_2(const torch::Tensor& x);

// Output channels of block `block` (0 = expanded_conv), and multiply-adds x 2 of
// Conv1 and the first `blocks` blocks on an h x w input.
int64_t mobilenet_v2_channels(int block);
double mobilenet_v2_flops(int64_t h, int64_t w, int blocks);

}  // namespace colorgan
