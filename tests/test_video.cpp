// Video helpers: guided chroma upsampling, the temporal stabiliser, the flicker
// metric, and the plane colorizer's batching and per-stream noise.
#include "colorgan/colorize_image.h"
#include "colorgan/frames.h"
#include "colorgan/video.h"

#include "test_support.h"

#include <gtest/gtest.h>
#include <iostream>
#include <torch/torch.h>

using namespace colorgan;

namespace {

// A 512x384 frame split by a vertical luma edge at column `edge` (not on the
// 8x working grid, as a 720p frame run at 64 px is 11x): dark and one colour on the left, bright and another on the right.
struct EdgeFrame {
  static constexpr int64_t h = 384, w = 512, edge = 261;
  torch::Tensor y = torch::full({1, 1, h, w}, 0.3f);
  torch::Tensor uv = torch::empty({1, 2, h, w});
  EdgeFrame() {
    y.narrow(3, edge, w - edge).fill_(0.7f);
    uv[0][0].fill_(0.40f);
    uv[0][1].fill_(0.60f);
    uv[0][0].narrow(1, edge, w - edge).fill_(0.62f);
    uv[0][1].narrow(1, edge, w - edge).fill_(0.42f);
  }
};

// Distance from the edge of the farthest column where U is off by more than a
// tenth of the step between the two colours.
int64_t smear_px(const torch::Tensor& u, const EdgeFrame& f) {
  const auto wrong = ((u - f.uv[0][0]).abs() > 0.1 * 0.22).any(0);  // per column
  int64_t farthest = 0;
  for (int64_t x = 0; x < f.w; ++x) {
    if (!wrong[x].item<bool>()) continue;
    farthest = std::max(farthest, x < f.edge ? f.edge - 1 - x : x - f.edge);
  }
  return farthest;
}

}  // namespace

TEST(GuidedUpsampling, ColourEdgeFollowsTheLumaEdgeWhereBicubicSmearsIt) {
  EdgeFrame f;
  const auto y_low = at::adaptive_avg_pool2d(f.y, {48, 64});
  const auto uv_low = at::adaptive_avg_pool2d(f.uv, {48, 64});
  const auto guided = upsample_chroma(uv_low, y_low, f.y, ChromaUpsampling::Guided);
  const auto bicubic = upsample_chroma(uv_low, y_low, f.y, ChromaUpsampling::Bicubic);
  ASSERT_EQ(guided.sizes(), f.uv.sizes());
  const int64_t guided_smear = smear_px(guided[0][0], f), bicubic_smear = smear_px(bicubic[0][0], f);
  std::cout << "colour smear beyond the luma edge: guided " << guided_smear << " px, bicubic " << bicubic_smear
            << " px\n";
  EXPECT_LE(guided_smear, 2) << "guided: colour boundary within 2 px of the luma edge";
  EXPECT_GT(bicubic_smear, 2) << "bicubic smears it further (" << bicubic_smear << " px)";
  // Away from the edge both give the flat colours back.
  EXPECT_NEAR(guided[0][1][10][10].item<float>(), 0.60f, 1e-3);
  EXPECT_NEAR(guided[0][1][10][500].item<float>(), 0.42f, 1e-3);
}

TEST(GuidedUpsampling, SameSizeIsUntouchedAndOutputStaysInRange) {
  auto y = torch::rand({2, 1, 20, 30}), uv = torch::rand({2, 2, 20, 30});
  EXPECT_TRUE(torch::equal(upsample_chroma(uv, y, y), uv));
  auto up = upsample_chroma(uv, y, torch::rand({2, 1, 77, 101}));
  EXPECT_EQ(up.sizes(), (std::vector<int64_t>{2, 2, 77, 101}));
  EXPECT_GE(up.min().item<float>(), 0.0f);
  EXPECT_LE(up.max().item<float>(), 1.0f);
  EXPECT_THROW(parse_chroma_upsampling("nearest"), std::invalid_argument);
}

TEST(Stabilizer, OffIsTheIdentity) {
  ChromaStabilizer off;
  auto y = torch::rand({1, 8, 8}), a = torch::rand({2, 8, 8}), b = torch::rand({2, 8, 8});
  off.apply(y, a);
  EXPECT_TRUE(torch::equal(off.apply(y, b), b));
}

