#include "colorgan/networks.h"
#include "colorgan/noise.h"
#include "generator_fixtures.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <cstdlib>
#include <fstream>
#include <map>

using namespace colorgan;

TEST(Generator, DefaultConfigIsTheSeedTable) {
  GeneratorConfig c;
  const std::vector<ConvLayerSpec> seed{{128, 7}, {64, 5}, {64, 5}, {64, 5}, {64, 5}, {32, 5}};
  EXPECT_EQ(c.hidden, seed);
  EXPECT_EQ(c.output_kernel, 5);
  EXPECT_EQ(c.noise_layers, (std::vector<int64_t>{0, 1, 2}));
  EXPECT_EQ(c.noise_input, NoiseInput::Plane);
  EXPECT_EQ(GeneratorConfig::preset("seed"), c);
}

TEST(Generator, DefaultParameterCountWorkedOutByHand) {
  // Conv weights (no bias: batch norm follows), inputs = previous maps + Y (+ noise on layers 0-2):
  //   L0  (0+1+1)=2   -> 128, k7: 2*128*49   =  12,544
  //   L1  (128+1+1)   ->  64, k5: 130*64*25  = 208,000
  //   L2  (64+1+1)    ->  64, k5: 66*64*25   = 105,600
  //   L3  (64+1)      ->  64, k5: 65*64*25   = 104,000
  //   L4  (64+1)      ->  64, k5: 65*64*25   = 104,000
  //   L5  (64+1)      ->  32, k5: 65*32*25   =  52,000
  //   batch norm (weight+bias): 2*(128+64*4+32) =    832
  //   output (32+1) -> 2, k5, with bias: 33*2*25 + 2 = 1,652
  // total 588,628
  Generator g;
  EXPECT_EQ(parameter_count(*g), 588628);
}

TEST(Generator, PublicCodePresetHasNoiseAtTheInputOnly) {
  // L0 2*128*49=12,544; L1 129*64*25=206,400; L2-L3 65*64*25=104,000 each;
  // L4 65*32*25=52,000; BN 2*(128+64*3+32)=704; output 33*2*25+2=1,652. Total 481,300.
  Generator g(GeneratorConfig::preset("public-code"));
  EXPECT_EQ(parameter_count(*g), 481300);
}

TEST(Generator, LayerShapes) {
  Generator g;
  auto params = g->named_parameters();
  EXPECT_EQ(params["convs.0.weight"].sizes(), (std::vector<int64_t>{128, 2, 7, 7}));
  EXPECT_EQ(params["convs.1.weight"].sizes(), (std::vector<int64_t>{64, 130, 5, 5}));
  EXPECT_EQ(params["convs.2.weight"].sizes(), (std::vector<int64_t>{64, 66, 5, 5}));
  EXPECT_EQ(params["convs.3.weight"].sizes(), (std::vector<int64_t>{64, 65, 5, 5}));
  EXPECT_EQ(params["convs.5.weight"].sizes(), (std::vector<int64_t>{32, 65, 5, 5}));
  EXPECT_EQ(params["output.weight"].sizes(), (std::vector<int64_t>{2, 33, 5, 5}));
  EXPECT_EQ(params["norms.0.weight"].sizes(), (std::vector<int64_t>{128}));
}

TEST(Generator, FullyConvolutionalOutputInUnitRange) {
  torch::manual_seed(1);
  Generator g(GeneratorConfig::preset("tiny"));
  g->eval();
  torch::NoGradGuard no_grad;
  for (auto [h, w] : {std::pair{17, 23}, std::pair{64, 64}, std::pair{1, 1}}) {
    auto y = torch::rand({2, 1, h, w});
    auto uv = g->forward(y, torch::randn({2, 1, h, w}));
    EXPECT_EQ(uv.sizes(), (std::vector<int64_t>{2, 2, h, w}));
    EXPECT_GE(uv.min().item<float>(), 0.0f);
    EXPECT_LE(uv.max().item<float>(), 1.0f);
  }
}

TEST(Generator, NoiseChangesTheOutput) {
  torch::manual_seed(2);
  Generator g(GeneratorConfig::preset("tiny"));
  g->eval();
  torch::NoGradGuard no_grad;
  auto y = torch::rand({1, 1, 16, 16});
  auto a = g->forward(y, torch::randn({1, 1, 16, 16}));
  auto b = g->forward(y, torch::randn({1, 1, 16, 16}));
  EXPECT_GT((a - b).abs().max().item<float>(), 1e-4);
}

