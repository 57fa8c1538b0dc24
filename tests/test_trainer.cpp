#include "colorgan/backbone.h"
#include "colorgan/colorize_image.h"
#include "colorgan/engine.h"
#include "colorgan/metrics.h"
#include "colorgan/trainer.h"

#include "test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>
#include <torch/torch.h>


using namespace colorgan;

// ---- metrics, against values worked out by hand or published ----------------

TEST(Metrics, PsnrOfIdenticalAndKnownImages) {
  auto a = torch::rand({3, 8, 8});
  EXPECT_TRUE(std::isinf(psnr(a, a)));
  // Every value off by 0.1: MSE = 0.01, PSNR = 10 log10(1 / 0.01) = 20 dB.
  auto b = torch::full({3, 4, 4}, 0.5), c = torch::full({3, 4, 4}, 0.6);
  EXPECT_NEAR(psnr(b, c), 20.0, 1e-5);
}

TEST(Metrics, SsimIsOneForIdenticalImagesAndLowerOtherwise) {
  auto a = torch::rand({3, 32, 32});
  EXPECT_NEAR(ssim_luma(a, a), 1.0, 1e-9);
  EXPECT_LT(ssim_luma(a, torch::rand({3, 32, 32})), 0.2);
  // Colour changes that keep the luma do not change luma SSIM.
  auto gray = torch::full({3, 16, 16}, 0.5);
  auto tinted = gray.clone();
  tinted[0] += 0.1 / 0.299 * 0.114;  // more red, less blue, same Y
  tinted[2] -= 0.1;
  EXPECT_NEAR(ssim_luma(gray, tinted), 1.0, 1e-6);
}

TEST(Metrics, ChromaOnNeutralsCountsOnlyWhereTheTruthIsNeutral) {
  // Truth: left half mid gray (C*ab 0), right half saturated red. Prediction:
  // pure blue-ish tint on the left, gray on the right.
  auto truth = torch::full({3, 4, 8}, 0.5);
  truth.index({0, torch::indexing::Slice(), torch::indexing::Slice(4, 8)}).fill_(1.0);
  truth.index({torch::indexing::Slice(1, 3), torch::indexing::Slice(), torch::indexing::Slice(4, 8)}).fill_(0.0);
  auto prediction = torch::full({3, 4, 8}, 0.5);
  prediction.index({2, torch::indexing::Slice(), torch::indexing::Slice(0, 4)}).fill_(0.7);
  const auto lab = srgb_to_lab(prediction.index({torch::indexing::Slice(), torch::indexing::Slice(0, 1),
                                                 torch::indexing::Slice(0, 1)}));
  const double tint = std::hypot(lab[1].item<double>(), lab[2].item<double>());
  const ChromaOnNeutrals n = chroma_on_neutrals(prediction, truth);
  EXPECT_EQ(n.pixels, 16);  // the gray half only
  EXPECT_NEAR(n.mean(), tint, 1e-9);
  EXPECT_GT(tint, 10.0);
  EXPECT_LT(chroma_on_neutrals(truth, truth).mean(), 1e-4);  // gray is a* = b* = 0 up to the D65 white's rounding
  ChromaOnNeutrals pooled = n;
  pooled += chroma_on_neutrals(truth, truth);  // pixels pool: the mean halves
  EXPECT_NEAR(pooled.mean(), tint / 2, 1e-4);
  const auto red = torch::zeros({3, 2, 2}) + torch::tensor({1.0, 0.0, 0.0}).view({3, 1, 1});
  EXPECT_TRUE(std::isnan(chroma_on_neutrals(red, red).mean()));  // no neutral pixels
}

