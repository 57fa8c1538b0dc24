// Colour space of colorgan: RGB in [0,1] <-> analog YUV (BT.601 luma weights)
// with U and V rescaled into [0,1]. See docs/ARCHITECTURE.md for the formulas.
#pragma once

#include <ATen/core/Tensor.h>

#include <algorithm>
#include <cstdint>

namespace colorgan {

// Version of the colour convention, stored in model files. Bump it if the
// formulas below ever change, so old models are refused instead of misread.
constexpr int kColourConventionVersion = 1;

// The convention's constants (docs/DESIGN.md): U = kUScale (B - Y) + 0.5,
// V = kVScale (R - Y) + 0.5; back, u = (U - 0.5) kUMax, v = (V - 0.5) kVMax.
constexpr double kUScale = 0.492 / (2 * 0.436);
constexpr double kVScale = 0.877 / (2 * 0.615);
constexpr double kUMax = 2 * 0.436;
constexpr double kVMax = 2 * 0.615;

// rgb: float tensor [..., 3, H, W] in [0,1] (any leading batch dims, any device).
// Returns [..., 3, H, W] holding Y, U, V; U and V are clipped to [0,1].
at::Tensor rgb_to_yuv(const at::Tensor& rgb);

// yuv: [..., 3, H, W] as produced by rgb_to_yuv. Returns RGB clipped to [0,1].
at::Tensor yuv_to_rgb(const at::Tensor& yuv);

// Like yuv_to_rgb, but where a colour would leave the RGB cube at its Y, its
// U,V are pulled toward gray (0.5) just enough to fit, instead of clipping
// R, G, B: Y is kept (up to the convention's rounded inverse coefficients,
// < 1e-4) and so is hue. In-gamut colours are unchanged.
at::Tensor yuv_to_rgb_keep_luma(const at::Tensor& yuv);

// The convention's (BT.601) luma of one pixel, in the units of r, g, b.
inline float luma_pixel(float r, float g, float b) { return 0.299f * r + 0.587f * g + 0.114f * b; }

// One pixel of rgb_to_yuv, for loops over frames (the same formulas in float).
inline void rgb_to_yuv_pixel(float r, float g, float b, float& y, float& u, float& v) {
  y = luma_pixel(r, g, b);
  u = std::min(1.0f, std::max(0.0f, (b - y) * static_cast<float>(kUScale) + 0.5f));
  v = std::min(1.0f, std::max(0.0f, (r - y) * static_cast<float>(kVScale) + 0.5f));
}

// One pixel of yuv_to_rgb_keep_luma, for loops over frames (the same formula in
// float; test_colorspace checks the two agree over the 8-bit cube).
inline void yuv_to_rgb_keep_luma_pixel(float y, float u, float v, float rgb[3]) {
  y = y < 0.0f ? 0.0f : (y > 1.0f ? 1.0f : y);
  const float du = (u - 0.5f) * static_cast<float>(kUMax), dv = (v - 0.5f) * static_cast<float>(kVMax);
  const float d[3] = {1.14f * dv, -0.395f * du - 0.581f * dv, 2.033f * du};
  float t = 1.0f;  // the largest t in [0,1] with 0 <= Y + t d <= 1 for every channel
  for (float di : d) {
    // How far the channel may move toward the face it heads for; >= 1 where it stays
    // inside. Selects, not branches, so that loops over pixels vectorize.
    const float room = di > 0.0f ? 1.0f - y : -y;
    const float limit = room / (di != 0.0f ? di : 1.0f);  // divides in every case: nothing to branch around
    t = std::min(t, di != 0.0f ? limit : 1.0f);
  }
  for (int c = 0; c < 3; ++c) rgb[c] = std::min(1.0f, std::max(0.0f, y + t * d[c]));
}

// A value in [0,1] (clamped) as the nearest 8-bit level; as cheap as a
// multiply, unlike std::nearbyint's library call (it rounds halves up).
inline uint8_t unit_to_byte(float unit) {
  return static_cast<uint8_t>(std::min(1.0f, std::max(0.0f, unit)) * 255.0f + 0.5f);
}

// BT.601 luma of RGB [..., 3, H, W] (the convention's Y): [..., H, W].
at::Tensor rgb_to_luma(const at::Tensor& rgb);

// 8-bit interleaved image [H, W, 3] (uint8) -> float [3, H, W] in [0,1].
at::Tensor rgb8_to_tensor(const at::Tensor& hwc);

// float [3, H, W] in [0,1] -> 8-bit interleaved [H, W, 3], rounded and clamped.
at::Tensor tensor_to_rgb8(const at::Tensor& chw);

}  // namespace colorgan
