#include "colorgan/colorspace.h"
#include "colorgan/frames.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <vector>

using namespace colorgan;

namespace {

// Expected values worked out by hand from docs/DESIGN.md's formulas:
// U = 0.492 (B - Y) / 0.872 + 0.5, V = 0.877 (R - Y) / 1.23 + 0.5.
struct Known {
  float r, g, b, y, u, v;
};
const Known kKnown[] = {
    {1, 0, 0, 0.299f, 0.331298f, 0.999819f},  // red: U = 0.5 - 0.492*0.299/0.872
    {0, 1, 0, 0.587f, 0.168803f, 0.081464f},  // green
    {0, 0, 1, 0.114f, 0.999899f, 0.418717f},  // blue
    {1, 1, 1, 1.000f, 0.5f, 0.5f},            // white: no chroma
    {0, 0, 0, 0.000f, 0.5f, 0.5f},            // black
};

}  // namespace

TEST(ColourSpace, KnownColoursMatchTheConvention) {
  for (const auto& k : kKnown) {
    auto yuv = rgb_to_yuv(at::tensor({k.r, k.g, k.b}).view({3, 1, 1}));
    EXPECT_NEAR(yuv[0].item<float>(), k.y, 1e-5) << k.r << k.g << k.b;
    EXPECT_NEAR(yuv[1].item<float>(), k.u, 1e-5) << k.r << k.g << k.b;
    EXPECT_NEAR(yuv[2].item<float>(), k.v, 1e-5) << k.r << k.g << k.b;
  }
}

TEST(ColourSpace, WorksOnBatchesAndInvertsToTheSameRgb) {
  auto rgb = at::rand({4, 3, 5, 7});
  auto yuv = rgb_to_yuv(rgb);
  ASSERT_EQ(yuv.sizes(), rgb.sizes());
  EXPECT_LT((yuv_to_rgb(yuv) - rgb).abs().max().item<float>(), 2e-3);
  // Each batch item is converted on its own.
  EXPECT_TRUE(at::allclose(yuv[2], rgb_to_yuv(rgb[2])));
}

