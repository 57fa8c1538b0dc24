#include "onnx_export.h"

#include "colorgan/files.h"

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

#include <stdexcept>
#include <vector>

namespace colorgan {
namespace {

// Builds the ONNX graph one GraphWriter call at a time: weights become
// initializers, each call one node (or a few).
class OnnxWriter : public GraphWriter {
 public:
  explicit OnnxWriter(onnx::GraphProto& graph) : graph_(graph) {}

  std::string conv(const std::string& x, const torch::Tensor& weight, const torch::Tensor& bias, int64_t stride,
                   int64_t groups, int64_t pad) override {
    std::vector<std::string> inputs{x, initializer(weight)};
    if (bias.defined()) inputs.push_back(initializer(bias));
    const int64_t k = weight.size(2);
    onnx::NodeProto* n = node("Conv", inputs);
    ints(n, "kernel_shape", {k, k});
    ints(n, "pads", {pad, pad, pad, pad});
    ints(n, "strides", {stride, stride});
    ints(n, "group", {groups}, true);
    return n->output(0);
  }
  std::string pad_for_stride_2(const std::string& x) override {
    // One row and column at the bottom and right: frame sides are multiples of the
    // network's overall stride (onnx_side_multiple), so every side here is even.
    const std::string pads = initializer(torch::tensor({0, 0, 0, 0, 0, 0, 1, 1}, torch::kLong));
    return node("Pad", {x, pads})->output(0);
  }
  std::string add(const std::string& a, const std::string& b) override { return node("Add", {a, b})->output(0); }
  std::string relu(const std::string& x) override { return node("Relu", {x})->output(0); }
  std::string relu6(const std::string& x) override {
    // Relu(x) - Relu(x - 6): OpenCV 4.6's importer takes Clip's bounds only as attributes (opset < 11)
    // and Min only between computed tensors.
    const std::string shifted = add(x, initializer(torch::full({1}, -6.0f)));
    return node("Sub", {relu(x), relu(shifted)})->output(0);
  }
  std::string sigmoid(const std::string& x) override { return node("Sigmoid", {x})->output(0); }
  std::string softmax(const std::string& x) override {
    onnx::NodeProto* n = node("Softmax", {x});
    ints(n, "axis", {1}, true);  // opset 13: along this one axis (older opsets flattened from it)
    return n->output(0);
  }
  std::string cat(const std::vector<std::string>& xs) override {
    onnx::NodeProto* n = node("Concat", xs);
    ints(n, "axis", {1}, true);
    return n->output(0);
  }
  std::string project_noise(const std::string& noise, const torch::Tensor& weight, const torch::Tensor& bias,
                            int64_t size) override {
    onnx::NodeProto* gemm = node("Gemm", {noise, initializer(weight), initializer(bias)});
    ints(gemm, "transB", {1}, true);
    const std::string shape = initializer(torch::tensor({int64_t{-1}, int64_t{1}, size, size}, torch::kLong));
    return node("Reshape", {gemm->output(0), shape})->output(0);
  }
  std::string global_context(const std::string& x, const torch::Tensor& weight, const torch::Tensor& bias) override {
    // The linear layer as a 1x1 conv on the pooled maps, broadcast over x by adding it to 0 * x.
    const std::string pooled = node("GlobalAveragePool", {x})->output(0);
    const std::string context = relu(conv(pooled, weight.view({weight.size(0), weight.size(1), 1, 1}), bias, 1, 1, 0));
    const std::string zeros = node("Mul", {x, initializer(torch::zeros({1}))})->output(0);
    return add(zeros, context);
  }
  std::string upsample_to(const std::string& x, const std::string&, int64_t factor) override {
    const auto f = static_cast<float>(factor);
    onnx::NodeProto* n = node("Resize", {x, "", initializer(torch::tensor({1.0f, 1.0f, f, f}))});
    string(n, "mode", "linear");
    string(n, "coordinate_transformation_mode", "half_pixel");  // align_corners=False
    return n->output(0);
  }
  std::string pool_to(const std::string& y, const std::string&, int64_t factor) override {
    onnx::NodeProto* n = node("AveragePool", {y});
    ints(n, "kernel_shape", {factor, factor});
    ints(n, "strides", {factor, factor});
    return n->output(0);
  }

 private:
  onnx::NodeProto* node(const std::string& op, const std::vector<std::string>& inputs) {
    onnx::NodeProto* n = graph_.add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + std::to_string(graph_.node_size()));
    for (const auto& input : inputs) n->add_input(input);
    n->add_output("t" + std::to_string(graph_.node_size()));
    return n;
  }
  std::string initializer(const torch::Tensor& tensor) {
    const torch::Tensor t = tensor.contiguous();
    onnx::TensorProto* proto = graph_.add_initializer();
    proto->set_name("w" + std::to_string(graph_.initializer_size()));
    proto->set_data_type(t.scalar_type() == torch::kLong ? onnx::TensorProto::INT64 : onnx::TensorProto::FLOAT);
    for (int64_t d : t.sizes()) proto->add_dims(d);
    proto->set_raw_data(t.data_ptr(), t.numel() * t.element_size());  // little-endian, as ONNX's raw_data
    return proto->name();
  }
  static void ints(onnx::NodeProto* n, const char* name, const std::vector<int64_t>& values, bool scalar = false) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    if (scalar) {
      a->set_type(onnx::AttributeProto::INT);
      a->set_i(values[0]);
      return;
    }
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values) a->add_ints(v);
  }
  static void string(onnx::NodeProto* n, const char* name, const std::string& value) {
    onnx::AttributeProto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(value);
  }
  onnx::GraphProto& graph_;
};

void add_value(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* values, const std::string& name,
               const std::vector<std::string>& dims) {
  onnx::ValueInfoProto* v = values->Add();
  v->set_name(name);
  onnx::TypeProto_Tensor* t = v->mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  for (const auto& d : dims) {
    auto* dim = t->mutable_shape()->add_dim();
    if (!d.empty() && d.find_first_not_of("0123456789") == std::string::npos) {
      dim->set_dim_value(std::stoll(d));
    } else {
      dim->set_dim_param(d);
    }
  }
}

}  // namespace

int64_t onnx_side_multiple(const GeneratorConfig& config) {
  return config.kind == GeneratorKind::Seed ? 1 : int64_t{1} << (config.scale_channels.size() - 1);
}

void write_onnx(const FoldedGenerator& generator, const GeneratorConfig& config, const std::string& path) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name("colorgan");
  model.add_opset_import()->set_version(13);
  onnx::GraphProto* graph = model.mutable_graph();
  graph->set_name("colorgan_generator");
  OnnxWriter writer(*graph);
  const std::string output = generator.write_graph(writer);
  onnx::NodeProto* identity = graph->add_node();
  identity->set_op_type("Identity");
  identity->add_input(output);
  identity->add_output("uv");
  // Projected-vector models work at their projection's size alone: their frame sides are fixed.
  const bool planes = config.noise_input == NoiseInput::Plane;
  const std::string h = planes ? "H" : std::to_string(config.projected_size), w = planes ? "W" : h;
  add_value(graph->mutable_input(), "y", {"N", "1", h, w});
  if (planes) {
    add_value(graph->mutable_input(), "noise", {"N", "1", h, w});
  } else {
    add_value(graph->mutable_input(), "noise", {"N", std::to_string(config.noise_dim)});
  }
  add_value(graph->mutable_output(), "uv", {"N", "2", h, w});
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("the ONNX graph fails onnx's checker: ") + e.what());
  }
  write_file_atomically(path, model.SerializeAsString(), "ONNX model");
}

}  // namespace colorgan