TEST(Metrics, ColorfulnessByHand) {
  EXPECT_DOUBLE_EQ(colorfulness(torch::full({3, 5, 5}, 0.3)), 0.0);  // constant gray
  // Constant pure red (255,0,0): rg = 255, yb = 127.5, no spread:
  // CF = 0.3 sqrt(255^2 + 127.5^2) = 85.5297...
  auto red = torch::zeros({3, 4, 4});
  red[0] = 1.0;
  EXPECT_NEAR(colorfulness(red), 0.3 * std::sqrt(255.0 * 255.0 + 127.5 * 127.5), 1e-6);
  // Half black, half white: rg = yb = 0 everywhere.
  auto bw = torch::zeros({3, 2, 2});
  bw.select(2, 1).fill_(1.0);
  EXPECT_NEAR(colorfulness(bw), 0.0, 1e-9);
}

TEST(Metrics, Ciede2000MatchesSharmaTestData) {
  // Sharma, Wu & Dalal (2005), Table 1: pairs 1, 2, 3, 7 and 25.
  const double pairs[][7] = {
      {50.0000, 2.6772, -79.7751, 50.0000, 0.0000, -82.7485, 2.0425},
      {50.0000, 3.1571, -77.2803, 50.0000, 0.0000, -82.7485, 2.8615},
      {50.0000, 2.8361, -74.0200, 50.0000, 0.0000, -82.7485, 3.4412},
      {50.0000, 0.0000, 0.0000, 50.0000, -1.0000, 2.0000, 2.3669},
      {60.2574, -34.0099, 36.2677, 60.4626, -34.1751, 39.4387, 1.2644},
  };
  for (const auto& p : pairs) {
    auto lab1 = torch::tensor({p[0], p[1], p[2]}, torch::kDouble);
    auto lab2 = torch::tensor({p[3], p[4], p[5]}, torch::kDouble);
    EXPECT_NEAR(ciede2000(lab1, lab2).item<double>(), p[6], 1e-4);
    EXPECT_NEAR(ciede2000(lab2, lab1).item<double>(), p[6], 1e-4) << "symmetric";
  }
}

TEST(Metrics, SrgbToLabKnownColours) {
  auto white = srgb_to_lab(torch::ones({3, 1, 1}));
  EXPECT_NEAR(white[0].item<double>(), 100.0, 1e-3);
  EXPECT_NEAR(white[1].item<double>(), 0.0, 1e-3);
  auto red = torch::zeros({3, 1, 1});
  red[0] = 1.0;
  auto lab = srgb_to_lab(red);  // sRGB red: L 53.24, a 80.09, b 67.20
  EXPECT_NEAR(lab[0].item<double>(), 53.24, 0.02);
  EXPECT_NEAR(lab[1].item<double>(), 80.09, 0.05);
  EXPECT_NEAR(lab[2].item<double>(), 67.20, 0.05);
  EXPECT_DOUBLE_EQ(mean_ciede2000(red, red), 0.0);
}

// ---- the trainer ----------------------------------------------------------------

namespace {

TrainOptions tiny_options() {
  TrainOptions o;
  o.generator_preset = "tiny";
  o.size = 16;
  o.batch = 4;
  o.fc_hidden = 8;
  o.device = "cpu";
  o.seed = 5;
  return o;
}

std::vector<at::Tensor> batches_for(int64_t step, int64_t count) {
  std::vector<at::Tensor> out;
  for (int64_t k = 0; k < count; ++k) {
    auto g = at::make_generator<at::CPUGeneratorImpl>(1000 + step * 10 + k);
    out.push_back(torch::rand({4, 3, 16, 16}, g));
  }
  return out;
}

void train(Trainer& t, int64_t until) {
  while (t.step() < until) t.train_step(batches_for(t.step(), t.options().critic_steps));
}

}  // namespace

TEST(Trainer, LossesAreFiniteForBothLosses) {
  for (auto loss : {GanLoss::CrossEntropy, GanLoss::WganGp}) {
    auto o = tiny_options();
    o.loss = loss;
    o.critic_steps = loss == GanLoss::WganGp ? 2 : 1;
    Trainer t(o);
    for (int i = 0; i < 3; ++i) {
      auto l = t.train_step(batches_for(i, o.critic_steps));
      EXPECT_TRUE(std::isfinite(l.d_loss) && std::isfinite(l.g_loss)) << to_string(loss);
    }
    EXPECT_EQ(t.step(), 3);
  }
}

