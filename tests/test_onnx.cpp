// The ONNX export: onnx's checker accepts it (write_onnx checks before it
// writes) and OpenCV's DNN module runs it within 1e-4 of LibTorch, at several
// frame sizes from one file (dynamic H and W).
#include "colorgan/networks.h"
#include "onnx_export.h"
#include "generator_fixtures.h"
#include "test_support.h"

#include <gtest/gtest.h>
#include <opencv2/dnn.hpp>
#include <torch/torch.h>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <fstream>

using namespace colorgan;

namespace {

cv::Mat blob_of(const torch::Tensor& t) {
  std::vector<int> sizes(t.sizes().begin(), t.sizes().end());
  return cv::Mat(static_cast<int>(sizes.size()), sizes.data(), CV_32F, t.data_ptr<float>()).clone();
}

torch::Tensor tensor_of(cv::Mat blob) {
  std::vector<int64_t> sizes(blob.size.p, blob.size.p + blob.dims);
  return torch::from_blob(blob.ptr<float>(), sizes, torch::kFloat).clone();
}

}  // namespace

TEST(OnnxExport, OpenCvDnnRunsItWithinOneTenThousandthOfLibTorch) {
  const std::string dir = colorgan::testing::make_temp_dir("onnx");
  using Case = colorgan::testing::ExportCase;
  // Projected-vector models: onnx's checker alone (OpenCV 4.6's importer cannot infer the
  // shapes of Gemm -> Reshape -> Concat; ONNX Runtime would run it). Plane-noise models: both.
  for (const Case c : {Case{"tiny", NoiseInput::Plane}, Case{"tiny-encoder-decoder", NoiseInput::Plane},
                       Case{"seed", NoiseInput::Plane}, Case{"pretrained-encoder", NoiseInput::Plane},
                       Case{"tiny-encoder-decoder-classes", NoiseInput::Plane},
                       Case{"tiny", NoiseInput::ProjectedVector}}) {
    Generator generator = colorgan::testing::trained_looking_generator(c, 5);
    const GeneratorConfig& config = generator->config();
    const FoldedGenerator folded(*generator);
    const std::string path = dir + "/" + c.preset + ".onnx";
    write_onnx(folded, config, path);

    onnx::ModelProto model;
    std::ifstream file(path, std::ios::binary);
    ASSERT_TRUE(model.ParseFromIstream(&file)) << path;
    EXPECT_NO_THROW(onnx::checker::check_model(model));
    EXPECT_EQ(model.graph().input(0).name(), "y");
    EXPECT_EQ(model.graph().input(1).name(), "noise");
    EXPECT_EQ(model.graph().output(0).name(), "uv");
    if (c.noise_input == NoiseInput::Plane) {
      EXPECT_EQ(model.graph().input(0).type().tensor_type().shape().dim(2).dim_param(), "H") << "dynamic H";
    }

    if (c.noise_input != NoiseInput::Plane) {
      EXPECT_EQ(model.graph().input(1).type().tensor_type().shape().dim(1).dim_value(), config.noise_dim);
      continue;
    }
    cv::dnn::Net net = cv::dnn::readNetFromONNX(path);
    for (auto [h, w] : {std::pair<int64_t, int64_t>{32, 32}, {48, 80}, {16, 32}}) {  // multiples of 16
      torch::InferenceMode guard;
      const auto y = torch::rand({2, 1, h, w});
      const auto noise = torch::randn({2, 1, h, w});
      const auto expected = folded.forward(y, noise);
      net.setInput(blob_of(y), "y");
      net.setInput(blob_of(noise), "noise");
      const auto got = tensor_of(net.forward("uv"));
      ASSERT_EQ(got.sizes(), expected.sizes()) << c.preset << " " << h << "x" << w;
      EXPECT_LT((got - expected).abs().max().item<double>(), 1e-4) << c.preset << " " << h << "x" << w;
    }
  }
}
