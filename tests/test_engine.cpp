#include "colorgan/engine.h"
#include "colorgan/frames.h"

#include "generator_fixtures.h"
#include "test_support.h"

#include <ATen/Parallel.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fstream>
#include <iostream>
#include <cstdlib>
#include <malloc.h>
#include <sys/resource.h>
#include <torch/cuda.h>
#include <torch/script.h>
#include <torch/torch.h>

using namespace colorgan;
using ::testing::HasSubstr;

class EngineTest : public ::testing::Test {
 protected:
  std::string dir = colorgan::testing::make_temp_dir("engine");
  std::string model = colorgan::testing::write_test_model(dir, "tiny", 5);
  EngineOptions cpu() {  // fp32: these tests compare with the unfolded generator within 1e-4
    EngineOptions o;
    o.device = "cpu";
    o.threads = 1;
    o.precision = Precision::Fp32;
    return o;
  }
};

TEST_F(EngineTest, ColorizesBatchesOfAnySize) {
  InferenceEngine engine(model, cpu());
  EXPECT_EQ(engine.device(), torch::Device(torch::kCPU));
  for (auto [n, h, w] : {std::tuple{1, 32, 32}, std::tuple{3, 17, 41}}) {
    auto uv = engine.colorize(torch::rand({n, 1, h, w}));
    EXPECT_EQ(uv.sizes(), (std::vector<int64_t>{n, 2, h, w}));
    EXPECT_GE(uv.min().item<float>(), 0.0f);
    EXPECT_LE(uv.max().item<float>(), 1.0f);
  }
}

TEST_F(EngineTest, MatchesTheGeneratorInEvalModeWithTheSameNoise) {
  InferenceEngine engine(model, cpu());
  ModelFile file = load_model(model);
  file.generator->eval();
  torch::NoGradGuard no_grad;
  auto y = torch::rand({2, 1, 20, 24});
  auto noise = torch::randn({2, 1, 20, 24});
  // The engine runs the batch-norm-folded copy: equal within float rounding.
  EXPECT_LT((engine.colorize(y, noise) - file.generator->forward(y, noise)).abs().max().item<float>(), 1e-4);
}

// Gives batch norm non-trivial running statistics and affine parameters, as
// training would, and leaves the generator in eval mode.
static void give_trained_statistics(Generator& g, int64_t side) {
  torch::NoGradGuard no_grad;
  g->train();
  for (int i = 0; i < 5; ++i) g->forward(torch::rand({4, 1, side, side}) * 2, torch::randn({4, 1, side, side}));
  for (auto& p : g->named_parameters()) {
    if (p.key().rfind("norms.", 0) == 0) p.value().uniform_(0.5, 1.5);
  }
  g->eval();
}

TEST(FoldedGenerator, MatchesTheUnfoldedSeedGeneratorWithTrainedStatistics) {
  torch::manual_seed(9);
  Generator g;  // the seed config
  give_trained_statistics(g, 24);
  FoldedGenerator folded(*g);
  torch::NoGradGuard no_grad;
  auto y = torch::rand({2, 1, 40, 56});
  auto noise = torch::randn({2, 1, 40, 56});
  const float diff = (folded.forward(y, noise) - g->forward(y, noise)).abs().max().item<float>();
  EXPECT_LT(diff, 1e-4);
  EXPECT_THROW(folded.forward(torch::rand({1, 1, 8, 8}), torch::randn({1, 1, 4, 4})), std::invalid_argument);

  // bfloat16 weights: float in and out, chroma within a few 8-bit levels.
  FoldedGenerator half(*g);
  half.to(torch::kCPU, torch::kBFloat16);
  const auto out = half.forward(y, noise);
  EXPECT_EQ(out.scalar_type(), torch::kFloat);
  const auto error = (out - g->forward(y, noise)).abs();
  std::cout << "bf16 vs fp32: max " << error.max().item<float>() << ", mean " << error.mean().item<float>() << "\n";
  EXPECT_LT(error.max().item<float>(), 0.03);
  EXPECT_LT(error.mean().item<float>(), 0.004);
}

TEST_F(EngineTest, OwnNoiseIsSeededAndReproducible) {
  auto options = cpu();
  options.seed = 11;
  InferenceEngine a(model, options), b(model, options);
  options.seed = 12;
  InferenceEngine c(model, options);
  auto y = torch::rand({1, 1, 16, 16});
  auto ua = a.colorize(y);
  EXPECT_TRUE(torch::equal(ua, b.colorize(y)));
  EXPECT_FALSE(torch::equal(ua, c.colorize(y)));
  // Its own noise is the same stream as NoiseSource(seed).
  EXPECT_TRUE(torch::equal(ua, a.colorize(y, NoiseSource(11).planes(1, 16, 16))));
}