TEST(Trainer, MixedPrecisionStepsAreFinite) {
  auto o = tiny_options();
  o.amp = true;  // bf16 autocast on the CPU here; on a GPU the same switch
  Trainer t(o);
  for (int i = 0; i < 2; ++i) {
    auto l = t.train_step(batches_for(i, 1));
    EXPECT_TRUE(std::isfinite(l.d_loss) && std::isfinite(l.g_loss));
  }
  EXPECT_EQ(t.generator()->named_parameters()["convs.0.weight"].scalar_type(), torch::kFloat) << "weights stay float";
}

TEST(Trainer, ShortTrainingOnTheGpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device in this build/machine";
  auto o = tiny_options();
  o.device = "cuda";
  Trainer t(o);
  train(t, 5);
  EXPECT_TRUE(t.generator()->parameters()[0].is_cuda());
  auto out = t.colorize(torch::rand({2, 3, 16, 16}));
  EXPECT_TRUE(out.device().is_cpu());
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());
}

TEST(Trainer, SameSeedSameLosses) {
  Trainer a(tiny_options()), b(tiny_options());
  for (int i = 0; i < 3; ++i) {
    auto la = a.train_step(batches_for(i, 1)), lb = b.train_step(batches_for(i, 1));
    EXPECT_EQ(la.d_loss, lb.d_loss);
    EXPECT_EQ(la.g_loss, lb.g_loss);
  }
}

TEST(Trainer, ResumeContinuesExactly) {
  const std::string dir = colorgan::testing::make_temp_dir("resume");
  Trainer straight(tiny_options());
  train(straight, 20);

  {
    Trainer first(tiny_options());
    train(first, 10);
    first.save_checkpoint(dir + "/checkpoint.pt");
  }
  Trainer resumed(tiny_options());
  resumed.load_checkpoint(dir + "/checkpoint.pt");
  EXPECT_EQ(resumed.step(), 10);
  train(resumed, 20);

  auto a = straight.generator()->named_parameters(), b = resumed.generator()->named_parameters();
  for (const auto& p : a) EXPECT_TRUE(torch::equal(p.value(), b[p.key()])) << p.key();
  auto da = straight.discriminator()->named_parameters(), db = resumed.discriminator()->named_parameters();
  for (const auto& p : da) EXPECT_TRUE(torch::equal(p.value(), db[p.key()])) << p.key();
}

TEST(Trainer, ExportedModelLoadsInTheEngine) {
  const std::string dir = colorgan::testing::make_temp_dir("export");
  Trainer t(tiny_options());
  train(t, 2);
  t.export_model(dir + "/model.cgan", "unit test");
  EngineOptions options;
  options.device = "cpu";
  options.precision = Precision::Fp32;  // compared with the generator within 1e-4
  InferenceEngine engine(dir + "/model.cgan", options);
  EXPECT_EQ(engine.metadata().training_width, 16);
  EXPECT_EQ(engine.metadata().provenance, "unit test");
  // The engine's prediction is the trained generator's, in eval mode.
  auto y = torch::rand({1, 1, 16, 16});
  auto noise = torch::randn({1, 1, 16, 16});
  t.generator()->eval();
  torch::NoGradGuard no_grad;
  EXPECT_LT((engine.colorize(y, noise) - t.generator()->forward(y, noise)).abs().max().item<float>(), 1e-4);
}

// Output of a model file's generator on a fixed input.
static at::Tensor exported_output(Trainer& t, const std::string& path) {
  t.export_model(path, "unit test");
  EngineOptions options;
  options.device = "cpu";
  InferenceEngine engine(path, options);
  auto g = at::make_generator<at::CPUGeneratorImpl>(77);
  return engine.colorize(torch::rand({1, 1, 16, 16}, g), torch::randn({1, 1, 16, 16}, g));
}

