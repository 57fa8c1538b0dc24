// The per-pixel kernels behind frames.h's raw-video entry points (internal:
// the elements see frames.h alone).
#pragma once

#include "colorgan/colorize_image.h"
#include "colorgan/frames.h"

namespace colorgan {

// Writes `out` (the size of `in`, a format with colour): luma from `y` (in's
// raw_luma; copied bit for bit from in where both are the same YUV format),
// chroma from `fit` sampled at out's chroma sites, through the convention's
// YUV -> RGB (keep-luma gamut mapping) and, for YUV out, RGB -> out's matrix
// and range. Rows in parallel. Throws std::invalid_argument for a GRAY output
// or mismatched sizes.
void write_colour(const RawImage& in, const float* y, const GuidedFit& fit, const RawImage& out);

}  // namespace colorgan
