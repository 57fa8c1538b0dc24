// The pretrained backbone's network and files, without the download (random
// weights here; tests/test_backbone.sh converts the real one and checks it
// against TensorFlow.js). The feature loss is tested with the trainer.
#include "colorgan/backbone.h"
#include "colorgan/errors.h"
#include "colorgan/networks.h"

#include "test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

using namespace colorgan;
using ::testing::HasSubstr;

TEST(MobileNetV2, IsKerasMobileNetV2WithNsfwjsHead) {
  MobileNetV2 net;
  // Keras' MobileNetV2(alpha=1) has 2,223,872 trainable parameters without its top;
  // nsfwjs's head adds 1280*256+256 + 256*128+128 + 128*5+5 = 361,477.
  EXPECT_EQ(parameter_count(*net), 2223872 + 361477);
  net->eval();
  torch::NoGradGuard no_grad;
  // Any size: odd sides round up at each stride-2 layer, as Keras pads them.
  const auto taps = net->features(torch::rand({2, 3, 64, 50}), {12, 2, 5});
  ASSERT_EQ(taps.size(), 3u);
  EXPECT_EQ(taps[0].sizes(), (std::vector<int64_t>{2, 96, 4, 4}));
  EXPECT_EQ(taps[1].sizes(), (std::vector<int64_t>{2, 24, 16, 13}));
  EXPECT_EQ(taps[2].sizes(), (std::vector<int64_t>{2, 32, 8, 7}));
  const auto p = net->classify(torch::rand({1, 3, 224, 224}));
  EXPECT_NEAR(p.sum().item<float>(), 1.0f, 1e-5);
  EXPECT_THROW(net->features(torch::rand({1, 3, 32, 32}), {18}), c10::Error);
  EXPECT_THROW(net->classify(torch::rand({1, 3, 64, 64})), c10::Error);
}

TEST(MobileNetV2, BackboneFilesRoundTripAndAreChecked) {
  const std::string dir = colorgan::testing::make_temp_dir("backbone");
  torch::manual_seed(3);
  MobileNetV2 net;
  save_backbone(dir + "/net.pt", net);
  MobileNetV2 back = load_backbone(dir + "/net.pt");
  const auto a = net->named_parameters(), b = back->named_parameters();
  for (const auto& p : a) EXPECT_TRUE(torch::equal(p.value(), b[p.key()])) << p.key();

  // A flipped byte, a model file of another kind, a missing file: ModelFileErrors naming the file.
  std::fstream file(dir + "/net.pt", std::ios::in | std::ios::out | std::ios::binary);
  file.seekp(1000);
  file.put('\x5a');
  file.close();
  auto expect_refused = [](const std::string& path, const std::string& why) {
    try {
      load_backbone(path);
      ADD_FAILURE() << path << " loaded";
    } catch (const ModelFileError& e) {
      EXPECT_THAT(e.what(), HasSubstr(path));
      EXPECT_THAT(e.what(), HasSubstr(why));
    }
  };
  expect_refused(dir + "/net.pt", "corrupt");
  expect_refused(colorgan::testing::write_test_model(dir), "not a colorgan backbone file");
  expect_refused(dir + "/missing.pt", "missing.pt");
}

TEST(MobileNetV2, ImportRefusesBrokenTensorFlowJsFiles) {
  const std::string dir = colorgan::testing::make_temp_dir("tfjs");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir + "/" + name, std::ios::binary) << text;
    return dir + "/" + name;
  };
  auto expect_refused = [](const std::string& model_json, const std::string& why) {
    MobileNetV2 net;
    try {
      import_tfjs(net, model_json);
      ADD_FAILURE() << model_json << " imported";
    } catch (const ModelFileError& e) {
      EXPECT_THAT(e.what(), HasSubstr(why));
    }
  };
  const std::string conv1 = R"({"name": "Conv1/kernel", "shape": [3, 3, 3, 32], "dtype": "float32",
                                "quantization": {"dtype": "uint8", "min": -1, "scale": 0.01}})";
  write("w.bin", std::string(864, '\x80'));
  expect_refused(write("a.json", "not json"), "is not a TensorFlow.js model");
  expect_refused(write("b.json", R"({"weightsManifest": [{"paths": ["../w.bin"], "weights": [)" + conv1 + "]}]}"),
                 "is not beside it");
  write("short.bin", std::string(800, '\x80'));
  expect_refused(write("c.json", R"({"weightsManifest": [{"paths": ["short.bin"], "weights": [)" + conv1 + "]}]}"),
                 "the weight files hold 800 bytes, the manifest describes 864");
  expect_refused(write("d.json", R"({"weightsManifest": [{"paths": ["w.bin"], "weights": [)" + conv1 + "]}]}"),
                 "1 weights assigned, MobileNetV2 has");  // a file with one layer only
  const std::string wrong = R"({"name": "Conv1/kernel", "shape": [3, 3, 3, 16], "dtype": "float32",
                                "quantization": {"dtype": "uint8", "min": -1, "scale": 0.01}})";
  write("half.bin", std::string(432, '\x80'));
  expect_refused(write("e.json", R"({"weightsManifest": [{"paths": ["half.bin"], "weights": [)" + wrong + "]}]}"),
                 "wrong shape");
  const std::string huge = R"({"name": "Conv1/kernel", "shape": [100000, 100000, 3, 32], "dtype": "float32"})";
  expect_refused(write("f.json", R"({"weightsManifest": [{"paths": ["w.bin"], "weights": [)" + huge + "]}]}"),
                 "implausible shape");
}