TEST(Generator, ProjectedVectorNoiseWorksAtItsSizeOnly) {
  GeneratorConfig c = GeneratorConfig::preset("tiny");
  c.noise_input = NoiseInput::ProjectedVector;
  c.noise_dim = 100;
  c.projected_size = 16;
  Generator g(c);
  // The projection adds one Linear(100 -> 16*16) layer.
  EXPECT_EQ(parameter_count(*g) - parameter_count(*Generator(GeneratorConfig::preset("tiny"))), 100 * 256 + 256);
  auto uv = g->forward(torch::rand({3, 1, 16, 16}), torch::randn({3, 100}));
  EXPECT_EQ(uv.sizes(), (std::vector<int64_t>{3, 2, 16, 16}));
  EXPECT_THROW(g->forward(torch::rand({1, 1, 20, 20}), torch::randn({1, 100})), std::invalid_argument);
  EXPECT_THROW(g->forward(torch::rand({1, 1, 16, 16}), torch::randn({1, 1, 16, 16})), std::invalid_argument);
}

TEST(Generator, RejectsBadInputsAndConfigs) {
  Generator g(GeneratorConfig::preset("tiny"));
  EXPECT_THROW(g->forward(torch::rand({1, 3, 8, 8}), torch::randn({1, 1, 8, 8})), std::invalid_argument);
  EXPECT_THROW(g->forward(torch::rand({1, 1, 8, 8}), torch::randn({1, 1, 4, 4})), std::invalid_argument);
  GeneratorConfig even = GeneratorConfig::preset("tiny");
  even.hidden[0].kernel = 4;
  EXPECT_THROW(Generator{even}, std::invalid_argument);
  GeneratorConfig noisy = GeneratorConfig::preset("tiny");
  noisy.noise_layers = {7};
  EXPECT_THROW(Generator{noisy}, std::invalid_argument);
  EXPECT_THROW(GeneratorConfig::preset("huge"), std::invalid_argument);
}

TEST(Discriminator, DefaultParameterCountAndLogitShape) {
  // Convs (stride 2, no bias): 3*64*25 + 64*128*25 + 128*256*25 + 256*512*25 = 4,305,600
  // batch norm: 2*(64+128+256+512) = 1,920
  // 64 -> 32 -> 16 -> 8 -> 4: fc1 512*4*4*64 + 64 = 524,352; fc2 64 + 1 = 65. Total 4,831,937.
  Discriminator d;
  EXPECT_EQ(parameter_count(*d), 4831937);
  auto logits = d->forward(torch::rand({5, 3, 64, 64}));
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{5}));
  EXPECT_THROW(d->forward(torch::rand({1, 3, 32, 32})), std::invalid_argument);
}

TEST(Discriminator, SmallConfigForTests) {
  DiscriminatorConfig c;
  c.channels = {8, 16};
  c.image_size = 32;  // 32 -> 16 -> 8
  c.fc_hidden = 4;
  Discriminator d(c);
  EXPECT_EQ(d->forward(torch::rand({2, 3, 32, 32})).sizes(), (std::vector<int64_t>{2}));
  EXPECT_EQ(d->named_parameters()["fc1.weight"].sizes(), (std::vector<int64_t>{4, 16 * 8 * 8}));
}

TEST(Noise, SameSeedSameNoiseAcrossShapes) {
  NoiseSource a(42), b(42), c(43);
  auto pa = a.planes(2, 8, 9);
  EXPECT_EQ(pa.sizes(), (std::vector<int64_t>{2, 1, 8, 9}));
  auto pb = b.planes(2, 8, 9);
  EXPECT_TRUE(torch::equal(pa, pb));
  EXPECT_FALSE(torch::equal(pa, c.planes(2, 8, 9)));
  // The next draw continues the stream: different from the first.
  EXPECT_FALSE(torch::equal(pa, a.planes(2, 8, 9)));
  // fill() draws the same values as planes() for the same count.
  NoiseSource d(42);
  std::vector<float> filled(2 * 8 * 9);
  d.fill(filled.data(), static_cast<int64_t>(filled.size()));
  EXPECT_TRUE(torch::equal(torch::from_blob(filled.data(), {2, 1, 8, 9}), pa));
}