TEST(ColourSpace, ClipsChromaOfOutOfGamutInput) {
  // Brighter-than-white blue (e.g. HDR input) would push U above 1: it is clipped.
  auto yuv = rgb_to_yuv(at::tensor({0.0f, 0.0f, 3.0f}).view({3, 1, 1}));
  EXPECT_FLOAT_EQ(yuv[1].item<float>(), 1.0f);
  auto low = rgb_to_yuv(at::tensor({0.0f, 3.0f, 0.0f}).view({3, 1, 1}));
  EXPECT_FLOAT_EQ(low[1].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(low[2].item<float>(), 0.0f);
}

TEST(ColourSpace, EightBitRoundTripWithinOneLevelOverTheWholeCube) {
  // Within the RGB gamut the U,V clip never bites (max |U-0.5| = 0.49990), so
  // every 8-bit colour must come back within one level. Steps of 3 include 0 and 255.
  auto levels = at::arange(0, 256, 3, at::kByte);
  auto grid = at::meshgrid({levels, levels, levels}, "ij");
  auto hwc = at::stack({grid[0].flatten(), grid[1].flatten(), grid[2].flatten()}, 1).unsqueeze(0);
  auto back = tensor_to_rgb8(yuv_to_rgb(rgb_to_yuv(rgb8_to_tensor(hwc.contiguous()))));
  auto diff = (back.to(at::kInt) - hwc.to(at::kInt)).abs();
  EXPECT_LE(diff.max().item<int>(), 1);
  EXPECT_GT(diff.numel(), 250000);
}

TEST(ColourSpace, KeepLumaConversionFitsOutOfGamutChromaWithoutTouchingY) {
  // In gamut: identical to the plain inverse. Strictly inside it: the inverse's
  // rounded coefficients can take a colour at 0 or 1 a hair outside, where the
  // plain inverse clips and this one scales the chroma (unseeded, 1.5% of runs failed).
  at::manual_seed(7);
  auto rgb = 0.05 + 0.9 * at::rand({3, 6, 6});
  auto yuv = rgb_to_yuv(rgb);
  EXPECT_TRUE(at::allclose(yuv_to_rgb_keep_luma(yuv), yuv_to_rgb(yuv), 1e-6, 1e-6));
  // Dark pixel with strong chroma: the plain inverse clips and raises/lowers Y; this one keeps Y.
  auto wild = at::tensor({0.1f, 0.95f, 0.9f}).view({3, 1, 1});
  auto kept = yuv_to_rgb_keep_luma(wild);
  const float y = (0.299 * kept[0] + 0.587 * kept[1] + 0.114 * kept[2]).item<float>();
  EXPECT_NEAR(y, 0.1f, 1e-4);  // the convention's rounded inverse coefficients move Y by < 1e-4
  EXPECT_GE(kept.min().item<float>(), 0.0f);
  EXPECT_LE(kept.max().item<float>(), 1.0f);
  auto clipped = yuv_to_rgb(wild);
  EXPECT_GT(std::abs((0.299 * clipped[0] + 0.587 * clipped[1] + 0.114 * clipped[2]).item<float>() - 0.1f), 0.01f);
  // Hue is kept: the chroma direction is the same, only shorter.
  auto back = rgb_to_yuv(kept);
  const float du = back[1].item<float>() - 0.5f, dv = back[2].item<float>() - 0.5f;
  EXPECT_NEAR(du / dv, (0.95f - 0.5f) / (0.9f - 0.5f), 1e-3);
}

TEST(ColourSpace, RejectsWrongShapes) {
  EXPECT_THROW(rgb_to_yuv(at::rand({2, 4, 4})), std::invalid_argument);
  EXPECT_THROW(yuv_to_rgb(at::rand({4})), std::invalid_argument);
  EXPECT_THROW(rgb8_to_tensor(at::zeros({4, 4, 3})), std::invalid_argument);  // float, not uint8
}

TEST(Frames, EveryPackedLayoutGivesTheSamePlanesAndHonoursStride) {
  const int w = 3, h = 2;
  auto rgb = (at::rand({h, w, 3}) * 255).to(at::kByte);
  std::vector<float> reference(3 * w * h);
  struct Case {
    RawFormat layout;
    int bpp;
    int r, g, b;
  };
  const Case cases[] = {{RawFormat::RGB, 3, 0, 1, 2},  {RawFormat::BGR, 3, 2, 1, 0},
                        {RawFormat::RGBx, 4, 0, 1, 2}, {RawFormat::BGRx, 4, 2, 1, 0},
                        {RawFormat::RGBA, 4, 0, 1, 2}, {RawFormat::BGRA, 4, 2, 1, 0}};
  bool first = true;
  for (const auto& c : cases) {
    const int stride = w * c.bpp + 5;  // padded rows, as GStreamer may deliver
    std::vector<uint8_t> packed(stride * h, 7);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        packed[y * stride + x * c.bpp + c.r] = rgb[y][x][0].item<uint8_t>();
        packed[y * stride + x * c.bpp + c.g] = rgb[y][x][1].item<uint8_t>();
        packed[y * stride + x * c.bpp + c.b] = rgb[y][x][2].item<uint8_t>();
      }
    }
    std::vector<float> planes(3 * w * h);
    packed_to_yuv_planes({packed.data(), w, h, stride, c.layout}, planes.data());
    if (first) {
      reference = planes;
      auto expected = rgb_to_yuv(rgb8_to_tensor(rgb));
      EXPECT_TRUE(at::allclose(at::from_blob(planes.data(), {3, h, w}), expected, 1e-6, 1e-6));
      first = false;
    }
    EXPECT_EQ(planes, reference) << static_cast<int>(c.layout);

    std::vector<uint8_t> out(stride * h, 0);
    yuv_planes_to_packed(planes.data(), {out.data(), w, h, stride, c.layout});
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        for (int ch : {c.r, c.g, c.b}) {
          EXPECT_NEAR(out[y * stride + x * c.bpp + ch], packed[y * stride + x * c.bpp + ch], 1);
        }
        if (c.bpp == 4) {
          EXPECT_EQ(out[y * stride + x * c.bpp + 3], 255);
        }
      }
      EXPECT_EQ(out[y * stride + w * c.bpp], 0) << "wrote into row padding";
    }
  }
}

