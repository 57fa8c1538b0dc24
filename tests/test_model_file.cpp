#include "colorgan/model_file.h"

#include "test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

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
  expect_load_error(dir + "/empty.cgan", "cannot load");
}

TEST_F(ModelFileTest, RandomBytes) {
  std::ofstream out(dir + "/random.cgan", std::ios::binary);
  auto bytes = torch::randint(0, 256, {4096}, torch::kByte);
  out.write(reinterpret_cast<const char*>(bytes.data_ptr<uint8_t>()), bytes.numel());
  out.close();
  expect_load_error(dir + "/random.cgan", "cannot load");
}

TEST_F(ModelFileTest, TruncatedFilesAtManyLengths) {
  const std::string good = colorgan::testing::write_test_model(dir);
  std::ifstream in(good, std::ios::binary);
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (double fraction : {0.1, 0.5, 0.9, 0.99}) {
    const std::string path = dir + "/truncated.cgan";
    std::ofstream(path, std::ios::binary).write(content.data(), static_cast<std::streamsize>(content.size() * fraction));
    expect_load_error(path, "cannot load");
  }
}

TEST_F(ModelFileTest, WrongKindOfTorchFile) {
  // A valid LibTorch archive that is not a colorgan model.
  const std::string path = dir + "/tensor.pt";
  torch::save(torch::ones({3}), path);
  expect_load_error(path, "not a colorgan model file");
}

TEST_F(ModelFileTest, WeightsThatDoNotMatchTheConfig) {
  // Hand-made archive: a valid header whose stored layer list disagrees with its weights.
  Generator small(GeneratorConfig::preset("tiny"));
  const std::string good = dir + "/good.cgan";
  save_model(good, small, {});
  torch::serialize::InputArchive in;
  in.load_from(good);
  torch::serialize::OutputArchive out;
  for (const auto& key : in.keys()) {
    if (key == "generator") {
      torch::serialize::InputArchive weights;
      in.read(key, weights);
      torch::serialize::OutputArchive copy;
      Generator(GeneratorConfig::preset("tiny"))->save(copy);
      out.write(key, copy);
    } else if (key == "config.hidden_channels") {
      out.write(key, c10::IValue(c10::List<int64_t>({9, 8, 4})));
    } else {
      c10::IValue value;
      in.read(key, value);
      out.write(key, value);
    }
  }
  out.save_to(dir + "/mismatch.cgan");
  expect_load_error(dir + "/mismatch.cgan", "does not match");
}