TEST(Noise, DistributionsHaveTheirMoments) {
  auto g = NoiseSource(1, NoiseDistribution::Gaussian).planes(1, 300, 300);
  EXPECT_NEAR(g.mean().item<float>(), 0.0f, 0.01f);
  EXPECT_NEAR(g.std().item<float>(), 1.0f, 0.01f);
  auto u = NoiseSource(1, NoiseDistribution::Uniform).planes(1, 300, 300);
  EXPECT_GE(u.min().item<float>(), -1.0f);
  EXPECT_LE(u.max().item<float>(), 1.0f);
  EXPECT_NEAR(u.std().item<float>(), 1.0f / std::sqrt(3.0f), 0.01f);  // U(-1,1)
  EXPECT_EQ(parse_noise_distribution("uniform"), NoiseDistribution::Uniform);
  EXPECT_THROW(parse_noise_distribution("pink"), std::invalid_argument);
}

TEST(EncoderDecoder, ParameterCountAndShapesFollowTheScales) {
  // Scales 4/8/8 (tiny-encoder-decoder). Encoder: 2*4*9 + 4*4*9 + 4*8*9 + 8*8*9 + 8*8*9 + 8*8*9 = 2,232;
  // fusion 16*8 = 128; decoder at 1/2: (8+8+1)*8*9 + 8*8*9 = 1,800; at 1: (8+4+1)*4*9 + 4*4*9 = 612;
  // batch norm 2 * (4+4+8+8+8+8 + 8 + 8+8+4+4) = 144; global 8*8+8 = 72; output (4+1)*2*9+2 = 92.
  Generator g(GeneratorConfig::preset("tiny-encoder-decoder"));
  EXPECT_EQ(parameter_count(*g), 2232 + 128 + 1800 + 612 + 144 + 72 + 92);
  auto params = g->named_parameters();
  EXPECT_EQ(params["convs.0.weight"].sizes(), (std::vector<int64_t>{4, 2, 3, 3}));
  EXPECT_EQ(params["convs.6.weight"].sizes(), (std::vector<int64_t>{8, 16, 1, 1}));  // fusion
  EXPECT_EQ(params["convs.7.weight"].sizes(), (std::vector<int64_t>{8, 17, 3, 3}));
  EXPECT_EQ(params["convs.9.weight"].sizes(), (std::vector<int64_t>{4, 13, 3, 3}));
  EXPECT_EQ(params["output.weight"].sizes(), (std::vector<int64_t>{2, 5, 3, 3}));
  // The full preset: 1/8 at the bottleneck, 2.15 M parameters.
  Generator full(GeneratorConfig::preset("encoder-decoder"));
  EXPECT_EQ(full->config().encoder_decoder_blocks().back().scale, 0u);
  EXPECT_EQ(full->config().encoder_decoder_blocks()[6].scale, 3u);
  EXPECT_EQ(parameter_count(*full), 2147956);
}

static void expect_chroma_in_unit_range_at_odd_sizes(Generator& g) {
  g->eval();
  torch::NoGradGuard no_grad;
  for (auto [h, w] : {std::pair{17, 23}, std::pair{64, 64}, std::pair{1, 1}, std::pair{3, 90}}) {
    auto uv = g->forward(torch::rand({2, 1, h, w}), torch::randn({2, 1, h, w}));
    EXPECT_EQ(uv.sizes(), (std::vector<int64_t>{2, 2, h, w}));
    EXPECT_GE(uv.min().item<float>(), 0.0f);
    EXPECT_LE(uv.max().item<float>(), 1.0f);
  }
}

TEST(EncoderDecoder, TakesAnyFrameSizeAndGivesChromaInUnitRange) {
  torch::manual_seed(3);
  Generator g(GeneratorConfig::preset("tiny-encoder-decoder"));
  expect_chroma_in_unit_range_at_odd_sizes(g);
  EXPECT_THROW(g->forward(torch::rand({1, 1, 8, 8}), torch::randn({1, 1, 4, 4})), std::invalid_argument);
}

TEST(EncoderDecoder, SeesTheWholeFrame) {
  // The chroma in the far corner depends on the top-left quarter, 31 px and
  // more away: the global context reaches every position (the seed generator's
  // output pixel sees 15 px around it). Measured as a gradient, so the size of
  // an untrained network's response does not matter, only its reach.
  torch::manual_seed(4);
  auto reach = [](Generator g) {
    g->eval();
    auto y = torch::rand({1, 1, 64, 64}).requires_grad_(true);
    g->forward(y, torch::zeros({1, 1, 64, 64})).index({0, torch::indexing::Slice(), 63, 63}).sum().backward();
    return y.grad().index({0, 0, torch::indexing::Slice(0, 32), torch::indexing::Slice(0, 32)}).abs().sum().item<float>();
  };
  EXPECT_GT(reach(Generator(GeneratorConfig::preset("encoder-decoder"))), 0.0f);
  EXPECT_EQ(reach(Generator()), 0.0f);
}

