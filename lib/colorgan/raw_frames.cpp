#include "colorgan/raw_frames.h"

#include "colorgan/colorspace.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace colorgan {
namespace {

enum class Family { Gray, Rgb, Yuv };

struct FormatInfo {
  Family family;
  int bits;
  int chroma_step;                     // YUV: 1 (4:4:4) or 2 (4:2:0)
  bool interleaved_chroma;             // NV12, P010: one UV plane
  int shift;                           // P010: samples in the high bits
  int bytes_per_pixel;                 // packed RGB and GRAY: per pixel; YUV: per sample
  std::array<int, 3> rgb_offsets;      // packed RGB: byte offset of R, G, B
};

FormatInfo info(RawFormat format) {
  switch (format) {
    case RawFormat::GRAY8: return {Family::Gray, 8, 1, false, 0, 1, {}};
    case RawFormat::GRAY16_LE: return {Family::Gray, 16, 1, false, 0, 2, {}};
    case RawFormat::RGB: return {Family::Rgb, 8, 1, false, 0, 3, {0, 1, 2}};
    case RawFormat::BGR: return {Family::Rgb, 8, 1, false, 0, 3, {2, 1, 0}};
    case RawFormat::RGBx:
    case RawFormat::RGBA: return {Family::Rgb, 8, 1, false, 0, 4, {0, 1, 2}};
    case RawFormat::BGRx:
    case RawFormat::BGRA: return {Family::Rgb, 8, 1, false, 0, 4, {2, 1, 0}};
    case RawFormat::I420: return {Family::Yuv, 8, 2, false, 0, 1, {}};
    case RawFormat::NV12: return {Family::Yuv, 8, 2, true, 0, 1, {}};
    case RawFormat::Y444: return {Family::Yuv, 8, 1, false, 0, 1, {}};
    case RawFormat::I420_10LE: return {Family::Yuv, 10, 2, false, 0, 2, {}};
    case RawFormat::P010_10LE: return {Family::Yuv, 10, 2, true, 6, 2, {}};
    case RawFormat::Y444_16LE: return {Family::Yuv, 16, 1, false, 0, 2, {}};
  }
  throw std::invalid_argument("unknown raw format");
}

// Code values of a YUV plane <-> the unit range: Y in [0,1], Cb/Cr in [-0.5,0.5].
struct YuvCoding {
  float y_offset, y_scale, c_offset, c_scale, max;

  YuvCoding(int bits, bool full_range) {
    const float k = static_cast<float>(1 << (bits - 8));  // 8-bit codes scaled to the depth
    max = static_cast<float>((1 << bits) - 1);
    c_offset = static_cast<float>(1 << (bits - 1));
    if (full_range) {
      y_offset = 0.0f;
      y_scale = c_scale = max;
    } else {
      y_offset = 16.0f * k;
      y_scale = 219.0f * k;
      c_scale = 224.0f * k;
    }
  }
  float code(float value) const { return std::min(max, std::max(0.0f, value)) + 0.5f; }  // rounds when truncated
};

uint32_t sample(const uint8_t* row, int64_t i, const FormatInfo& f) {
  if (f.bytes_per_pixel == 1) return row[i];
  uint16_t v;
  std::memcpy(&v, row + 2 * i, 2);  // little-endian machines only (as GStreamer's _LE formats here)
  return v >> f.shift;
}

void put(uint8_t* row, int64_t i, float code, const FormatInfo& f) {
  const auto v = static_cast<uint32_t>(code);
  if (f.bytes_per_pixel == 1) {
    row[i] = static_cast<uint8_t>(v);
    return;
  }
  const auto word = static_cast<uint16_t>(v << f.shift);
  std::memcpy(row + 2 * i, &word, 2);
}

uint8_t* row_of(const RawImage& image, int plane, int64_t row) {
  return image.planes[plane] + row * image.strides[plane];
}

// The chroma plane rows' samples: U in plane 1 and V in plane 2, or both interleaved in plane 1.
void put_chroma(const RawImage& out, const FormatInfo& f, int64_t row, int64_t x, float cb, float cr) {
  if (f.interleaved_chroma) {
    uint8_t* uv = row_of(out, 1, row);
    put(uv, 2 * x, cb, f);
    put(uv, 2 * x + 1, cr, f);
  } else {
    put(row_of(out, 1, row), x, cb, f);
    put(row_of(out, 2, row), x, cr, f);
  }
}

}  // namespace

PackedLayout packed_layout(RawFormat format) {
  const FormatInfo f = info(format);
  if (f.family == Family::Yuv || f.bits != 8) throw std::invalid_argument("not a packed 8-bit format");
  return {f.bytes_per_pixel, f.rgb_offsets};
}

// __restrict: the bytes could otherwise alias the floats, and the loops would not vectorize.
// Cloned for AVX512 and AVX2: the gamut mapping's three divisions per pixel are most of a
// 720p frame's conversion, and x86-64's baseline SSE2 does them 4 at a time.
__attribute__((target_clones("avx512f", "avx2", "default"))) void pack_rgb_row(
    const float* __restrict y, const float* __restrict u, const float* __restrict v, int64_t width,
    const PackedLayout& layout, uint8_t* __restrict scratch, uint8_t* __restrict out) {
  for (int64_t x = 0; x < width; ++x) {
    float pixel[3];
    yuv_to_rgb_keep_luma_pixel(y[x], u[x], v[x], pixel);
    for (int c = 0; c < 3; ++c) scratch[c * width + x] = unit_to_byte(pixel[c]);
  }
  const auto& offsets = layout.rgb_offsets;
  if (layout.bytes_per_pixel == 4) {  // whole little-endian words, alpha/padding byte last: vectorizes
    for (int64_t x = 0; x < width; ++x) {
      const uint32_t word = uint32_t{scratch[x]} << (8 * offsets[0]) | uint32_t{scratch[width + x]} << (8 * offsets[1]) |
                            uint32_t{scratch[2 * width + x]} << (8 * offsets[2]) | 0xff000000u;
      std::memcpy(out + 4 * x, &word, 4);
    }
    return;
  }
  for (int64_t x = 0; x < width; ++x, out += layout.bytes_per_pixel) {
    for (int c = 0; c < 3; ++c) out[offsets[c]] = scratch[c * width + x];
  }
}