TEST(Trainer, MovingAverageIsExportedAndSurvivesResume) {
  const std::string dir = colorgan::testing::make_temp_dir("ema");
  auto o = tiny_options();
  o.ema = 0.9;
  o.lr_g = 1e-2;  // large steps, so the average clearly trails the live weights
  // Every run trains before any InferenceEngine exists: an engine sets the process's thread
  // counts (set_thread_count), and runs trained at other counts round differently.
  Trainer straight(o);
  train(straight, 20);
  {
    Trainer first(o);
    train(first, 10);
    first.save_checkpoint(dir + "/checkpoint.pt");
  }
  Trainer resumed(o);
  resumed.load_checkpoint(dir + "/checkpoint.pt");
  train(resumed, 20);

  const auto averaged = exported_output(straight, dir + "/a.cgan");
  {
    torch::NoGradGuard no_grad;
    straight.generator()->eval();
    auto g = at::make_generator<at::CPUGeneratorImpl>(77);
    auto y = torch::rand({1, 1, 16, 16}, g), noise = torch::randn({1, 1, 16, 16}, g);
    EXPECT_GT((averaged - straight.generator()->forward(y, noise)).abs().max().item<float>(), 1e-3)
        << "the model file holds the average, not the live weights";
  }
  const auto resumed_output = exported_output(resumed, dir + "/b.cgan");
  EXPECT_TRUE(torch::equal(resumed_output, averaged)) << "differ by " << (resumed_output - averaged).abs().max().item<float>();
}

TEST(Trainer, LearningRateDecaysToZeroAtTheLastStep) {
  auto o = tiny_options();
  o.steps = 4;
  o.lr_decay_from = 2;  // lr x1, x1, x1, x0.5, then 0
  Trainer t(o);
  train(t, 4);
  auto before = t.generator()->parameters()[0].clone();
  t.train_step(batches_for(4, 1));  // step 4 of 4: rate 0
  EXPECT_TRUE(torch::equal(before, t.generator()->parameters()[0]));

  o.lr_decay_from = 0;  // constant rate: the same step moves the weights
  Trainer constant(o);
  train(constant, 4);
  before = constant.generator()->parameters()[0].clone();
  constant.train_step(batches_for(4, 1));
  EXPECT_FALSE(torch::equal(before, constant.generator()->parameters()[0]));
}

TEST(Trainer, OptionsRoundTripThroughJsonAndPresets) {
  auto o = TrainOptions::preset("seed");
  EXPECT_EQ(o.optimizer, OptimizerKind::RMSprop);
  EXPECT_DOUBLE_EQ(o.lr_g, 0.01);
  EXPECT_DOUBLE_EQ(o.rms_alpha, 0.9);
  EXPECT_EQ(o.batch, 128);
  EXPECT_EQ(o.steps, 5000);
  EXPECT_EQ(o.size, 64);
  EXPECT_DOUBLE_EQ(o.l1_weight, 0.0);
  o.seed = 123456789012345ull;
  o.lr_d = 1.0 / 3.0;
  o.loss = GanLoss::WganGp;
  o.ema = 0.999;
  o.lr_decay_from = 1500;
  o.rebalance = 0.25;
  auto back = TrainOptions::from_json(o.to_json());
  EXPECT_EQ(back.to_json(), o.to_json());
  EXPECT_DOUBLE_EQ(back.rebalance, 0.25);
  EXPECT_EQ(back.seed, o.seed);
  EXPECT_DOUBLE_EQ(back.lr_d, o.lr_d);
  EXPECT_THROW(TrainOptions::from_json("{}"), std::invalid_argument);
  EXPECT_THROW(TrainOptions::preset("fast"), std::invalid_argument);
}

