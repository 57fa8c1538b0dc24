// colorgan-model: create (randomly initialised) model files, show what a model file holds, export it.
#include "cli.h"
#include "colorgan/files.h"
#include "colorgan/model_file.h"

#include <torch/csrc/jit/api/module.h>

#ifdef COLORGAN_HAVE_ONNX
#include "onnx_export.h"
#endif

#include <torch/cuda.h>
#include <torch/utils.h>

#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace {

struct InitOptions {
  std::string out, preset = "seed", provenance = "untrained (colorgan-model init)";
  colorgan::NoiseInput noise_input = colorgan::NoiseInput::Plane;
  int64_t size = 64;
  uint64_t seed = 0;
};

int init(const InitOptions& o) {
  colorgan::GeneratorConfig config = colorgan::GeneratorConfig::preset(o.preset);
  config.noise_input = o.noise_input;
  config.projected_size = o.size;
  torch::manual_seed(o.seed);
  colorgan::Generator generator(config);
  colorgan::ModelMetadata meta;
  meta.training_width = meta.training_height = o.size;
  meta.provenance = o.provenance + ", preset " + o.preset + ", seed " + std::to_string(o.seed);
  colorgan::save_model(o.out, generator, meta);
  std::cout << "wrote " << o.out << " (" << colorgan::parameter_count(*generator) << " parameters, untrained)\n";
  return 0;
}

// A generator's parameters and floating-point buffers (batch norm statistics, not
// counters such as num_batches_tracked), by name.
torch::OrderedDict<std::string, torch::Tensor> weights_of(const colorgan::ModelFile& model) {
  auto values = model.generator->named_parameters();
  for (const auto& buffer : model.generator->named_buffers()) {
    if (buffer.value().is_floating_point()) values.insert(buffer.key(), buffer.value());
  }
  return values;
}

// The largest weight difference between two model files of one architecture
// (weights_of, by name): whether two runs trained the same.
int compare(const std::string& a_path, const std::string& b_path) {
  const auto a_values = weights_of(colorgan::load_model(a_path)), b_values = weights_of(colorgan::load_model(b_path));
  if (a_values.size() != b_values.size()) throw std::invalid_argument("the two models differ in architecture");
  double largest = 0, largest_value = 0;
  std::string where;
  for (const auto& item : a_values) {
    const torch::Tensor* other = b_values.find(item.key());
    if (other == nullptr || other->sizes() != item.value().sizes()) {
      throw std::invalid_argument("the two models differ in architecture (" + item.key() + ")");
    }
    const double difference = (item.value().to(torch::kDouble) - other->to(torch::kDouble)).abs().max().item<double>();
    largest_value = std::max(largest_value, item.value().abs().max().item<double>());
    if (difference >= largest) {
      largest = difference;
      where = item.key();
    }
  }
  std::cout << "max abs difference: " << largest << " (" << where << "; largest |value| " << largest_value << ", "
            << a_values.size() << " tensors)\n";
  return 0;
}

int info(const std::string& path) {
  const colorgan::ModelFile model = colorgan::load_model(path);
  const auto& c = model.generator->config();
  const auto& m = model.metadata;
  std::cout << "file:              " << path << "\ngenerator:         " << colorgan::to_string(c.kind);
  if (c.kind == colorgan::GeneratorKind::Seed) {
    std::cout << "\nhidden layers:     ";
    for (const auto& layer : c.hidden) std::cout << layer.channels << "/" << layer.kernel << " ";
    std::cout << "\nnoise layers:      ";
    for (auto l : c.noise_layers) std::cout << l << " ";
  } else {
    std::cout << "\nscale channels:    ";
    for (auto channels : c.scale_channels) std::cout << channels << " ";
  }
  std::cout << "\noutput kernel:     " << c.output_kernel << "\nnoise input:       " << colorgan::to_string(c.noise_input)
            << "\nnoise:             " << colorgan::to_string(m.noise_distribution)
            << "\nparameters:        " << colorgan::parameter_count(*model.generator)
            << "\ntraining size:     " << m.training_width << "x" << m.training_height
            << "\ncolour convention: " << m.colour_convention << "\nprovenance:        " << m.provenance << "\n";
  return 0;
}

int upgrade(const std::string& from, const std::string& to) {
  colorgan::ModelFile model = colorgan::load_model(from, colorgan::Integrity::Unchecked);
  colorgan::save_model(to, model.generator, model.metadata);
  colorgan::load_model(to);  // the digest written matches what was read
  std::cout << "wrote " << to << " (format with integrity digest)\n";
  return 0;
}