TEST(EncoderDecoder, ConfigChecksRefuseBadSizes) {
  auto config = GeneratorConfig::preset("encoder-decoder");
  config.scale_channels = {};
  EXPECT_THROW(config.check(), std::invalid_argument);
  config.scale_channels = {32, 0};
  EXPECT_THROW(config.check(), std::invalid_argument);
  config.scale_channels = std::vector<int64_t>(9, 8);
  EXPECT_THROW(config.check(), std::invalid_argument);
  config.scale_channels = {1024, 1024, 1024, 1024, 1024, 1024, 1024, 1024};
  EXPECT_THROW(config.check(), std::invalid_argument);  // 2^26 parameters
  config = GeneratorConfig::preset("encoder-decoder");
  config.noise_input = NoiseInput::ProjectedVector;
  EXPECT_THROW(config.check(), std::invalid_argument);
}

TEST(PretrainedEncoder, RunsMobileNetV2sFirst13BlocksUnderTheDecoderAtAnyFrameSize) {
  torch::manual_seed(5);
  Generator g(GeneratorConfig::preset("pretrained-encoder"));
  auto params = g->named_parameters();
  EXPECT_EQ(params["encoder.block_12_project.weight"].sizes(), (std::vector<int64_t>{96, 576, 1, 1}));
  EXPECT_EQ(params.find("encoder.block_13_expand.weight"), nullptr) << "nothing deeper than 1/16";
  EXPECT_EQ(params["convs.2.weight"].sizes(), (std::vector<int64_t>{128, 192, 1, 1}));  // fusion: block 12 + context
  EXPECT_EQ(params["convs.3.weight"].sizes(), (std::vector<int64_t>{96, 128 + 32 + 1, 3, 3}));  // 1/8: block 5's 32
  EXPECT_EQ(params["context.weight"].sizes(), (std::vector<int64_t>{96, 96}));
  expect_chroma_in_unit_range_at_odd_sizes(g);
  auto config = g->config();
  config.scale_channels.pop_back();
  EXPECT_THROW(config.check(), std::invalid_argument) << "MobileNetV2's taps fix the scales at 5";
}

TEST(PretrainedEncoder, TakesThePretrainedWeightsAndKeepsThemWhileTheDecoderTrains) {
  torch::manual_seed(6);
  MobileNetV2 pretrained;
  colorgan::testing::give_trained_looking_statistics(*pretrained);
  pretrained->eval();
  Generator g(GeneratorConfig::preset("pretrained-encoder"));
  g->load_encoder(*pretrained);
  const auto y = torch::rand({2, 1, 48, 40});
  {
    torch::NoGradGuard no_grad;
    const auto want = pretrained->features(y.expand({-1, 3, -1, -1}), {12})[0];
    const auto got = g->encoder()->features(y.expand({-1, 3, -1, -1}), {12})[0];
    EXPECT_TRUE(torch::equal(want, got));
  }
  EXPECT_THROW(Generator(GeneratorConfig::preset("encoder-decoder"))->load_encoder(*pretrained), std::logic_error);

  g->train();
  EXPECT_FALSE(g->encoder()->is_training()) << "frozen batch-norm statistics";
  auto before = floating_weights(*g);
  std::map<std::string, torch::Tensor> saved;
  for (const auto& w : before) saved[w.key()] = w.value().clone();
  torch::optim::Adam adam(g->parameters(), torch::optim::AdamOptions(1e-2));
  for (int step = 0; step < 2; ++step) {
    adam.zero_grad();
    g->forward(y, torch::randn({2, 1, 48, 40})).mean().backward();
    adam.step();
  }
  for (const auto& w : floating_weights(*g)) {
    const bool same = torch::equal(w.value(), saved[w.key()]);
    if (w.key().rfind("encoder.", 0) == 0) {
      EXPECT_TRUE(same) << w.key() << " changed";
    } else if (w.key().rfind("convs.", 0) == 0 || w.key() == "output.weight") {
      EXPECT_FALSE(same) << w.key() << " did not train";
    }
  }
}