TEST(Trainer, FeatureLossNeedsABackboneAndAddsItsWeightedPart) {
  const std::string dir = colorgan::testing::make_temp_dir("feature-loss");
  auto o = tiny_options();
  o.feature_weight = 2.0;
  EXPECT_THROW(Trainer{o}, std::invalid_argument) << "no --backbone";
  o.backbone = dir + "/missing.pt";
  EXPECT_THROW(Trainer{o}, ModelFileError);
  torch::manual_seed(1);
  MobileNetV2 net;
  o.backbone = dir + "/net.pt";
  save_backbone(o.backbone, net);
  Trainer t(o);
  const StepLosses l = t.train_step(batches_for(0, 1));
  EXPECT_GT(l.g_feature, 0);
  EXPECT_NEAR(l.g_loss, l.g_adv + o.l1_weight * l.g_l1 + o.feature_weight * l.g_feature, 1e-3 * l.g_loss);
  for (const auto& p : net->parameters()) EXPECT_FALSE(p.grad().defined()) << "the backbone stays frozen";

  o.feature_weight = 0;  // off: no part, and the backbone is not even read
  o.backbone = dir + "/missing.pt";
  Trainer plain(o);
  EXPECT_EQ(plain.train_step(batches_for(0, 1)).g_feature, 0);
}

TEST(Trainer, StabilityLossAddsItsWeightedPartAndMakesChromaSteadierUnderLumaNoise) {
  // How far the generator's chroma moves when Y gets luma noise of the loss's size.
  auto sensitivity = [](Trainer& t) {
    torch::NoGradGuard no_grad;
    Generator g = t.generator();
    g->eval();
    auto gen = at::make_generator<at::CPUGeneratorImpl>(77);
    const auto y = torch::rand({8, 1, 16, 16}, gen), noise = torch::randn({8, 1, 16, 16}, gen);
    const auto shaken = (y + 0.02 * torch::randn({8, 1, 16, 16}, gen)).clamp(0, 1);
    const double moved = (g->forward(shaken, noise) - g->forward(y, noise)).abs().mean().item<double>();
    g->train();
    return moved;
  };
  auto o = tiny_options();
  o.l1_weight = 0;  // the adversarial loss alone, plus the part under test
  o.lr_g = 5e-3;
  Trainer plain(o);
  o.stability_weight = 100;
  EXPECT_THROW(([&] { auto bad = o; bad.stability_noise = -1; Trainer{bad}; })(), std::invalid_argument);
  Trainer steady(o);
  const StepLosses first = steady.train_step(batches_for(0, 1));
  EXPECT_GT(first.g_stability, 0);
  EXPECT_NEAR(first.g_loss, first.g_adv + o.stability_weight * first.g_stability, 1e-3 * first.g_loss);
  EXPECT_EQ(plain.train_step(batches_for(0, 1)).g_stability, 0) << "off by default";
  train(plain, 30);
  train(steady, 30);
  const double plain_moves = sensitivity(plain), steady_moves = sensitivity(steady);
  std::cout << "chroma moved by luma noise after 30 steps: " << plain_moves << " without, " << steady_moves
            << " with the stability loss\n";
  EXPECT_LT(steady_moves, 0.5 * plain_moves);
}

TEST(Trainer, ChromaHistogramAndRebalancingWeights) {
  // Three neutral pixels, one vivid: cells (10, 10) and (18, 2) of 21 x 21.
  const auto uv = torch::tensor({0.5f, 0.5f, 0.5f, 0.9f, 0.5f, 0.5f, 0.5f, 0.1f}).view({1, 2, 2, 2});
  const auto histogram = chroma_histogram(uv);
  ASSERT_EQ(histogram.sizes(), (at::IntArrayRef{kChromaBins, kChromaBins}));
  EXPECT_EQ(histogram[10][10].item<double>(), 3);
  EXPECT_EQ(histogram[18][2].item<double>(), 1);
  EXPECT_EQ(histogram.sum().item<double>(), 4);
  EXPECT_TRUE(torch::allclose(rebalancing_weights(histogram, 0), torch::ones({kChromaBins, kChromaBins})));
  const auto w = rebalancing_weights(histogram, 0.5);
  EXPECT_GT(w[18][2].item<double>(), w[10][10].item<double>()) << "the rarer colour weighs more";
  EXPECT_NEAR((0.75 * w[10][10] + 0.25 * w[18][2]).item<double>(), 1.0, 1e-5) << "mean 1 over the data";
  EXPECT_THROW(rebalancing_weights(histogram, 1.0), std::invalid_argument);
  EXPECT_THROW(rebalancing_weights(torch::zeros({kChromaBins, kChromaBins}), 0.5), std::invalid_argument);
  EXPECT_THROW(rebalancing_weights(torch::ones({4, 5}), 0.5), std::invalid_argument);
  EXPECT_THROW(chroma_histogram(torch::zeros({1, 3, 2, 2})), std::invalid_argument);
}

