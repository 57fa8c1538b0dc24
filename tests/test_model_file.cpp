#include "colorgan/model_file.h"

#include "test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <unistd.h>

using namespace colorgan;
using ::testing::HasSubstr;

namespace {

torch::Tensor run(Generator& g, const torch::Tensor& y, const torch::Tensor& n) {
  g->eval();
  torch::NoGradGuard no_grad;
  return g->forward(y, n);
}

// Expects load_model(path) to throw ModelFileError whose message names the file and contains `reason`.
void expect_load_error(const std::string& path, const std::string& reason) {
  try {
    load_model(path);
    ADD_FAILURE() << "loading " << path << " did not throw";
  } catch (const ModelFileError& e) {
    EXPECT_THAT(e.what(), HasSubstr(path));
    EXPECT_THAT(e.what(), HasSubstr(reason));
  }
}

}  // namespace

class ModelFileTest : public ::testing::Test {
 protected:
  std::string dir = colorgan::testing::make_temp_dir("modelfile");
};

TEST_F(ModelFileTest, RoundTripKeepsWeightsConfigAndMetadata) {
  torch::manual_seed(3);
  GeneratorConfig config = GeneratorConfig::preset("public-code");
  Generator g(config);
  // Batch-norm running statistics are state too: change them so a round trip must carry them.
  g->train();
  {
    torch::NoGradGuard no_grad;
    g->forward(torch::rand({2, 1, 8, 8}) * 3, torch::randn({2, 1, 8, 8}));
  }
  ModelMetadata meta;
  meta.training_width = 96;
  meta.training_height = 80;
  meta.noise_distribution = NoiseDistribution::Uniform;
  meta.provenance = "unit test; steps 0";
  const std::string path = dir + "/model.cgan";
  save_model(path, g, meta);

  ModelFile loaded = load_model(path);
  EXPECT_EQ(loaded.generator->config(), config);
  EXPECT_EQ(loaded.metadata.training_width, 96);
  EXPECT_EQ(loaded.metadata.training_height, 80);
  EXPECT_EQ(loaded.metadata.noise_distribution, NoiseDistribution::Uniform);
  EXPECT_EQ(loaded.metadata.colour_convention, 1);
  EXPECT_EQ(loaded.metadata.provenance, "unit test; steps 0");
  auto y = torch::rand({1, 1, 12, 10});
  auto n = torch::randn({1, 1, 12, 10});
  EXPECT_TRUE(torch::equal(run(g, y, n), run(loaded.generator, y, n)));
}

TEST_F(ModelFileTest, ProjectedVectorModelsRoundTrip) {
  GeneratorConfig config = GeneratorConfig::preset("tiny");
  config.noise_input = NoiseInput::ProjectedVector;
  config.projected_size = 8;
  Generator g(config);
  save_model(dir + "/p.cgan", g, {});
  ModelFile loaded = load_model(dir + "/p.cgan");
  EXPECT_EQ(loaded.generator->config().noise_input, NoiseInput::ProjectedVector);
  auto y = torch::rand({1, 1, 8, 8});
  auto n = torch::randn({1, 100});
  EXPECT_TRUE(torch::equal(run(g, y, n), run(loaded.generator, y, n)));
}

TEST_F(ModelFileTest, WritesAtomicallyAndLeavesNoTemporaryFiles) {
  Generator g(GeneratorConfig::preset("tiny"));
  const std::string path = dir + "/m.cgan";
  save_model(path, g, {});
  save_model(path, g, {});  // overwrite in place
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename());
  EXPECT_EQ(names, std::vector<std::string>{"m.cgan"});
  EXPECT_THROW(save_model(dir + "/no/such/dir/m.cgan", g, {}), ModelFileError);
}

TEST_F(ModelFileTest, MissingFile) { expect_load_error(dir + "/nonexistent.cgan", "does not exist"); }

TEST_F(ModelFileTest, DirectoryInsteadOfFile) { expect_load_error(dir, "not a file"); }

TEST_F(ModelFileTest, EmptyFile) {
  std::ofstream(dir + "/empty.cgan").close();
  expect_load_error(dir + "/empty.cgan", "not a colorgan model file");
}

TEST_F(ModelFileTest, RandomBytes) {
  std::ofstream out(dir + "/random.cgan", std::ios::binary);
  auto bytes = torch::randint(0, 256, {4096}, torch::kByte);
  out.write(reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()), bytes.numel());
  out.close();
  expect_load_error(dir + "/random.cgan", "not a colorgan model file");
}