// The TorchScript export: the same outputs from the module as from the folded
// generator, in C++ and in Python (python3-torch's torch.jit.load).
TEST(Export, TorchScriptGivesTheFoldedGeneratorsOutputsInCppAndPython) {
  const std::string dir = colorgan::testing::make_temp_dir("export");
  using Case = colorgan::testing::ExportCase;
  for (const Case c : {Case{"tiny", NoiseInput::Plane}, Case{"tiny-encoder-decoder", NoiseInput::Plane},
                       Case{"pretrained-encoder", NoiseInput::Plane}, Case{"tiny-encoder-decoder-classes", NoiseInput::Plane},
                       Case{"tiny", NoiseInput::ProjectedVector}}) {
    Generator generator = colorgan::testing::trained_looking_generator(c, 11);
    const GeneratorConfig& config = generator->config();
    const FoldedGenerator folded(*generator);
    const std::string module_path = dir + "/" + c.preset + ".pt";
    folded.to_torchscript().save(module_path);
    torch::jit::Module module = torch::jit::load(module_path);

    c10::impl::GenericList cases(c10::AnyType::get());
    const std::vector<std::pair<int64_t, int64_t>> sizes =
        c.noise_input == NoiseInput::Plane ? std::vector<std::pair<int64_t, int64_t>>{{16, 16}, {24, 40}, {33, 17}}
                                           : std::vector<std::pair<int64_t, int64_t>>{{16, 16}};
    for (auto [h, w] : sizes) {
      torch::InferenceMode guard;
      const auto y = torch::rand({2, 1, h, w});
      const auto noise = c.noise_input == NoiseInput::Plane ? torch::randn({2, 1, h, w})
                                                            : torch::randn({2, config.noise_dim});
      const auto expected = folded.forward(y, noise);
      const auto got = module.forward({y, noise}).toTensor();
      ASSERT_EQ(got.sizes(), expected.sizes()) << c.preset;
      EXPECT_LT((got - expected).abs().max().item<double>(), 1e-5) << c.preset << " " << h << "x" << w;
      cases.push_back(c10::ivalue::Tuple::create({y, noise, expected}));
    }
    const std::string cases_path = dir + "/" + c.preset + "-cases.pt";
    const std::vector<char> bytes = torch::pickle_save(cases);
    std::ofstream(cases_path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));

    const std::string script = colorgan::testing::meson_env("COLORGAN_SOURCE") + "/tests/interop/check_torchscript.py";
    const int status = colorgan::testing::run_program({"/usr/bin/python3", script, module_path, cases_path});
    if (status == 77) GTEST_SKIP() << "/usr/bin/python3 has no torch (python3-torch): the Python side is unchecked";
    EXPECT_EQ(status, 0) << c.preset << ": Python's torch.jit.load gave other outputs (see above)";
  }
}

TEST(ChromaClasses, SoftTargetsShareEachChromaBetweenItsFourCellsAndTheMeanGivesItBack) {
  constexpr int64_t n = 15;
  const auto centres = chroma_class_centres(n);
  ASSERT_EQ(centres.sizes(), (std::vector<int64_t>{n * n, 2}));
  EXPECT_FLOAT_EQ(centres[7 * n + 7][0].item<float>(), 0.5f);  // odd n: gray is a centre
  EXPECT_FLOAT_EQ(centres[7 * n + 7][1].item<float>(), 0.5f);
  EXPECT_FLOAT_EQ(centres[1][1].item<float>(), 1.5f / n);      // cell u * n + v

  torch::manual_seed(5);
  // Inside the outer centres, [0.5 / n, 1 - 0.5 / n]; and gray exactly.
  auto uv = 0.5 / n + (1 - 1.0 / n) * torch::rand({2, 2, 9, 11});
  uv.index_put_({0, torch::indexing::Slice(), 0, 0}, 0.5);
  const auto targets = chroma_class_targets(uv, n);
  ASSERT_EQ(targets.sizes(), (std::vector<int64_t>{2, n * n, 9, 11}));
  EXPECT_GE(targets.min().item<float>(), 0.0f);
  EXPECT_LT((targets.sum(1) - 1).abs().max().item<float>(), 1e-5);
  EXPECT_LE((targets > 0).sum(1).max().item<int64_t>(), 4);
  EXPECT_FLOAT_EQ(targets[0][7 * n + 7][0][0].item<float>(), 1.0f);
  // The targets' own mean (temperature 1) is the chroma they encode ...
  const auto logits = targets.clamp_min(1e-30).log();
  EXPECT_LT((annealed_mean(logits, n, 1.0) - uv).abs().max().item<float>(), 1e-5);
  // ... and a lower temperature moves it towards the most likely cell's centre.
  const auto likeliest = centres.index_select(0, targets.argmax(1).flatten()).view({2, 9, 11, 2}).permute({0, 3, 1, 2});
  const auto cooled = annealed_mean(logits, n, 0.2);
  EXPECT_LT((cooled - likeliest).abs().mean().item<float>(), 0.5 * (uv - likeliest).abs().mean().item<float>());
  // Beyond the outer centres: all in the outer cell.
  const auto corner = chroma_class_targets(torch::zeros({1, 2, 1, 1}), n);
  EXPECT_FLOAT_EQ(corner[0][0][0][0].item<float>(), 1.0f);
  EXPECT_THROW(chroma_class_targets(torch::zeros({1, 3, 1, 1}), n), std::invalid_argument);
  EXPECT_THROW(annealed_mean(torch::zeros({1, 9, 1, 1}), n, 1.0), std::invalid_argument);
}