TEST(Stabilizer, StillPixelsBlendMovingPixelsKeepTheirColour) {
  ChromaStabilizer stabilizer(StabilizerOptions{0.8});
  auto y = torch::full({1, 16, 16}, 0.5f);
  auto first = torch::full({2, 16, 16}, 0.4f), second = torch::full({2, 16, 16}, 0.6f);
  stabilizer.apply(y, first);
  auto moved = y.clone();
  moved.narrow(2, 12, 4).fill_(0.9f);  // a quarter changed by 0.4: motion, not a cut
  const auto out = stabilizer.apply(moved, second);
  // Away from the change: 0.8 * 0.4 + 0.2 * 0.6.
  EXPECT_NEAR(out[0][4][2].item<float>(), 0.44f, 1e-5);
  // Where it moved: the new colour.
  EXPECT_NEAR(out[1][4][14].item<float>(), 0.6f, 1e-6);
  EXPECT_EQ(stabilizer.scene_cuts(), 0);
}

TEST(Stabilizer, ResetsOnSceneCutsSizeChangesAndRequest) {
  ChromaStabilizer stabilizer(StabilizerOptions{0.9});
  auto dark = torch::full({1, 8, 8}, 0.1f), bright = torch::full({1, 8, 8}, 0.8f);
  auto a = torch::full({2, 8, 8}, 0.3f), b = torch::full({2, 8, 8}, 0.7f);
  stabilizer.apply(dark, a);
  EXPECT_TRUE(torch::equal(stabilizer.apply(bright, b), b)) << "a cut starts afresh";
  EXPECT_EQ(stabilizer.scene_cuts(), 1);
  EXPECT_TRUE(torch::equal(stabilizer.apply(torch::full({1, 4, 4}, 0.8f), torch::full({2, 4, 4}, 0.2f)),
                           torch::full({2, 4, 4}, 0.2f)));
  stabilizer.reset();
  EXPECT_TRUE(torch::equal(stabilizer.apply(bright, a), a));
}

TEST(Flicker, ByHandOverStillPixelsOnly) {
  FlickerMeter meter(0.02);
  auto f1 = torch::full({3, 2, 2}, 0.5f);
  auto f2 = f1.clone();
  f2[1].fill_(0.6f);              // U +0.1 everywhere
  f2[0][0][0] = 0.9f;             // one pixel's luma moved: not counted
  f2[2][0][0] = 1.0f;             // (its V change is ignored)
  meter.add(f1);
  EXPECT_EQ(meter.mean(), 0.0);
  meter.add(f2);
  EXPECT_EQ(meter.pixels(), 3);
  EXPECT_NEAR(meter.mean(), (0.1 + 0.0) / 2, 1e-6);  // mean of |dU| and |dV|
}

class PlaneColorizerTest : public ::testing::Test {
 protected:
  std::string dir = colorgan::testing::make_temp_dir("planes");
  std::string model = colorgan::testing::write_test_model(dir);
  PlaneColorizerOptions options(double smoothing) {
    PlaneColorizerOptions o;
    o.model_path = model;
    o.device = "cpu";
    o.threads = 1;
    o.temporal_smoothing = smoothing;
    return o;
  }
};

TEST_F(PlaneColorizerTest, BatchEqualsFrameByFrameAndNoiseIsFixedPerStream) {
  const int w = 40, h = 30, n = w * h, count = 3;
  auto ys = torch::rand({count, n});
  ys[2].copy_(ys[0]);
  auto batch_u = torch::empty({count, n}), batch_v = torch::empty({count, n});
  auto one_u = torch::empty({count, n}), one_v = torch::empty({count, n});
  PlaneColorizer batched(options(0.5)), single(options(0.5));
  std::vector<PlaneFrame> frames;
  for (int i = 0; i < count; ++i) {
    frames.push_back({ys[i].data_ptr<float>(), nullptr, batch_u[i].data_ptr<float>(), batch_v[i].data_ptr<float>()});
    single.colorize(ys[i].data_ptr<float>(), nullptr, one_u[i].data_ptr<float>(), one_v[i].data_ptr<float>(), w, h);
  }
  batched.colorize(frames.data(), count, w, h);
  EXPECT_TRUE(torch::allclose(batch_u, one_u, 1e-5, 1e-6));
  EXPECT_TRUE(torch::allclose(batch_v, one_v, 1e-5, 1e-6));

  PlaneColorizer independent(options(0.0));
  auto u0 = torch::empty({n}), v0 = torch::empty({n}), u2 = torch::empty({n}), v2 = torch::empty({n});
  independent.colorize(ys[0].data_ptr<float>(), nullptr, u0.data_ptr<float>(), v0.data_ptr<float>(), w, h);
  independent.colorize(ys[1].data_ptr<float>(), nullptr, u2.data_ptr<float>(), v2.data_ptr<float>(), w, h);
  independent.colorize(ys[2].data_ptr<float>(), nullptr, u2.data_ptr<float>(), v2.data_ptr<float>(), w, h);
  EXPECT_TRUE(torch::equal(u0, u2)) << "the same frame later in the stream: the same noise, the same colours";
  EXPECT_TRUE(torch::equal(v0, v2));
}