TEST(Trainer, ChromaClassHistogramSharesEachPixelBetweenItsCells) {
  // 5 x 5 cells, centres at 0.1, 0.3, 0.5, 0.7, 0.9: two pixels at gray's centre, one at U 0.9,
  // V 0.1, one halfway between the centres (0.5, 0.5) and (0.7, 0.5).
  const auto uv = torch::tensor({0.5f, 0.5f, 0.9f, 0.6f, 0.5f, 0.5f, 0.1f, 0.5f}).view({1, 2, 2, 2});
  const auto histogram = chroma_class_histogram(uv, 5);
  ASSERT_EQ(histogram.sizes(), (at::IntArrayRef{5, 5}));
  EXPECT_NEAR(histogram[2][2].item<double>(), 2.5, 1e-6);
  EXPECT_NEAR(histogram[3][2].item<double>(), 0.5, 1e-6);
  EXPECT_NEAR(histogram[4][0].item<double>(), 1.0, 1e-6);
  EXPECT_NEAR(histogram.sum().item<double>(), 4.0, 1e-6);
  // Its weights (any square grid): the vivid cell weighs more than gray's, mean 1 over the data.
  const auto w = rebalancing_weights(histogram, 0.5);
  EXPECT_GT(w[4][0].item<double>(), w[2][2].item<double>());
  EXPECT_NEAR((histogram * w).sum().item<double>() / 4.0, 1.0, 1e-5);
  EXPECT_THROW(chroma_class_histogram(torch::zeros({1, 1, 2, 2}), 5), std::invalid_argument);
}

TEST(Trainer, RebalancedL1KeepsNeutralDataAsItIsAndWeighsColourMore) {
  auto o = tiny_options();
  o.rebalance = 0.5;
  EXPECT_THROW(([&] { Trainer t(o); t.train_step(batches_for(0, 1)); })(), std::logic_error) << "no histogram";
  // Data that is all neutral: its one chroma cell weighs exactly 1, every other cell more.
  const auto neutral = chroma_histogram(torch::full({1, 2, 4, 4}, 0.5));
  auto gray = batches_for(0, 1);
  gray[0] = gray[0].narrow(1, 0, 1).expand({4, 3, 16, 16}).contiguous();
  // The L1 of one first step on `batch`, plain and rebalanced (same seed, same weights).
  auto first_l1 = [&](const std::vector<at::Tensor>& batch) {
    Trainer plain(tiny_options()), rebalanced(o);
    const auto weights = rebalanced.set_chroma_histogram(neutral);
    EXPECT_FLOAT_EQ(weights[10][10].item<float>(), 1.0f);
    const double plain_l1 = plain.train_step(batch).g_l1, rebalanced_l1 = rebalanced.train_step(batch).g_l1;
    std::cout << "L1 " << plain_l1 << " plain, " << rebalanced_l1 << " rebalanced\n";
    return std::make_pair(plain_l1, rebalanced_l1);
  };
  const auto [gray_plain, gray_rebalanced] = first_l1(gray);
  EXPECT_NEAR(gray_rebalanced, gray_plain, 1e-6 * gray_plain) << "gray truth: weight 1";
  const auto [colour_plain, colour_rebalanced] = first_l1(batches_for(0, 1));
  EXPECT_GT(colour_rebalanced, 1.05 * colour_plain) << "colour truth weighs more than the neutral data's";
}