TEST(ChromaClasses, HeadHasOneLogitPerCellAndDecodesToChromaInUnitRange) {
  // tiny-encoder-decoder with a 5 x 5 head of rank 4: output conv (4+1)*4*9+4 = 184 parameters,
  // cells 4*25+25 = 125, where U,V's had 92; of full rank (25 maps) (4+1)*25*9+25 = 1,150.
  torch::manual_seed(6);
  auto config = GeneratorConfig::preset("tiny-encoder-decoder-classes");
  const int64_t uv_head = parameter_count(*Generator(GeneratorConfig::preset("tiny-encoder-decoder"))) - 92;
  EXPECT_EQ(parameter_count(*Generator(config)) - uv_head, 184 + 125);
  config.head_rank = 0;
  EXPECT_EQ(parameter_count(*Generator(config)) - uv_head, 1150);
  config.head_rank = 4;
  config.head_stride = 1;
  Generator g(config);
  const auto y = torch::rand({2, 1, 17, 23}), noise = torch::randn({2, 1, 17, 23});
  g->eval();
  torch::NoGradGuard no_grad;
  const auto head = g->head(y, noise);
  EXPECT_EQ(head.sizes(), (std::vector<int64_t>{2, 25, 17, 23}));
  EXPECT_TRUE(torch::allclose(g->forward(y, noise), annealed_mean(head, 5, 0.38)));
  expect_chroma_in_unit_range_at_odd_sizes(g);
}

// At stride 2 (the presets') the same weights give each 2x2 block's mean logits, decoded there
// and upsampled bilinearly to the frame; at odd sides the blocks are the encoder's ceil(side / 2).
TEST(ChromaClasses, AHeadAtStride2DecodesEachBlocksMeanLogitsAndUpsamples) {
  torch::manual_seed(7);
  auto config = GeneratorConfig::preset("tiny-encoder-decoder-classes");
  ASSERT_EQ(config.head_stride, 2);
  Generator coarse(config);
  config.head_stride = 1;
  Generator full(config);
  copy_weights_across_heads(*coarse, *full);
  coarse->eval();
  full->eval();
  torch::NoGradGuard no_grad;
  const auto y = torch::rand({2, 1, 16, 20}), noise = torch::randn({2, 1, 16, 20});
  const auto head = coarse->head(y, noise);
  EXPECT_EQ(head.sizes(), (std::vector<int64_t>{2, 25, 8, 10}));
  EXPECT_LT((head - torch::avg_pool2d(full->head(y, noise), 2)).abs().max().item<float>(), 1e-5);
  namespace F = torch::nn::functional;
  const auto upsampled = F::interpolate(annealed_mean(head, 5, 0.38), F::InterpolateFuncOptions()
                                                                          .size(std::vector<int64_t>{16, 20})
                                                                          .mode(torch::kBilinear)
                                                                          .align_corners(false));
  EXPECT_LT((coarse->forward(y, noise) - upsampled).abs().max().item<float>(), 1e-6);
  const auto odd_y = torch::rand({1, 1, 17, 23});
  EXPECT_EQ(coarse->head(odd_y, torch::randn_like(odd_y)).sizes(), (std::vector<int64_t>{1, 25, 9, 12}));
  expect_chroma_in_unit_range_at_odd_sizes(coarse);
}