TEST_F(PlaneColorizerTest, BadOptionsAreClearErrors) {
  auto o = options(1.5);
  EXPECT_THROW(PlaneColorizer{o}, std::invalid_argument);
}

TEST(GuidedUpsampling, TheOnePassFormMatchesTheTensorForm) {
  // Frames of odd sizes and ratios, from a working size that does not divide them.
  torch::manual_seed(7);
  for (auto [h, w, lh, lw] : {std::tuple{45, 80, 9, 16}, std::tuple{1080, 1920, 64, 114}, std::tuple{7, 3, 5, 2}}) {
    const auto y_full = torch::rand({1, 1, h, w});
    const auto y_low = torch::rand({1, 1, lh, lw});
    const auto uv_low = torch::rand({1, 2, lh, lw});
    const auto expected = upsample_chroma(uv_low, y_low, y_full, ChromaUpsampling::Guided);
    std::vector<float> u(h * w), v(h * w);
    write_guided_chroma(fit_guided(uv_low, y_low), y_full.data_ptr<float>(), u.data(), v.data(), w, h);
    EXPECT_TRUE(torch::allclose(torch::from_blob(u.data(), {h, w}), expected[0][0], 1e-5, 1e-5)) << h << "x" << w;
    EXPECT_TRUE(torch::allclose(torch::from_blob(v.data(), {h, w}), expected[0][1], 1e-5, 1e-5)) << h << "x" << w;
  }
}

TEST_F(PlaneColorizerTest, InferenceIntervalCarriesChromaBetweenModelRunsAndRerunsOnCuts) {
  const int w = 40, h = 30, n = w * h;
  torch::manual_seed(3);
  const auto a = torch::rand({n}), cut = torch::rand({n}) * 0.2 + 0.75;  // another picture: mean |change| > 0.15
  // Per-frame noise and no smoothing: every model run gives other colours, so a
  // carried frame is recognisable by being identical to the one before.
  auto run = [&](int interval, const std::vector<at::Tensor>& ys) {
    PlaneColorizerOptions o = options(0.0);
    o.noise_mode = NoiseMode::PerFrame;
    o.inference_interval = interval;
    PlaneColorizer colorizer(o);
    std::vector<at::Tensor> outputs;
    for (const auto& y : ys) {
      auto uv = torch::empty({2, n});
      colorizer.colorize(y.data_ptr<float>(), nullptr, uv[0].data_ptr<float>(), uv[1].data_ptr<float>(), w, h);
      outputs.push_back(uv);
    }
    return outputs;
  };
  const auto every = run(1, {a, a});
  EXPECT_FALSE(torch::equal(every[0], every[1])) << "interval 1: the model on every frame";
  const auto third = run(3, {a, a, a, a, cut, cut});
  EXPECT_TRUE(torch::equal(third[1], third[0])) << "carried";
  EXPECT_TRUE(torch::equal(third[2], third[0])) << "carried";
  EXPECT_FALSE(torch::equal(third[3], third[0])) << "the third frame after a run: the model again";
  EXPECT_FALSE(torch::equal(third[4], third[3])) << "a cut: the model at once";
  EXPECT_TRUE(torch::equal(third[5], third[4])) << "and carried after it";
  PlaneColorizerOptions bad = options(0.0);
  bad.inference_interval = 0;
  EXPECT_THROW(PlaneColorizer{bad}, std::invalid_argument);
}
