// The folded generator as an ONNX model (docs/INTEROP.md), from its
// FoldedGenerator::write_graph description. Built where libonnx-dev is present.
#pragma once

#include "colorgan/networks.h"

#include <string>

namespace colorgan {

// ONNX (opset 13, IR 8): inputs `y` [N,1,H,W] and `noise` (the model's noise
// shape), output `uv` [N,2,H,W]; N, H and W are dynamic (the encoder-decoder's
// sides must be multiples of its overall stride, onnx_side_multiple()).
// Checked by onnx's checker before it is written atomically to `path`.
void write_onnx(const FoldedGenerator& generator, const GeneratorConfig& config, const std::string& path);

// 2^(scales-1) for the encoder-decoder, 1 for the seed generator.
int64_t onnx_side_multiple(const GeneratorConfig& config);

}  // namespace colorgan