TEST_F(EngineTest, ThreadCountIsApplied) {
  auto options = cpu();
  options.threads = 1;
  InferenceEngine engine(model, options);
  EXPECT_EQ(at::get_num_threads(), 1);
  options.threads = 0;
  InferenceEngine all(model, options);
  EXPECT_EQ(at::get_num_threads(), available_cores());
  options.threads = 1000;  // capped: more threads than cores only wait for each other
  InferenceEngine capped(model, options);
  EXPECT_EQ(at::get_num_threads(), available_cores());
}

TEST_F(EngineTest, PlaneColorizerMatchesTheEngine) {
  const int w = 13, h = 9;
  auto y = torch::rand({1, 1, h, w});
  auto noise = torch::randn({1, 1, h, w});
  InferenceEngine engine(model, cpu());
  auto expected = engine.colorize(y, noise);
  PlaneColorizerOptions options;
  options.model_path = model;
  options.device = "cpu";
  options.threads = 1;
  options.precision = Precision::Fp32;  // as cpu() has it
  options.inference_size = "native";  // the engine runs at the frame's own size
  PlaneColorizer planes(options);
  std::vector<float> u(w * h), v(w * h);
  planes.colorize(y.data_ptr<float>(), noise.data_ptr<float>(), u.data(), v.data(), w, h);
  EXPECT_TRUE(torch::allclose(torch::from_blob(u.data(), {h, w}), expected[0][0]));
  EXPECT_TRUE(torch::allclose(torch::from_blob(v.data(), {h, w}), expected[0][1]));
}

TEST(Options, NamesRoundTripAndUnknownNamesAreClearErrors) {
  for (auto p : {Precision::Fp32, Precision::Bf16, Precision::Auto}) EXPECT_EQ(parse_precision(to_string(p)), p);
  for (auto u : {ChromaUpsampling::Guided, ChromaUpsampling::Bicubic}) EXPECT_EQ(parse_chroma_upsampling(to_string(u)), u);
  for (auto d : {NoiseDistribution::Gaussian, NoiseDistribution::Uniform}) {
    EXPECT_EQ(parse_noise_distribution(to_string(d)), d);
  }
  try {
    parse_precision("fp8");
    ADD_FAILURE() << "fp8 was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "unknown precision 'fp8' (expected fp32 or bf16 or auto)");
  }
  EXPECT_THROW(parse_chroma_upsampling("nearest"), std::invalid_argument);
}

TEST_F(EngineTest, BadModelFileIsAClearError) {
  try {
    InferenceEngine engine(dir + "/missing.cgan", cpu());
    FAIL() << "no exception";
  } catch (const ModelFileError& e) {
    EXPECT_THAT(e.what(), HasSubstr("missing.cgan"));
  }
}

TEST(Devices, NamesAreParsed) {
  EXPECT_EQ(resolve_device("cpu"), torch::Device(torch::kCPU));
  EXPECT_THROW(resolve_device("tpu"), DeviceError);
  EXPECT_THROW(resolve_device("cuda:x"), DeviceError);
  EXPECT_THROW(resolve_device(""), DeviceError);
  const auto automatic = resolve_device("auto");
  EXPECT_EQ(automatic.is_cuda(), torch::cuda::is_available());
}

TEST(Devices, CudaWithoutCudaIsAnErrorNotAFallback) {
  if (torch::cuda::is_available()) GTEST_SKIP() << "a GPU is available: nothing to refuse";
  for (const char* name : {"cuda", "cuda:0", "cuda:1"}) {
    try {
      resolve_device(name);
      ADD_FAILURE() << name << " accepted without CUDA";
    } catch (const DeviceError& e) {
      EXPECT_THAT(e.what(), HasSubstr("CUDA is not available"));
    }
  }
}

TEST_F(EngineTest, CudaMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device in this build/machine";
  auto options = cpu();
  InferenceEngine on_cpu(model, options);
  options.device = "cuda";
  InferenceEngine on_gpu(model, options);
  auto y = torch::rand({2, 1, 32, 32});
  auto noise = torch::randn({2, 1, 32, 32});
  auto a = on_cpu.colorize(y, noise);
  auto b = on_gpu.colorize(y, noise);
  EXPECT_TRUE(b.device().is_cpu()) << "results come back on the input's device";
  EXPECT_LT((a - b).abs().max().item<float>(), 1e-4);
}