TEST(ColourSpace, ThePixelFormOfKeepLumaAgreesWithTheTensorForm) {
  // Every 8-bit Y with a 33x33 grid of U,V (in and far out of gamut): the
  // per-pixel loop the elements use and the tensor form give the same 8-bit RGB
  // within one level (float rounding at the .5 boundaries).
  auto steps = at::linspace(0, 1, 33);
  auto grid = at::meshgrid({at::arange(256, at::kFloat) / 255.0, steps, steps}, "ij");
  auto yuv = at::stack({grid[0].flatten(), grid[1].flatten(), grid[2].flatten()}).view({3, 1, -1});
  const auto expected_t = yuv_to_rgb_keep_luma(yuv).mul(255).round().view({3, -1}).contiguous();
  const auto flat_t = yuv.view({3, -1}).contiguous();
  const auto expected = expected_t.accessor<float, 2>();
  const auto flat = flat_t.accessor<float, 2>();
  float worst = 0;
  for (int64_t i = 0; i < flat.size(1); ++i) {
    float rgb[3];
    yuv_to_rgb_keep_luma_pixel(flat[0][i], flat[1][i], flat[2][i], rgb);
    for (int c = 0; c < 3; ++c) worst = std::max(worst, std::abs(std::nearbyint(rgb[c] * 255) - expected[c][i]));
  }
  EXPECT_LE(worst, 1.0f);
}

TEST(Frames, GrayIsTheLumaPlaneAlone) {
  const int w = 4, h = 3, stride = 8;
  std::vector<uint8_t> gray(stride * h);
  for (size_t i = 0; i < gray.size(); ++i) gray[i] = static_cast<uint8_t>(i * 9);
  std::vector<float> y(w * h);
  packed_to_yuv_planes({gray.data(), w, h, stride, RawFormat::GRAY8}, y.data());
  EXPECT_FLOAT_EQ(y[1 * w + 2], gray[1 * stride + 2] / 255.0f);
  std::vector<uint8_t> back(stride * h, 0);
  yuv_planes_to_packed(y.data(), {back.data(), w, h, stride, RawFormat::GRAY8});
  for (int r = 0; r < h; ++r) {
    for (int c = 0; c < w; ++c) {
      EXPECT_EQ(back[r * stride + c], gray[r * stride + c]);
    }
  }
}

TEST(Frames, I420IsLimitedRangeWithAveragedChromaAndOddSizes) {
  const int w = 3, h = 3;  // odd: chroma planes are 2x2
  // Gray frame (U = V = 0.5) with Y = 0 and 1: Y' = 16 and 235, Cb = Cr = 128.
  std::vector<float> planes(3 * w * h, 0.5f);
  for (int i = 0; i < w * h; ++i) planes[i] = (i % 2) ? 1.0f : 0.0f;
  std::vector<uint8_t> y(4 * h), u(2 * 2), v(2 * 2);
  yuv_planes_to_i420(planes.data(), w, h, {y.data(), u.data(), v.data(), 4, 2, 2});
  EXPECT_EQ(y[0], 16);
  EXPECT_EQ(y[1], 235);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(u[i], 128);
    EXPECT_EQ(v[i], 128);
  }
  // Pure red: Cr = 128 + 224 * 0.701 / 1.402 = 240, Cb = 128 - 224 * 0.299 / 1.772 = 90.2.
  auto red = rgb_to_yuv(at::tensor({1.0f, 0.0f, 0.0f}).view({3, 1, 1}).expand({3, h, w}).contiguous());
  yuv_planes_to_i420(red.contiguous().data_ptr<float>(), w, h, {y.data(), u.data(), v.data(), 4, 2, 2});
  EXPECT_EQ(y[0], 81);  // 16 + 219 * 0.299 = 81.48
  EXPECT_NEAR(u[3], 90, 1);
  EXPECT_NEAR(v[3], 240, 1);
}