// The generator for other runtimes (docs/INTEROP.md): folded weights, y and noise in, uv out.
int export_model(const std::string& format, const std::string& from, const std::string& to) {
  colorgan::ModelFile model = colorgan::load_model(from);
  const colorgan::FoldedGenerator folded(*model.generator);
  if (format == "onnx") {
#ifdef COLORGAN_HAVE_ONNX
    const auto& config = model.generator->config();
    colorgan::write_onnx(folded, config, to);
    const int64_t multiple = colorgan::onnx_side_multiple(config);
    std::cout << "wrote " << to << " (onnx: y [N,1,H,W], noise -> uv [N,2,H,W]; "
              << (config.noise_input != colorgan::NoiseInput::Plane
                      ? "H = W = " + std::to_string(config.projected_size)
                      : multiple > 1 ? "H and W multiples of " + std::to_string(multiple) : std::string("any H and W"))
              << ")\n";
    return 0;
#else
    throw std::runtime_error("this colorgan-model was built without ONNX (libonnx-dev, libprotobuf-dev)");
#endif
  }
  std::ostringstream bytes;
  folded.to_torchscript().save(bytes);
  colorgan::write_file_atomically(to, bytes.str(), "TorchScript module");
  std::cout << "wrote " << to << " (torchscript: forward(y [N,1,H,W], noise) -> uv [N,2,H,W])\n";
  return 0;
}

int devices() {
  std::cout << "cpu\n";
  for (size_t i = 0; i < torch::cuda::device_count(); ++i) std::cout << "cuda:" << i << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  namespace cli = colorgan::cli;
  CLI::App app("Creates, inspects, compares, upgrades and exports colorgan model files.", "colorgan-model");
  cli::configure(app, "COMMAND [options] (init | info | compare | upgrade | export | devices; COMMAND --help for each)");
  app.require_subcommand(1);

  InitOptions init_options;
  CLI::App* init_command = app.add_subcommand(
      "init", "Writes an untrained generator (random weights from --seed) as a model file: useful for tests\n"
              "and for trying the pipelines before a model is trained.");
  cli::configure(*init_command, "[options] OUT.cgan");
  init_command->add_option("out", init_options.out, "model file to write")->type_name("OUT.cgan")->required();
  init_command->add_option("--preset", init_options.preset, "generator preset")
      ->check(CLI::IsMember(colorgan::generator_presets()));
  cli::add_choice<colorgan::NoiseInput>(
      *init_command, "--noise-input", init_options.noise_input,
      {{"plane", colorgan::NoiseInput::Plane}, {"projected-vector", colorgan::NoiseInput::ProjectedVector}},
      "how the generator takes its noise");
  init_command->add_option("--size", init_options.size, "training size recorded in the file")
      ->check(CLI::Range(int64_t{1}, colorgan::kMaxTrainingSide));
  init_command->add_option("--seed", init_options.seed, "weight initialisation seed");
  init_command->add_option("--provenance", init_options.provenance, "free text stored in the file");

  std::string model, upgraded;
  CLI::App* info_command = app.add_subcommand("info", "Prints a model file's config and metadata.");
  cli::configure(*info_command, "MODEL.cgan");
  info_command->add_option("model", model, "model file")->type_name("MODEL.cgan")->required();

  std::string other;
  CLI::App* compare_command = app.add_subcommand(
      "compare", "Prints the largest difference between two model files' weights (same architecture),\n"
                 "e.g. whether a run on several processes trained what one process trains.");
  cli::configure(*compare_command, "A.cgan B.cgan");
  compare_command->add_option("a", model, "model file")->type_name("A.cgan")->required();
  compare_command->add_option("b", other, "model file")->type_name("B.cgan")->required();

  CLI::App* upgrade_command = app.add_subcommand(
      "upgrade", "Re-saves a model file of an earlier format version (in place without NEW.cgan): version 1\n"
                 "files have no integrity digest, so check that OLD.cgan is the file you trust.");
  cli::configure(*upgrade_command, "OLD.cgan [NEW.cgan]");
  upgrade_command->add_option("old", model, "model file to read")->type_name("OLD.cgan")->required();
  upgrade_command->add_option("new", upgraded, "where to write it (default: in place)")->type_name("NEW.cgan");

  std::string format = "torchscript", exported;
  CLI::App* export_command = app.add_subcommand(
      "export", "Writes the generator for other runtimes: --format torchscript, a TorchScript module whose\n"
                "forward(y, noise) -> uv runs under Python's torch.jit.load; --format onnx, an ONNX graph\n"
                "(inputs y and noise, output uv; dynamic N, H, W) for ONNX runtimes and OpenCV's DNN module\n"
                "(docs/INTEROP.md).");
  cli::configure(*export_command, "[--format torchscript|onnx] MODEL.cgan OUT");
  export_command->add_option("--format", format, "what to write")->check(CLI::IsMember({"torchscript", "onnx"}));
  export_command->add_option("model", model, "model file")->type_name("MODEL.cgan")->required();
  export_command->add_option("out", exported, "file to write")->type_name("OUT")->required();
  CLI::App* devices_command = app.add_subcommand("devices", "Lists the devices this build can run on (cpu, cuda:N).");
  cli::configure(*devices_command);

  cli::parse(app, argc, argv);
  return cli::run(app, [&] {
    if (init_command->parsed()) return init(init_options);
    if (info_command->parsed()) return info(model);
    if (compare_command->parsed()) return compare(model, other);
    if (upgrade_command->parsed()) return upgrade(model, upgraded.empty() ? model : upgraded);
    if (export_command->parsed()) return export_model(format, model, exported);
    return devices();
  });
}