TEST_F(ModelFileTest, TruncatedFilesAtManyLengths) {
  const std::string good = colorgan::testing::write_test_model(dir);
  std::ifstream in(good, std::ios::binary);
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (double fraction : {0.1, 0.5, 0.9, 0.99}) {
    const std::string path = dir + "/truncated.cgan";
    std::ofstream(path, std::ios::binary).write(content.data(), static_cast<std::streamsize>(content.size() * fraction));
    expect_load_error(path, "truncated or padded");
  }
}

TEST_F(ModelFileTest, WrongKindOfTorchFile) {
  // A valid LibTorch archive that is not a colorgan model.
  const std::string path = dir + "/tensor.pt";
  torch::save(torch::ones({3}), path);
  expect_load_error(path, "no colorgan header");
  EXPECT_THROW(load_model(path, Integrity::Unchecked), ModelFileError);  // parsed: no colorgan format tag
}

// Writes the model file `to` from the archive in the model file `from`, with
// `replace(key, value)` deciding each entry's value (false: leave the entry
// out); the weights are copied as they are. `bare` writes a version-1 file: the
// archive alone, without the container and its digest.
void copy_archive(const std::string& from, const std::string& to,
                  const std::function<bool(const std::string&, c10::IValue&)>& replace, bool bare = false) {
  torch::serialize::InputArchive in;
  read_model_archive(from, in);
  torch::serialize::OutputArchive out;
  for (const auto& key : in.keys()) {
    if (key == "generator") {
      torch::serialize::InputArchive weights;
      in.read(key, weights);
      Generator copy(GeneratorConfig::preset("tiny"));
      copy->load(weights);
      torch::serialize::OutputArchive saved;
      copy->save(saved);
      out.write(key, saved);
      continue;
    }
    c10::IValue value;
    in.read(key, value);
    if (replace(key, value)) out.write(key, value);
  }
  if (bare) {
    out.save_to(to);
  } else {
    write_model_archive(out, to);
  }
}

TEST_F(ModelFileTest, WeightsThatDoNotMatchTheConfig) {
  // The stored layer list disagrees with the weights.
  const std::string good = colorgan::testing::write_test_model(dir);
  copy_archive(good, dir + "/mismatch.cgan", [](const std::string& key, c10::IValue& value) {
    if (key == "config.hidden_channels") value = c10::IValue(c10::List<int64_t>({9, 8, 4}));
    return true;
  });
  expect_load_error(dir + "/mismatch.cgan", "does not match");
}