// glibc returned a forward pass's freed activations to the kernel after every
// frame (~3,000 page faults per 64x64 frame with the seed generator; the bench
// prints the engine's figure). What keep_freed_memory() promises is glibc's
// behaviour alone, so it is tested on plain blocks of activation size in this
// thread: whatever oneDNN does on a given CPU is no part of it.
TEST(KeepFreedMemory, AFreedActivationSizedBlockStaysInTheHeapForTheNextOne) {
  if (!keep_freed_memory()) GTEST_SKIP() << "malloc parameters set by the user (or no glibc): left as they are";
  constexpr size_t kBytes = 16 << 20, kPage = 4096;
  void* (*volatile allocate)(size_t) = std::malloc;  // volatile: the compiler may not elide the pairs
  auto touch = [](void* block) {
    for (size_t i = 0; i < kBytes; i += kPage) static_cast<volatile char*>(block)[i] = 1;
  };
  auto faults_of_this_thread = [] {
    rusage usage{};
    getrusage(RUSAGE_THREAD, &usage);
    return usage.ru_minflt;
  };
  const size_t mapped_before = mallinfo2().hblkhd;
  void* first = allocate(kBytes);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(mallinfo2().hblkhd, mapped_before) << "a 16 MB block was mapped on its own (glibc's default above 128 KB)";
  touch(first);
  std::free(first);
  const long before = faults_of_this_thread();
  void* second = allocate(kBytes);
  ASSERT_NE(second, nullptr);
  touch(second);
  const long faults = faults_of_this_thread() - before;
  std::free(second);
  std::cout << "page faults touching a freed-then-reallocated 16 MB block: " << faults << " (of "
            << kBytes / kPage << " pages)\n";
  EXPECT_LT(faults, 64) << "the freed block's pages went back to the kernel";
}

TEST(FoldedGenerator, MatchesTheUnfoldedEncoderDecoderWithTrainedStatistics) {
  torch::manual_seed(10);
  Generator g(GeneratorConfig::preset("encoder-decoder"));
  give_trained_statistics(g, 32);
  torch::NoGradGuard no_grad;
  auto y = torch::rand({2, 1, 45, 61});  // odd sizes: every scale rounds up
  auto noise = torch::randn({2, 1, 45, 61});
  const auto expected = g->forward(y, noise);
  FoldedGenerator folded(*g);
  EXPECT_LT((folded.forward(y, noise) - expected).abs().max().item<float>(), 1e-4);

  FoldedGenerator half(*g);
  half.to(torch::kCPU, torch::kBFloat16);
  const auto error = (half.forward(y, noise) - expected).abs();
  std::cout << "encoder-decoder bf16 vs fp32: max " << error.max().item<float>() << ", mean "
            << error.mean().item<float>() << "\n";
  EXPECT_LT(error.max().item<float>(), 0.05);
  EXPECT_LT(error.mean().item<float>(), 0.006);
}

TEST(FoldedGenerator, MatchesTheUnfoldedPretrainedEncoderWithTrainedStatistics) {
  torch::manual_seed(12);
  Generator g(GeneratorConfig::preset("pretrained-encoder"));
  colorgan::testing::give_trained_looking_statistics(*g->encoder());  // as a pretrained network's
  give_trained_statistics(g, 32);
  torch::NoGradGuard no_grad;
  auto y = torch::rand({2, 1, 45, 61});  // odd sizes: MobileNetV2 pads them its own way
  auto noise = torch::randn({2, 1, 45, 61});
  const auto expected = g->forward(y, noise);
  FoldedGenerator folded(*g);
  EXPECT_LT((folded.forward(y, noise) - expected).abs().max().item<float>(), 1e-4);
  y = torch::rand({1, 1, 64, 96});  // and even ones
  noise = torch::randn({1, 1, 64, 96});
  EXPECT_LT((folded.forward(y, noise) - g->forward(y, noise)).abs().max().item<float>(), 1e-4);

  FoldedGenerator half(*g);
  half.to(torch::kCPU, torch::kBFloat16);
  const auto error = (half.forward(y, noise) - g->forward(y, noise)).abs();
  std::cout << "pretrained-encoder bf16 vs fp32: max " << error.max().item<float>() << ", mean "
            << error.mean().item<float>() << "\n";
  EXPECT_LT(error.max().item<float>(), 0.05);
  EXPECT_LT(error.mean().item<float>(), 0.006);
}

TEST(FoldedGenerator, MatchesTheUnfoldedChromaClassHeadWithItsTemperatureFolded) {
  // The preset's (rank 16, decoded at stride 2), one conv at stride 2, and rank 16 at full size.
  for (auto [rank, stride] : {std::pair<int64_t, int64_t>{16, 2}, {0, 2}, {16, 1}}) {
    torch::manual_seed(14);
    auto config = GeneratorConfig::preset("pretrained-encoder-classes");
    config.temperature = 0.2;
    config.head_rank = rank;
    config.head_stride = stride;
    Generator g(config);
    colorgan::testing::give_trained_looking_statistics(*g->encoder());
    give_trained_statistics(g, 32);
    {
      torch::NoGradGuard no_grad;
      g->named_parameters()["output.weight"].mul_(30);  // logits far apart, where the temperature tells
    }
    torch::NoGradGuard no_grad;
    const auto y = torch::rand({2, 1, 45, 61}), noise = torch::randn({2, 1, 45, 61});
    const auto expected = g->forward(y, noise);
    FoldedGenerator folded(*g);
    EXPECT_LT((folded.forward(y, noise) - expected).abs().max().item<float>(), 1e-4) << rank << ", " << stride;
    const auto head = g->head(y, noise);
    EXPECT_GT((annealed_mean(head, config.chroma_classes, 1.0) - annealed_mean(head, config.chroma_classes, 0.2))
                  .abs()
                  .max()
                  .item<float>(),
              0.01)
        << "the temperature changes the chroma";
  }
}

