// A pretrained image network for training losses: Keras' MobileNetV2 (width
// 1.0), with the weights that npm's nsfwjs ships (ImageNet-pretrained, its top
// fine-tuned by nsfwjs on five picture classes), converted from
// TensorFlow.js's format by `colorgan-model import-tfjs` (tools/fetch-backbone.sh).
#pragma once

#include "colorgan/mobilenet_v2.h"

#include <string>
#include <vector>

namespace colorgan {

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