void raw_luma(const RawImage& in, float* y) {
  const FormatInfo f = info(in.format);
  const YuvCoding coding(f.bits, in.matrix.full_range);
  const float gray_max = static_cast<float>((1u << f.bits) - 1);
  at::parallel_for(0, in.height, 16, [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
      const uint8_t* src = row_of(in, 0, r);
      float* dst = y + r * in.width;
      switch (f.family) {
        case Family::Gray:
          for (int64_t x = 0; x < in.width; ++x) dst[x] = static_cast<float>(sample(src, x, f)) / gray_max;
          break;
        case Family::Yuv:
          for (int64_t x = 0; x < in.width; ++x) {
            const float unit = (static_cast<float>(sample(src, x, f)) - coding.y_offset) / coding.y_scale;
            dst[x] = std::min(1.0f, std::max(0.0f, unit));
          }
          break;
        case Family::Rgb:
          for (int64_t x = 0; x < in.width; ++x) {
            const uint8_t* p = src + x * f.bytes_per_pixel;
            dst[x] = luma_pixel(p[f.rgb_offsets[0]], p[f.rgb_offsets[1]], p[f.rgb_offsets[2]]) / 255.0f;
          }
          break;
      }
    }
  });
}

void write_colour(const RawImage& in, const float* y, const GuidedFit& fit, const RawImage& out) {
  const FormatInfo fo = info(out.format);
  if (fo.family == Family::Gray) throw std::invalid_argument("a GRAY output cannot hold colour");
  if (in.width != out.width || in.height != out.height) {
    throw std::invalid_argument("the output frame is not the input's size");
  }
  const int64_t width = out.width, height = out.height;

  if (fo.family == Family::Rgb) {
    const FitSampler sampler(fit, width, height);
    const PackedLayout layout = packed_layout(out.format);
    at::parallel_for(0, height, 16, [&](int64_t first, int64_t last) {
      std::vector<float> u(width), v(width);
      std::vector<uint8_t> scratch(3 * width);
      for (int64_t r = first; r < last; ++r) {
        const float* luma = y + r * width;
        sampler.row(r, luma, u.data(), v.data());
        pack_rgb_row(luma, u.data(), v.data(), width, layout, scratch.data(), row_of(out, 0, r));
      }
    });
    return;
  }

  // YUV: the Y plane first, copied where the layouts agree, else coded from the luma.
  const YuvCoding coding(fo.bits, out.matrix.full_range);
  const bool same_luma = in.format == out.format && in.matrix.full_range == out.matrix.full_range;
  at::parallel_for(0, height, 64, [&](int64_t first, int64_t last) {
    for (int64_t r = first; r < last; ++r) {
      uint8_t* dst = row_of(out, 0, r);
      if (same_luma) {
        std::memcpy(dst, row_of(in, 0, r), width * fo.bytes_per_pixel);
        continue;
      }
      const float* luma = y + r * width;
      for (int64_t x = 0; x < width; ++x) put(dst, x, coding.code(coding.y_offset + luma[x] * coding.y_scale), fo);
    }
  });

  // Chroma at its sites: the block's mean luma guides the fit, and Cb, Cr are
  // the colour differences of the convention's RGB in out's matrix, so a
  // decoder of that matrix gets R and B back exactly (and G up to the weights).
  const int step = fo.chroma_step;
  const FitSampler sampler(fit, width, height, step);
  const float cb_scale = 1.0f / (2.0f * (1.0f - out.matrix.kb)), cr_scale = 1.0f / (2.0f * (1.0f - out.matrix.kr));
  at::parallel_for(0, sampler.height(), 16, [&](int64_t first, int64_t last) {
    const int64_t cw = sampler.width();
    std::vector<float> guide(cw), u(cw), v(cw);
    for (int64_t r = first; r < last; ++r) {
      const float* top = y + (r * step) * width;
      const float* bottom = y + std::min(r * step + step - 1, height - 1) * width;
      for (int64_t x = 0; x < cw; ++x) {
        if (step == 1) {
          guide[x] = top[x];
          continue;
        }
        const int64_t x1 = std::min(2 * x + 1, width - 1);
        guide[x] = 0.25f * (top[2 * x] + top[x1] + bottom[2 * x] + bottom[x1]);
      }
      sampler.row(r, guide.data(), u.data(), v.data());
      for (int64_t x = 0; x < cw; ++x) {
        float rgb[3];
        yuv_to_rgb_keep_luma_pixel(guide[x], u[x], v[x], rgb);
        const float cb = (rgb[2] - guide[x]) * cb_scale, cr = (rgb[0] - guide[x]) * cr_scale;
        put_chroma(out, fo, r, x, coding.code(coding.c_offset + cb * coding.c_scale),
                   coding.code(coding.c_offset + cr * coding.c_scale));
      }
    }
  });
}

}  // namespace colorgan
