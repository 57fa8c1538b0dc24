// colorgan-model: create (randomly initialised) model files and show what a model file holds.
#include "cli.h"
#include "colorgan/model_file.h"

#include <torch/cuda.h>
#include <torch/utils.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>

namespace {

const char* kUsage =
    "usage: colorgan-model init [--preset NAME] [--noise-input plane|projected-vector]\n"
    "                           [--size N] [--seed S] [--provenance TEXT] OUT.cgan\n"
    "       colorgan-model info MODEL.cgan\n"
    "       colorgan-model upgrade OLD.cgan [NEW.cgan]\n"
    "       colorgan-model devices\n"
    "\n"
    "init  writes an untrained generator (random weights from --seed) as a model file:\n"
    "      useful for tests and for trying the pipelines before a model is trained.\n"
    "info  prints a model file's config and metadata.\n"
    "upgrade  re-saves a model file of an earlier format version (in place without NEW.cgan):\n"
    "      version 1 files have no integrity digest, so check that OLD.cgan is the file you trust.\n"
    "devices  lists the devices this build can run on (cpu, cuda:N).\n";

int usage_error(const std::string& message) {
  std::cerr << "colorgan-model: " << message << "\n" << kUsage;
  return 2;
}

int init(int argc, char** argv) {  // argv[0] is "init"
  std::string preset = "seed", noise_input = "plane", provenance = "untrained (colorgan-model init)";
  int64_t size = 64;
  uint64_t seed = 0;
  ArgParser args("colorgan-model init", "[options] OUT.cgan", "Writes an untrained generator (random weights from --seed).");
  args.option("--preset", &preset, "seed | public-code | encoder-decoder | tiny | tiny-encoder-decoder (default seed)");
  args.option("--noise-input", &noise_input, "plane | projected-vector (default plane)");
  args.option("--size", &size, "training size recorded in the file (default 64)");
  args.option("--seed", &seed, "weight initialisation seed (default 0)");
  args.option("--provenance", &provenance, "free text stored in the file");
  const auto positionals = args.parse(argc, argv);
  if (positionals.size() != 1) args.fail("expected one output file");
  const std::string& out = positionals[0];
  if (size < 1 || size > colorgan::kMaxTrainingSide) {
    args.fail("--size must be 1.." + std::to_string(colorgan::kMaxTrainingSide));
  }

  colorgan::GeneratorConfig config = colorgan::GeneratorConfig::preset(preset);
  config.noise_input = colorgan::parse_noise_input(noise_input);
  config.projected_size = size;
  torch::manual_seed(seed);
  colorgan::Generator generator(config);
  colorgan::ModelMetadata meta;
  meta.training_width = meta.training_height = size;
  meta.provenance = provenance + ", preset " + preset + ", seed " + std::to_string(seed);
  colorgan::save_model(out, generator, meta);
  std::cout << "wrote " << out << " (" << colorgan::parameter_count(*generator) << " parameters, untrained)\n";
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

int devices() {
  std::cout << "cpu\n";
  for (size_t i = 0; i < torch::cuda::device_count(); ++i) std::cout << "cuda:" << i << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage_error("missing command");
  const std::string command = argv[1];
  if (command == "-h" || command == "--help") {
    std::cout << kUsage;
    return 0;
  }
  try {
    if (command == "init") return init(argc - 1, argv + 1);
    if (command == "devices") return devices();
    if (command == "info") {
      if (argc != 3) return usage_error("info takes one model file");
      return info(argv[2]);
    }
    if (command == "upgrade") {
      if (argc != 3 && argc != 4) return usage_error("upgrade takes a model file and optionally where to write it");
      return upgrade(argv[2], argv[argc - 1]);
    }
    return usage_error("unknown command '" + command + "'");
  } catch (const std::invalid_argument& e) {
    return usage_error(colorgan::first_line(e.what()));
  } catch (const std::exception& e) {
    std::cerr << "colorgan-model: " << colorgan::first_line(e.what()) << "\n";
    return 1;
  }
}