TEST(ChromaClasses, FactoringAHeadIsExactUpToItsRankAndItsSoftmaxMatchesLibTorch) {
  torch::manual_seed(8);
  // A head [36, 5, 3, 3] of rank 3, and its bias.
  const auto weight = torch::randn({36, 3}).matmul(torch::randn({3, 45})).view({36, 5, 3, 3});
  const auto bias = torch::randn({36});
  const auto x = torch::randn({2, 5, 7, 9});
  const auto logits = torch::conv2d(x, weight, bias, 1, 1);
  auto factored_logits = [&](int64_t rank) {
    const FactoredClassHead h = factor_chroma_class_head(weight, bias, rank);
    EXPECT_EQ(h.weight.sizes(), (std::vector<int64_t>{rank, 5, 3, 3}));
    EXPECT_EQ(h.cells_weight.sizes(), (std::vector<int64_t>{36, rank, 1, 1}));
    return torch::conv2d(torch::conv2d(x, h.weight, h.bias, 1, 1), h.cells_weight, h.cells_bias);
  };
  const float scale = logits.abs().max().item<float>();
  EXPECT_LT((factored_logits(3) - logits).abs().max().item<float>(), 1e-5 * scale);
  EXPECT_LT((factored_logits(6) - logits).abs().max().item<float>(), 1e-5 * scale) << "spare maps add nothing";
  EXPECT_GT((factored_logits(2) - logits).abs().max().item<float>(), 0.01 * scale) << "rank 2 cuts the third";
  EXPECT_THROW(factor_chroma_class_head(weight, bias, 0), std::invalid_argument);
  EXPECT_THROW(factor_chroma_class_head(weight, bias.narrow(0, 0, 5), 3), std::invalid_argument);

  // The CPU's fused softmax over the cells times their centres: as LibTorch's softmax and matmul,
  // logits far apart (one cell takes all) and near (the mean) included, 49 cells (not a multiple of 8).
  const auto centres = chroma_class_centres(7);
  for (double spread : {0.01, 1.0, 30.0, 300.0}) {
    const auto l = torch::randn({1000, 49}) * spread;
    const auto expected = torch::matmul(l.softmax(1), centres);
    EXPECT_LT((softmax_centres(l, centres) - expected).abs().max().item<float>(), 1e-6) << spread;
  }
  // With a factored head's cells' layer folded in: as LibTorch's linear first.
  const auto maps = torch::randn({1000, 5}), cells = torch::randn({49, 5}) * 4, cells_bias = torch::randn({49});
  const auto expected = torch::matmul(torch::linear(maps, cells, cells_bias).softmax(1), centres);
  EXPECT_LT((softmax_centres(maps, centres, cells, cells_bias) - expected).abs().max().item<float>(), 1e-6);
  EXPECT_THROW(softmax_centres(maps, centres, cells.narrow(1, 0, 4), cells_bias), std::invalid_argument);
  EXPECT_THROW(softmax_centres(torch::zeros({4, 48}), centres), std::invalid_argument);
  EXPECT_THROW(softmax_centres(torch::zeros({4, 49}, torch::kDouble), centres), std::invalid_argument);
}

// Trained weights carried across heads: a U,V head becomes the chroma-class head of any rank that
// decodes to its chroma near gray; a full head becomes one of rank >= its own that gives its logits.
TEST(ChromaClasses, WeightsCarryAcrossHeadsOfAnyRank) {
  torch::manual_seed(9);
  const auto y = torch::rand({2, 1, 16, 20}), noise = torch::randn({2, 1, 16, 20});
  Generator uv_model(GeneratorConfig::preset("tiny-encoder-decoder"));
  {
    torch::NoGradGuard no_grad;
    uv_model->named_parameters()["output.weight"].mul_(0.1);  // chroma within the sigmoid's linear part
  }
  uv_model->eval();
  torch::NoGradGuard no_grad;
  const auto uv = uv_model->forward(y, noise);
  for (int64_t rank : {0, 2, 4}) {
    auto config = GeneratorConfig::preset("tiny-encoder-decoder-classes");
    config.head_rank = rank;
    config.temperature = 1;  // the annealed mean at 1 is the mean of the discretised Gaussian around uv
    Generator classes(config);
    copy_weights_across_heads(*uv_model, *classes);
    classes->eval();
    const float error = (classes->forward(y, noise) - uv).abs().max().item<float>();
    std::cout << "U,V head -> rank " << rank << ": largest chroma change " << error << "\n";
    EXPECT_LT(error, 0.01) << rank;
    EXPECT_TRUE(torch::equal(classes->named_parameters()["convs.0.weight"], uv_model->named_parameters()["convs.0.weight"]));
  }
  // Full rank (25 maps) -> rank 4: the logits where the full head's weight has rank 4.
  auto full_config = GeneratorConfig::preset("tiny-encoder-decoder-classes");
  full_config.head_rank = 0;
  Generator full(full_config);
  full->named_parameters()["output.weight"].copy_(
      torch::randn({25, 4}).matmul(torch::randn({4, 45})).view({25, 5, 3, 3}));
  full->eval();
  Generator cut(GeneratorConfig::preset("tiny-encoder-decoder-classes"));
  copy_weights_across_heads(*full, *cut);
  cut->eval();
  const auto logits = full->head(y, noise);
  EXPECT_LT((cut->head(y, noise) - logits).abs().max().item<float>(), 1e-4 * logits.abs().max().item<float>());
  EXPECT_THROW(copy_weights_across_heads(*full, *uv_model), std::invalid_argument) << "classes cannot become U,V";
  Generator seed(GeneratorConfig::preset("tiny"));
  EXPECT_THROW(copy_weights_across_heads(*seed, *cut), std::invalid_argument) << "other layers";
}