TEST(Trainer, PretrainedEncoderStartsFromTheBackboneFileAndKeepsIt) {
  const std::string dir = colorgan::testing::make_temp_dir("pretrained-encoder");
  auto o = tiny_options();
  o.generator_preset = "pretrained-encoder";
  EXPECT_THROW(Trainer{o}, std::invalid_argument) << "no --backbone";
  torch::manual_seed(1);
  MobileNetV2 net;
  o.backbone = dir + "/net.pt";
  save_backbone(o.backbone, net);
  Trainer t(o);
  auto encoder_matches = [&] {
    const auto mine = floating_weights(*t.generator()->encoder());
    for (const auto& w : floating_weights(*net)) {
      const torch::Tensor* found = mine.find(w.key());
      if (found != nullptr && !torch::equal(*found, w.value())) return false;
    }
    return true;
  };
  EXPECT_TRUE(encoder_matches());
  train(t, 2);
  EXPECT_TRUE(encoder_matches()) << "the encoder stays frozen";

  // --encoder-lr: its convs learn, its batch-norm statistics stay ImageNet's; a resumed run
  // continues with the encoder's own optimizer group as the first run would.
  o.encoder_lr = 1e-3;
  Trainer tuned(o);
  train(tuned, 2);
  const auto before = floating_weights(*net);
  const auto after = floating_weights(*tuned.generator()->encoder());
  bool convs_moved = false;
  for (const auto& w : after) {
    const torch::Tensor* old = before.find(w.key());
    ASSERT_NE(old, nullptr) << w.key();
    if (w.key().find("running_") != std::string::npos) {
      EXPECT_TRUE(torch::equal(*old, w.value())) << w.key();
    } else if (!torch::equal(*old, w.value())) {
      convs_moved = true;
    }
  }
  EXPECT_TRUE(convs_moved) << "the encoder learns";
  tuned.save_checkpoint(dir + "/tuned.pt");
  train(tuned, 4);
  Trainer resumed(o);
  resumed.load_checkpoint(dir + "/tuned.pt");
  train(resumed, 4);
  const auto continued = floating_weights(*tuned.generator());
  for (const auto& w : floating_weights(*resumed.generator())) {
    EXPECT_TRUE(torch::allclose(w.value(), continued[w.key()], 1e-5, 1e-6)) << w.key();
  }
  auto not_pretrained = tiny_options();
  not_pretrained.encoder_lr = 1e-3;
  EXPECT_THROW(Trainer{not_pretrained}, std::invalid_argument) << "no encoder to tune";
}

TEST(Trainer, StartFromTakesAModelFilesGeneratorAndRefusesAnotherArchitecture) {
  const std::string dir = colorgan::testing::make_temp_dir("start-from");
  auto o = tiny_options();
  Trainer trained(o);
  train(trained, 3);
  trained.export_model(dir + "/trained.cgan", "unit test");

  o.seed = 8;  // other initial weights
  o.ema = 0.5;
  Trainer fine_tuned(o);
  fine_tuned.start_from(dir + "/trained.cgan");
  fine_tuned.export_model(dir + "/started.cgan", "unit test");  // the average, started from the same weights
  EngineOptions options;
  options.device = "cpu";
  InferenceEngine a(dir + "/trained.cgan", options), b(dir + "/started.cgan", options);
  const auto y = torch::rand({1, 1, 16, 16}), noise = torch::randn({1, 1, 16, 16});
  EXPECT_TRUE(torch::equal(a.colorize(y, noise), b.colorize(y, noise)));

  fine_tuned.train_step(batches_for(9, 1));
  EXPECT_THROW(fine_tuned.start_from(dir + "/trained.cgan"), std::logic_error) << "after training began";
  auto other = tiny_options();
  other.generator_preset = "tiny-encoder-decoder";
  Trainer different(other);
  EXPECT_THROW(different.start_from(dir + "/trained.cgan"), std::invalid_argument);
}

