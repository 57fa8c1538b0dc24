// The per-pixel kernels behind frames.h's raw-video entry points (internal:
// the elements see frames.h alone).
#pragma once

#include "colorgan/colorize_image.h"
#include "colorgan/frames.h"

#include <array>
#include <cstdint>

namespace colorgan {

// Where a packed 8-bit format (GRAY8, the RGB family) keeps its channels.
struct PackedLayout {
  int bytes_per_pixel;
  std::array<int, 3> rgb_offsets;  // byte offset of R, G, B in a pixel
};
PackedLayout packed_layout(RawFormat format);

// One row of `width` pixels from Y,U,V floats into a packed RGB format: the
// convention's keep-luma conversion, rounded; padding/alpha bytes 255.
// `scratch` holds 3 * width bytes (the row as R, G, B planes first, so that the
// conversion vectorizes).
void pack_rgb_row(const float* y, const float* u, const float* v, int64_t width, const PackedLayout& layout,
                  uint8_t* scratch, uint8_t* out);

// Writes `out` (the size of `in`, a format with colour): luma from `y` (in's
// raw_luma; copied bit for bit from in where both are the same YUV format),
// chroma from `fit` sampled at out's chroma sites, through the convention's
// YUV -> RGB (keep-luma gamut mapping) and, for YUV out, RGB -> out's matrix
// and range. Rows in parallel. Throws std::invalid_argument for a GRAY output
// or mismatched sizes.
void write_colour(const RawImage& in, const float* y, const GuidedFit& fit, const RawImage& out);

}  // namespace colorgan
