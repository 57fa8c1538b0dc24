// A pretrained image network for training losses: Keras' MobileNetV2 (width
// 1.0), with the weights that npm's nsfwjs ships (ImageNet-pretrained, its top
// fine-tuned by nsfwjs on five picture classes), converted from
// TensorFlow.js's format by `colorgan-model import-tfjs` (tools/fetch-backbone.sh).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

namespace colorgan {

class MobileNetV2Impl : public torch::nn::Module {
 public:
  // Modules are named as Keras names its layers (Conv1, bn_Conv1, block_3_expand, ...).
  MobileNetV2Impl();

  // rgb: [N,3,H,W] in [0,1] (nsfwjs's input scaling), any H,W. The outputs of
  // the blocks in `taps` (0 = expanded_conv, 1..16 = block_N, 17 = Conv_1 after
  // its ReLU6), in the order asked; runs no further than the last one.
  std::vector<torch::Tensor> features(const torch::Tensor& rgb, const std::vector<int>& taps);
  // The whole network on 224x224 input: nsfwjs's five class probabilities [N,5].
  torch::Tensor classify(const torch::Tensor& rgb);

 private:
  struct Block {
    torch::nn::Conv2d expand{nullptr}, depthwise{nullptr}, project{nullptr};
    torch::nn::BatchNorm2d expand_bn{nullptr}, depthwise_bn{nullptr}, project_bn{nullptr};
    int64_t stride;
    bool residual;
  };
  torch::Tensor run_block(Block& block, const torch::Tensor& x);

  torch::nn::Conv2d conv1_{nullptr}, conv_last_{nullptr};
  torch::nn::BatchNorm2d conv1_bn_{nullptr}, conv_last_bn_{nullptr};
  std::vector<Block> blocks_;  // expanded_conv, block_1 .. block_16
  torch::nn::Linear dense1_{nullptr}, dense2_{nullptr}, dense3_{nullptr};
};
TORCH_MODULE(MobileNetV2);

// Reads a TensorFlow.js layers model (model.json and the weight files its
// manifest names, in the same folder) of Keras' MobileNetV2 into `net`:
// uint8/uint16-quantized weights dequantized (min + scale * q), kernels HWIO ->
// OIHW, depthwise HWC1 -> C1HW, dense [in,out] -> [out,in]. Every weight of
// `net` must be present with the shape the layer needs; the files are checked
// against the manifest's sizes before anything is read. Throws ModelFileError.
void import_tfjs(MobileNetV2& net, const std::string& model_json);

// A converted backbone file: the model-file container (model_file.h) with
// format tag "colorgan-backbone" and the network's weights. Shapes are checked on load.
void save_backbone(const std::string& path, MobileNetV2& net);
MobileNetV2 load_backbone(const std::string& path);

}  // namespace colorgan