TEST(Trainer, ChromaClassHeadStartsFromARegressionModelsLayersAndLearnsItsCrossEntropy) {
  const std::string dir = colorgan::testing::make_temp_dir("chroma-classes");
  auto o = tiny_options();
  o.generator_preset = "tiny-encoder-decoder";
  Trainer regression(o);
  train(regression, 2);
  regression.export_model(dir + "/regression.cgan", "unit test");

  o.generator_preset = "tiny-encoder-decoder-classes";
  o.l1_weight = 0;
  o.class_weight = 1;
  o.lr_g = 1e-2;
  Trainer classes(o);
  classes.start_from(dir + "/regression.cgan");
  auto started = classes.generator()->named_parameters();
  const auto from = regression.generator()->named_parameters();
  for (const auto& p : from) {
    if (p.key().rfind("output.", 0) == 0) continue;  // the head starts afresh
    EXPECT_TRUE(torch::equal(started[p.key()], p.value())) << p.key();
  }
  EXPECT_EQ(started["cells.weight"].size(0), 25);
  // One batch whose colour follows from its luma, again and again: the cross-entropy of its
  // chroma classes falls. Luma in 2 x 2 blocks, the head's stride: each block has one colour.
  torch::manual_seed(21);
  const auto y = torch::rand({4, 1, 8, 8}).repeat_interleave(2, 2).repeat_interleave(2, 3);
  const std::vector<at::Tensor> batch{torch::cat({y, y * y, 1 - y}, 1)};
  const double first = classes.train_step(batch).g_class;
  double last = first;
  for (int i = 0; i < 30; ++i) last = classes.train_step(batch).g_class;
  std::cout << "chroma-class cross-entropy on one batch: " << first << " -> " << last << "\n";
  EXPECT_GT(first, 0.0);
  EXPECT_LT(last, 0.6 * first);

  Trainer seed(tiny_options());
  seed.export_model(dir + "/seed.cgan", "unit test");
  Trainer fresh(o);
  EXPECT_THROW(fresh.start_from(dir + "/seed.cgan"), std::invalid_argument) << "a seed generator has other layers";
}

// ---- whole-image colorization -----------------------------------------------------

TEST(ColorizeImage, SizesBeyondTheActivationLimitAreAnErrorNotAnAllocation) {
  const std::string dir = colorgan::testing::make_temp_dir("colorize-limit");
  EngineOptions options;
  options.device = "cpu";
  options.warm_up = false;
  InferenceEngine engine(colorgan::testing::write_test_model(dir, "seed", 1), options);
  // 7000x5000 at native size: 2 maps x 128 channels x 35 Mpx x 4 bytes = 36 GB. The
  // luma plane itself (140 MB) is a view of one row broadcast: nothing big is allocated.
  const auto y = torch::zeros({1, 1, 1, 1}).expand({1, 1, 5000, 7000});
  try {
    engine.colorize(y);
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("7000x5000"));
    EXPECT_THAT(e.what(), ::testing::HasSubstr("smaller working size"));
  }
}

TEST(ColorizeImage, KeepsTheSizeAndTheLuma) {
  const std::string dir = colorgan::testing::make_temp_dir("colorize-image");
  EngineOptions options;
  options.device = "cpu";
  InferenceEngine engine(colorgan::testing::write_test_model(dir), options);
  auto rgb = torch::rand({3, 45, 70});
  for (const char* size : {"32", "20x16", "native"}) {
    auto out = colorize_image(engine, rgb, parse_working_size(size));
    EXPECT_EQ(out.sizes(), rgb.sizes()) << size;
    auto y_in = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2];
    auto y_out = 0.299 * out[0] + 0.587 * out[1] + 0.114 * out[2];
    // Luma is kept except where RGB clipping of saturated predictions bites.
    EXPECT_LT((y_in - y_out).abs().median().item<float>(), 1e-3) << size;
  }
  EXPECT_THROW(parse_working_size("big"), std::invalid_argument);
  EXPECT_THROW(parse_working_size("0x4"), std::invalid_argument);
  EXPECT_THROW(parse_working_size("99999999999999999999999"), std::invalid_argument);  // was std::out_of_range "stoll"
  EXPECT_THROW(parse_working_size("64x100000"), std::invalid_argument);
  EXPECT_EQ(parse_working_size("16384").short_side, 16384);
  auto gray = gray_baseline(rgb);
  EXPECT_NEAR(colorfulness(gray), 0.0, 0.5);
}