TEST_F(ModelFileTest, AFlippedByteInAWeightIsRejected) {
  torch::manual_seed(5);
  Generator g(GeneratorConfig::preset("tiny"));
  const std::string path = dir + "/m.cgan";
  save_model(path, g, {});
  std::ifstream in(path, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The first conv's weights are stored raw: find them and flip one bit in the middle.
  const at::Tensor weight = g->named_parameters()[0].value().contiguous();
  const std::string raw(static_cast<const char*>(weight.data_ptr()), weight.numel() * sizeof(float));
  const size_t at = content.find(raw);
  ASSERT_NE(at, std::string::npos);
  content[at + raw.size() / 2] ^= 0x10;
  std::ofstream(path, std::ios::binary) << content;
  expect_load_error(path, "is corrupt");
}

TEST_F(ModelFileTest, SizesOutOfBoundsAreRejectedBeforeAllocating) {
  const std::string good = colorgan::testing::write_test_model(dir);
  const std::vector<std::pair<std::string, c10::IValue>> bad = {
      {"meta.training_width", c10::IValue(int64_t{0})},
      {"meta.training_height", c10::IValue(int64_t{-64})},
      {"meta.training_width", c10::IValue(int64_t{100000})},
      {"config.hidden_channels", c10::IValue(c10::List<int64_t>({500000, 8, 4}))},
      {"config.hidden_channels", c10::IValue(c10::List<int64_t>({2000000, 2000000, 2000000}))},
      {"config.hidden_kernels", c10::IValue(c10::List<int64_t>({4, 3, 3}))},
      {"config.output_kernel", c10::IValue(int64_t{1001})},
      {"config.noise_layers", c10::IValue(c10::List<int64_t>({7}))},
  };
  const std::vector<std::string> reasons = {"outside 1..8192", "outside 1..8192", "outside 1..8192", "channels",
                                            "channels", "kernel 4 is not odd", "kernel 1001", "out of range"};
  for (size_t i = 0; i < bad.size(); ++i) {
    const std::string path = dir + "/bad" + std::to_string(i) + ".cgan";
    copy_archive(good, path, [&](const std::string& key, c10::IValue& value) {
      if (key == bad[i].first) value = bad[i].second;
      return true;
    });
    expect_load_error(path, reasons[i]);
  }
}

TEST_F(ModelFileTest, VersionOneFilesAreRefusedUntilUpgraded) {
  const std::string good = colorgan::testing::write_test_model(dir), old = dir + "/v1.cgan";
  copy_archive(
      good, old,
      [](const std::string& key, c10::IValue& value) {
        if (key == "format_version") value = c10::IValue(int64_t{1});
        return true;
      },
      true);
  expect_load_error(old, "colorgan-model upgrade");
  ModelFile unchecked = load_model(old, Integrity::Unchecked);
  save_model(dir + "/v2.cgan", unchecked.generator, unchecked.metadata);
  ModelFile upgraded = load_model(dir + "/v2.cgan");
  ModelFile original = load_model(good);
  auto y = torch::rand({1, 1, 8, 8});
  auto n = torch::randn({1, 1, 8, 8});
  EXPECT_TRUE(torch::equal(run(original.generator, y, n), run(upgraded.generator, y, n)));
}

TEST_F(ModelFileTest, ATruncatedOrPaddedContainerIsRejected) {
  const std::string good = colorgan::testing::write_test_model(dir);
  std::ifstream in(good, std::ios::binary);
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dir + "/padded.cgan", std::ios::binary) << content << "extra";
  expect_load_error(dir + "/padded.cgan", "truncated or padded");
  std::ofstream(dir + "/short.cgan", std::ios::binary) << content.substr(0, 30);
  expect_load_error(dir + "/short.cgan", "truncated or padded");
  std::ofstream(dir + "/text.cgan", std::ios::binary) << "CGAN? no, just text";
  expect_load_error(dir + "/text.cgan", "not a colorgan model file");
}

TEST_F(ModelFileTest, PermissionDeniedSaysSo) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads files whatever their permissions";
  const std::string path = colorgan::testing::write_test_model(dir);
  std::filesystem::permissions(path, std::filesystem::perms::none);
  expect_load_error(path, "Permission denied");
}

TEST_F(ModelFileTest, EncoderDecoderKindsRoundTripPretrainedEncoderIncluded) {
  torch::manual_seed(2);
  for (const char* preset : {"tiny-encoder-decoder", "pretrained-encoder", "tiny-encoder-decoder-classes"}) {
    GeneratorConfig config = GeneratorConfig::preset(preset);
    config.temperature = 0.25;  // kept, with the head's class count
    Generator g(config);
    save_model(dir + "/ed.cgan", g, {});
    ModelFile loaded = load_model(dir + "/ed.cgan");
    EXPECT_EQ(loaded.generator->config(), config);
    auto y = torch::rand({1, 1, 20, 36});
    auto n = torch::randn({1, 1, 20, 36});
    EXPECT_TRUE(torch::equal(run(g, y, n), run(loaded.generator, y, n))) << preset;
  }
}

TEST(ShippedModels, SeedIsTheSeedArchitectureTheDefaultThePretrainedEncoderWithChromaClasses) {
  const std::string models = colorgan::testing::meson_env("COLORGAN_MODELS");
  const ModelFile seed = load_model(models + "/seed.cgan");
  EXPECT_EQ(seed.generator->config(), GeneratorConfig::preset("seed"));
  EXPECT_EQ(parameter_count(*seed.generator), 588628);
  const ModelFile default_model = load_model(models + "/default.cgan");
  EXPECT_EQ(default_model.generator->config(), GeneratorConfig::preset("pretrained-encoder-classes"));
  EXPECT_EQ(default_model.metadata.training_width, 64);
  const ModelFile regression = load_model(models + "/pretrained-encoder.cgan");
  EXPECT_EQ(regression.generator->config(), GeneratorConfig::preset("pretrained-encoder"));
  const ModelFile encoder_decoder = load_model(models + "/encoder-decoder.cgan");
  EXPECT_EQ(encoder_decoder.generator->config(), GeneratorConfig::preset("encoder-decoder"));
}