// Logit adjustment (colorgan-model rebalance): a shift of zero changes nothing; raising one cell's
// logit far above the others pulls every pixel's chroma to that cell's centre, at rank 4 (the
// cells' layer's bias) and at rank 0 (the output conv's).
TEST(ChromaClasses, ShiftingTheLogitsMovesTheChromaTowardsTheRaisedCells) {
  torch::manual_seed(8);
  for (const int64_t rank : {4, 0}) {
    auto config = GeneratorConfig::preset("tiny-encoder-decoder-classes");
    config.head_rank = rank;
    Generator g(config);
    g->eval();
    torch::NoGradGuard no_grad;
    const auto y = torch::rand({1, 1, 16, 24}), noise = torch::randn({1, 1, 16, 24});
    const auto before = g->forward(y, noise);
    shift_chroma_class_logits(*g, torch::zeros({25}));
    EXPECT_TRUE(torch::equal(g->forward(y, noise), before)) << "rank " << rank;
    auto shift = torch::zeros({25});
    shift[4 * 5 + 0] = 100.0;  // the cell at U 0.9, V 0.1
    shift_chroma_class_logits(*g, shift);
    const auto after = g->forward(y, noise);
    EXPECT_NEAR(after[0][0].min().item<float>(), 0.9f, 1e-3) << "rank " << rank;
    EXPECT_NEAR(after[0][1].max().item<float>(), 0.1f, 1e-3) << "rank " << rank;
    EXPECT_THROW(shift_chroma_class_logits(*g, torch::zeros({24})), std::invalid_argument);
  }
  Generator uv(GeneratorConfig::preset("tiny-encoder-decoder"));
  EXPECT_THROW(shift_chroma_class_logits(*uv, torch::zeros({25})), std::invalid_argument);
}

TEST(ChromaClasses, ConfigChecksRefuseBadHeads) {
  auto config = GeneratorConfig::preset("pretrained-encoder-classes");
  EXPECT_NO_THROW(config.check());
  EXPECT_EQ(config.output_channels(), config.head_rank);
  for (int64_t classes : {-1, 1, 2, 33}) {
    config.chroma_classes = classes;
    EXPECT_THROW(config.check(), std::invalid_argument) << classes;
  }
  config = GeneratorConfig::preset("pretrained-encoder-classes");
  for (double temperature : {0.0, -1.0, 1000.0, std::nan("")}) {
    config.temperature = temperature;
    EXPECT_THROW(config.check(), std::invalid_argument) << temperature;
  }
  config = GeneratorConfig::preset("pretrained-encoder-classes");
  for (int64_t rank : {int64_t{-1}, config.class_count(), config.class_count() + 1}) {
    config.head_rank = rank;
    EXPECT_THROW(config.check(), std::invalid_argument) << rank;
  }
  config.head_rank = 0;
  EXPECT_NO_THROW(config.check()) << "one conv to the logits";
  EXPECT_EQ(config.output_channels(), config.class_count());
  // Strides: powers of 2 below the coarsest scale's (1/16 for the pretrained encoder's 5 scales).
  for (int64_t stride : {1, 2, 4, 8}) {
    config.head_stride = stride;
    EXPECT_NO_THROW(config.check()) << stride;
  }
  for (int64_t stride : {0, -2, 3, 6, 16, 1024}) {
    config.head_stride = stride;
    EXPECT_THROW(config.check(), std::invalid_argument) << stride;
  }
  config = GeneratorConfig::preset("pretrained-encoder");
  config.head_rank = 2;
  EXPECT_THROW(config.check(), std::invalid_argument) << "a U,V head has no rank";
  config.head_rank = 0;
  config.head_stride = 2;
  EXPECT_THROW(config.check(), std::invalid_argument) << "nor a stride";
  GeneratorConfig seed;
  seed.chroma_classes = 15;
  EXPECT_THROW(seed.check(), std::invalid_argument) << "the seed generator regresses U,V";
  seed.chroma_classes = 0;
  seed.head_stride = 2;
  EXPECT_THROW(seed.check(), std::invalid_argument) << "nor has it a stride";
}