// LibTorch 1.13's channels_last bfloat16 bilinear upsampling read past its input's
// last column where an output side is odd and the input ceil(side / 2) (128x325:
// 33x82 -> 65x163 in the decoder): whatever the heap held there came out at the
// right edge, NaN included. The heap is filled with NaN first, so that reused
// memory shows; the shipped encoder-decoder model at that size, bf16 against fp32.
TEST(FoldedGenerator, Bf16DecoderReadsNoMemoryOutsideItsMapsAtOddSizes) {
  ModelFile model = load_model(colorgan::testing::meson_env("COLORGAN_MODELS") + "/encoder-decoder.cgan");
  ASSERT_EQ(model.generator->config().kind, GeneratorKind::EncoderDecoder);
  keep_freed_memory();  // as in the engine: freed blocks stay in the heap for the next allocation
  model.generator->eval();
  FoldedGenerator fp32(*model.generator), bf16(*model.generator);
  bf16.to(torch::kCPU, torch::kBFloat16);
  c10::InferenceMode guard;
  for (int trial = 0; trial < 5; ++trial) {
    const auto y = torch::rand({1, 1, 128, 325}), noise = torch::randn({1, 1, 128, 325});
    const auto expected = fp32.forward(y, noise);
    {
      std::vector<torch::Tensor> poison;
      for (int i = 0; i < 40; ++i) poison.push_back(torch::full({int64_t{1} << (16 + i % 6)}, NAN));
    }
    const auto uv = bf16.forward(y, noise);
    ASSERT_FALSE(uv.isnan().any().item<bool>()) << "trial " << trial;
    EXPECT_LT((uv - expected).abs().max().item<float>(), 0.1) << "trial " << trial;
  }
}

// A generator written in TorchScript by someone else (here, straight from its
// source) runs in the engine when it keeps the contract, and is a clear error,
// naming the file, when it does not or is no TorchScript at all.
TEST(TorchScriptGenerator, RunsWhenItKeepsTheContractAndIsAClearErrorOtherwise) {
  const std::string dir = colorgan::testing::make_temp_dir("torchscript");
  auto module_file = [&](const std::string& name, const std::string& body) {
    torch::jit::Module module("generator");
    module.register_parameter("shift", torch::full({1}, 0.25), false);
    module.define("def forward(self, y: Tensor, noise: Tensor) -> Tensor:\n" + body);
    const std::string path = dir + "/" + name + ".pt";
    module.save(path);
    return path;
  };
  EngineOptions options;
  options.device = "cpu";
  const std::string good =
      module_file("good", "    return torch.cat([y * 0.5 + self.shift, 1.0 - y * 0.5 - self.shift + 0.0 * noise], 1)\n");
  InferenceEngine engine(good, options);
  const auto y = torch::rand({2, 1, 20, 30});
  const auto uv = engine.colorize(y);
  ASSERT_EQ(uv.sizes(), (std::vector<int64_t>{2, 2, 20, 30}));
  EXPECT_TRUE(torch::allclose(uv[0][0], y[0][0] * 0.5 + 0.25));
  EXPECT_EQ(engine.precision(), Precision::Fp32);
  EXPECT_EQ(engine.metadata().training_width, 256) << "no metadata: the documented default working size";

  // A module that breaks the contract, or no module at all: a ModelFileError naming the file and why.
  auto expect_refused = [&](const std::string& path, const std::string& why) {
    try {
      InferenceEngine bad(path, options);
      ADD_FAILURE() << path << " was accepted";
    } catch (const ModelFileError& e) {
      EXPECT_THAT(e.what(), HasSubstr(path));
      EXPECT_THAT(e.what(), HasSubstr(why));
    }
  };
  expect_refused(module_file("three", "    return torch.cat([y, y, noise], 1)\n"), "uv [N,2,H,W]");  // 3 channels
  const std::string corrupt = dir + "/corrupt.pt";
  std::ofstream(corrupt, std::ios::binary) << "PK\x03\x04 but nothing of a zip archive after it";
  expect_refused(corrupt, "not a TorchScript module");
}
