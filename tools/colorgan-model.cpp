// colorgan-model: create (randomly initialised) model files, show what a model file holds, export it.
#include "cli.h"
#include "colorgan/files.h"
#include "colorgan/model_file.h"

#include <torch/csrc/jit/api/module.h>

#ifdef COLORGAN_HAVE_ONNX
#include "onnx_export.h"
#endif
#include "colorgan/backbone.h"
#ifdef COLORGAN_HAVE_IMAGES
#include "colorgan/colorspace.h"
#include "colorgan/dataset.h"
#include "colorgan/image_io.h"
#include "colorgan/trainer.h"
#include <nlohmann/json.hpp>
#include <filesystem>
#include <fstream>
#endif

#include <torch/cuda.h>
#include <torch/utils.h>

#include <algorithm>
#include <functional>
#include <iomanip>
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

// The largest weight difference between two model files of one architecture
// (floating_weights, by name): whether two runs trained the same.
int compare(const std::string& a_path, const std::string& b_path) {
  const auto a_values = colorgan::floating_weights(*colorgan::load_model(a_path).generator),
             b_values = colorgan::floating_weights(*colorgan::load_model(b_path).generator);
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

// Weights interpolated between two models of one architecture trained from the same start
// (checkpoint averaging, "model soups": Wortsman et al. 2022): (1 - w) A + w B, batch-norm
// statistics included. A's config, training size and provenance, the step added.
int average(const std::string& a_path, const std::string& b_path, double weight, const std::string& to) {
  colorgan::ModelFile a = colorgan::load_model(a_path);
  const colorgan::ModelFile b = colorgan::load_model(b_path);
  if (!(a.generator->config() == b.generator->config())) throw std::invalid_argument("the two models differ in architecture");
  torch::NoGradGuard no_grad;
  const auto b_values = colorgan::floating_weights(*b.generator);
  for (auto& item : colorgan::floating_weights(*a.generator)) {
    item.value().mul_(1 - weight).add_(b_values[item.key()], weight);
  }
  std::ostringstream step;
  step << "colorgan-model average --weight " << weight << " with " << b_path;
  a.metadata.provenance += "\nthen " + step.str();
  colorgan::save_model(to, a.generator, a.metadata);
  std::cout << "wrote " << to << " (" << 1 - weight << " x " << a_path << " + " << weight << " x " << b_path << ")\n";
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
    if (c.chroma_classes > 0) {
      std::cout << "\nchroma classes:    " << c.chroma_classes << " x " << c.chroma_classes
                << " (annealed mean, temperature " << c.temperature << ")";
      if (c.head_rank > 0) std::cout << "\nhead rank:         " << c.head_rank;
      if (c.head_stride > 1) std::cout << "\nhead stride:       " << c.head_stride << " (decoded at 1/" << c.head_stride << " size)";
    }
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

// `from`'s chroma-class model re-saved with its config changed by `change`, the weights carried
// across (copy_weights_across_heads) and `step` (if any) added to its provenance.
colorgan::Generator resave_chroma_class_model(const std::string& from, const std::string& to, const std::string& no_head,
                                              const std::function<void(colorgan::GeneratorConfig&)>& change,
                                              const std::string& step) {
  colorgan::ModelFile model = colorgan::load_model(from);
  auto config = model.generator->config();
  if (config.chroma_classes == 0) throw std::invalid_argument("'" + from + "' regresses U,V: " + no_head);
  change(config);
  colorgan::Generator changed(config);  // checks the new config
  colorgan::copy_weights_across_heads(*model.generator, *changed);
  if (!step.empty()) model.metadata.provenance += "\nthen " + step;
  colorgan::save_model(to, changed, model.metadata);
  return changed;
}

// The same model with another annealed-mean temperature (a chroma-class head's one knob).
int temper(const std::string& from, double temperature, const std::string& to) {
  resave_chroma_class_model(from, to, "only a chroma-class head has a temperature",
                            [&](colorgan::GeneratorConfig& c) { c.temperature = temperature; }, "");
  std::cout << "wrote " << to << " (temperature " << temperature << ")\n";
  return 0;
}

// The same model with its chroma-class head cut to another rank.
int factor(const std::string& from, int64_t rank, const std::string& to) {
  const auto factored =
      resave_chroma_class_model(from, to, "it has no chroma-class head", [&](colorgan::GeneratorConfig& c) { c.head_rank = rank; },
                                "colorgan-model factor --rank " + std::to_string(rank));
  std::cout << "wrote " << to << " (head rank " << rank << ", " << colorgan::parameter_count(*factored)
            << " parameters)\n";
  return 0;
}

// The same model decoding its chroma-class head at another stride (no weight changes).
int stride(const std::string& from, int64_t head_stride, const std::string& to) {
  resave_chroma_class_model(from, to, "only a chroma-class head is decoded at a stride",
                            [&](colorgan::GeneratorConfig& c) { c.head_stride = head_stride; },
                            "colorgan-model stride --stride " + std::to_string(head_stride));
  std::cout << "wrote " << to << " (head stride " << head_stride << ")\n";
  return 0;
}

// The same model predicting as if trained with --rebalance R: each cell's logit shifted by the
// log of its rebalancing weight, from the chroma of training crops drawn as training draws
// them (sources balanced, 0.5-1 of the short side, at the model's training size).
int rebalance(const std::string& from, const std::vector<std::string>& data, double r, int64_t crops,
              const std::string& to) {
#ifndef COLORGAN_HAVE_IMAGES
  (void)from, (void)data, (void)r, (void)crops, (void)to;
  throw std::runtime_error("this colorgan-model was built without images (-Dimages=disabled): no rebalance");
#else
  colorgan::ModelFile model = colorgan::load_model(from);
  const auto& config = model.generator->config();
  if (config.chroma_classes == 0) throw std::invalid_argument("'" + from + "' regresses U,V: only a chroma-class head can be rebalanced");
  colorgan::DatasetOptions options;
  options.size = model.metadata.training_width;
  options.min_crop = 0.5;
  options.max_crop = 1.0;
  options.balance_sources = true;
  const auto images = colorgan::ImageSet::load(colorgan::find_inputs(data), options, nullptr,
                                               [](const std::string& m) { std::cerr << "warning: " << m << "\n"; });
  if (images.size() == 0) throw std::invalid_argument("no readable images in --data");
  const int64_t n = config.chroma_classes;
  at::Tensor histogram = torch::zeros({n, n}, torch::kDouble);
  for (int64_t done = 0; done < crops; done += 64) {
    const auto rgb = images.random_batch(std::min<int64_t>(64, crops - done), 7919 + done);
    histogram += colorgan::chroma_class_histogram(colorgan::rgb_to_yuv(rgb).narrow(1, 1, 2), n);
  }
  const auto shift = colorgan::rebalancing_weights(histogram, r).log().flatten();
  colorgan::shift_chroma_class_logits(*model.generator, shift);
  std::ostringstream step;
  step << "colorgan-model rebalance --rebalance " << r << " (" << crops << " crops of " << images.size() << " images)";
  model.metadata.provenance += "\nthen " + step.str();
  colorgan::save_model(to, model.generator, model.metadata);
  std::cout << "wrote " << to << " (logits shifted by " << shift.min().item<double>() << " .. "
            << shift.max().item<double>() << ", from " << crops << " crops of " << images.size() << " images)\n";
  return 0;
#endif
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

#ifdef COLORGAN_HAVE_IMAGES
// How closely `net` reproduces values recorded from TensorFlow.js
// (tests/interop/record_backbone_reference.cjs: class probabilities, and per
// tapped block its channel means and the feature vectors at two corners, for
// real 224x224 images beside the reference file). One row per image and value;
// `difference` is the largest absolute difference, `scale` the largest
// recorded magnitude it is measured against.
struct ReferenceRow {
  std::string what;
  double difference, scale;
};

std::vector<ReferenceRow> compare_with_reference(colorgan::MobileNetV2& net, const std::string& reference_json) {
  const std::filesystem::path path(reference_json);
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read reference '" + reference_json + "'");
  const auto reference = nlohmann::json::parse(in);
  torch::NoGradGuard no_grad;
  net->eval();
  std::vector<ReferenceRow> rows;
  auto compare = [&](const std::string& what, const torch::Tensor& ours, const std::vector<float>& theirs) {
    const auto expected = torch::tensor(theirs);
    TORCH_CHECK(ours.numel() == expected.numel(), what, ": ", ours.numel(), " values, the reference has ", expected.numel());
    rows.push_back({what, (ours.flatten() - expected).abs().max().item<double>(), expected.abs().max().item<double>()});
  };
  for (const auto& record : reference.at("records")) {
    const std::string image = record.at("image").get<std::string>();
    const auto rgb = colorgan::rgb8_to_tensor(colorgan::read_image((path.parent_path() / image).string())).unsqueeze(0);
    compare(image + " probabilities", net->classify(rgb), record.at("probabilities").get<std::vector<float>>());
    std::vector<int> taps;
    for (const auto& tap : record.at("taps").items()) taps.push_back(std::stoi(tap.key()));
    std::sort(taps.begin(), taps.end());
    const auto features = net->features(rgb, taps);
    for (size_t i = 0; i < taps.size(); ++i) {
      const auto& tap = record.at("taps").at(std::to_string(taps[i]));
      const auto& f = features[i][0];  // [C,H,W]
      const std::string what = image + " " + tap.at("keras_layer").get<std::string>();
      TORCH_CHECK(f.size(1) == tap.at("height").get<int64_t>() && f.size(2) == tap.at("width").get<int64_t>(), what,
                  ": ", f.size(1), "x", f.size(2), " maps, the reference has other sizes");
      compare(what + " channel means", f.mean({1, 2}), tap.at("channel_means").get<std::vector<float>>());
      compare(what + " top left", f.select(2, 0).select(1, 0), tap.at("top_left").get<std::vector<float>>());
      compare(what + " bottom right", f.select(2, -1).select(1, -1), tap.at("bottom_right").get<std::vector<float>>());
    }
  }
  return rows;
}

#endif

// A TensorFlow.js MobileNetV2 (tools/fetch-backbone.sh) as a colorgan backbone
// file, written only when it reproduces the reference values (when given).
int import_tfjs(const std::string& model_json, const std::string& out, const std::string& reference, double tolerance) {
  colorgan::MobileNetV2 net;
  colorgan::import_tfjs(net, model_json);
  if (!reference.empty()) {
#ifndef COLORGAN_HAVE_IMAGES
    throw std::runtime_error("this colorgan-model was built without images (-Dimages=disabled): no --check");
#else
    bool all_close = true;
    std::cout << "against " << reference << " (largest difference / largest reference magnitude):\n";
    for (const auto& row : compare_with_reference(net, reference)) {
      const bool close = row.difference <= tolerance * row.scale;
      all_close = all_close && close;
      std::cout << "  " << std::left << std::setw(64) << row.what << std::scientific << std::setprecision(2)
                << row.difference << " / " << row.scale << (close ? "" : "  TOO FAR") << "\n";
    }
    if (!all_close) {
      throw std::runtime_error("the converted network does not reproduce " + reference + " within " +
                               std::to_string(tolerance) + ": nothing written");
    }
#endif
  }
  colorgan::save_backbone(out, net);
  colorgan::load_backbone(out);  // what was written reads back
  std::cout << "wrote " << out << " (MobileNetV2, " << colorgan::parameter_count(*net) << " parameters)\n";
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
  CLI::App app("Creates, inspects, compares, upgrades, exports and imports colorgan model files.", "colorgan-model");
  cli::configure(app, "COMMAND [options] (init | info | compare | upgrade | temper | factor | stride | export | import-tfjs | devices; COMMAND --help for each)");
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

  // The commands that read two model files, A and B.
  std::string other;
  const auto two_models_command = [&](const std::string& name, const std::string& description, const std::string& usage) {
    CLI::App* command = app.add_subcommand(name, description);
    cli::configure(*command, usage);
    command->add_option("a", model, "model file")->type_name("A.cgan")->required();
    command->add_option("b", other, "model file")->type_name("B.cgan")->required();
    return command;
  };
  CLI::App* compare_command = two_models_command(
      "compare", "Prints the largest difference between two model files' weights (same architecture),\n"
                 "e.g. whether a run on several processes trained what one process trains.", "A.cgan B.cgan");

  double soup_weight = 0.5;
  CLI::App* average_command = two_models_command(
      "average", "Writes (1 - W) A + W B, weight by weight: two models of one architecture trained from the\n"
                 "same start (e.g. two losses' runs from one model file), interpolated.",
      "[--weight W] A.cgan B.cgan OUT.cgan");
  average_command->add_option("out", upgraded, "file to write")->type_name("OUT.cgan")->required();
  average_command->add_option("--weight", soup_weight, "B's share")->check(CLI::Range(0.0, 1.0));

  CLI::App* upgrade_command = app.add_subcommand(
      "upgrade", "Re-saves a model file of an earlier format version (in place without NEW.cgan): version 1\n"
                 "files have no integrity digest, so check that OLD.cgan is the file you trust.");
  cli::configure(*upgrade_command, "OLD.cgan [NEW.cgan]");
  upgrade_command->add_option("old", model, "model file to read")->type_name("OLD.cgan")->required();
  upgrade_command->add_option("new", upgraded, "where to write it (default: in place)")->type_name("NEW.cgan");

  // The commands that re-save MODEL.cgan as OUT.cgan with one thing of its head changed.
  const auto resave_command = [&](const std::string& name, const std::string& description, const std::string& usage) {
    CLI::App* command = app.add_subcommand(name, description);
    cli::configure(*command, usage + " MODEL.cgan OUT.cgan");
    command->add_option("model", model, "model file")->type_name("MODEL.cgan")->required();
    command->add_option("out", upgraded, "file to write")->type_name("OUT.cgan")->required();
    return command;
  };
  double temperature = 0.38;
  CLI::App* temper_command = resave_command(
      "temper",
      "Re-saves a model with a chroma-class head (--generator pretrained-encoder-classes) with another\n"
      "annealed-mean temperature: lower paints more vivid colour, higher more cautious (1: the mean).",
      "--temperature T");
  temper_command->add_option("--temperature", temperature, "softmax temperature of the annealed mean")
      ->check(CLI::Range(0.01, 100.0))
      ->required();
  int64_t rank = 16;
  CLI::App* factor_command = resave_command(
      "factor",
      "Re-saves a model's chroma-class head at another rank: its output conv to RANK maps and a\n"
      "1x1 conv from them to the logits (the weight's leading singular vectors; 0: one conv again).\n"
      "Cheaper at inference; exact where the head's rank is at most RANK.",
      "--rank RANK");
  factor_command->add_option("--rank", rank, "maps between the output conv and the logits")->required();
  int64_t head_stride = 2;
  CLI::App* stride_command = resave_command(
      "stride",
      "Re-saves a model decoding its chroma-class head at 1/STRIDE of the working size: the head's\n"
      "maps averaged over STRIDE x STRIDE pixels, the annealed mean there, U,V upsampled (1: full size).\n"
      "Faster; the weights stay as they are.",
      "--stride STRIDE");
  stride_command->add_option("--stride", head_stride, "1, or a power of 2 below the network's coarsest scale")
      ->required();

  std::vector<std::string> data;
  double rebalancing = 0.5;
  int64_t crops = 1024;
  CLI::App* rebalance_command = resave_command(
      "rebalance",
      "Re-saves a model with a chroma-class head predicting as if trained with --rebalance R: each\n"
      "cell's logit shifted by the log of its rebalancing weight in the training data (logit\n"
      "adjustment). More colour, at the cost of accuracy on common (near-gray) chroma; 0: unchanged.",
      "--data DIR... --rebalance R");
  rebalance_command->add_option("--data", data, "training images (files or folders)")->required();
  rebalance_command->add_option("--rebalance", rebalancing, "rebalancing strength, as colorgan-train's")
      ->check(CLI::Range(0.0, 0.999))
      ->required();
  rebalance_command->add_option("--crops", crops, "training crops the statistics come from")
      ->check(CLI::Range(int64_t{64}, int64_t{1} << 20));

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
  std::string model_json, reference;
  double tolerance = 1e-3;
  CLI::App* import_command = app.add_subcommand(
      "import-tfjs", "Converts a TensorFlow.js layers model of Keras' MobileNetV2 (model.json and its weight files,\n"
                     "e.g. nsfwjs's: tools/fetch-backbone.sh) to a colorgan backbone file for training losses.");
  cli::configure(*import_command, "[options] MODEL.json --out BACKBONE.pt");
  import_command->add_option("model", model_json, "the model.json")->type_name("MODEL.json")->required();
  import_command->add_option("--out", exported, "backbone file to write")->type_name("FILE")->required();
  import_command->add_option("--check", reference, "values recorded from TensorFlow.js to reproduce first")
      ->type_name("REFERENCE.json");
  import_command->add_option("--tolerance", tolerance, "largest difference allowed, relative to the largest value")
      ->check(CLI::Range(0.0, 1.0));
  CLI::App* devices_command = app.add_subcommand("devices", "Lists the devices this build can run on (cpu, cuda:N).");
  cli::configure(*devices_command);

  cli::parse(app, argc, argv);
  return cli::run(app, [&] {
    if (init_command->parsed()) return init(init_options);
    if (info_command->parsed()) return info(model);
    if (compare_command->parsed()) return compare(model, other);
    if (average_command->parsed()) return average(model, other, soup_weight, upgraded);
    if (upgrade_command->parsed()) return upgrade(model, upgraded.empty() ? model : upgraded);
    if (temper_command->parsed()) return temper(model, temperature, upgraded);
    if (factor_command->parsed()) return factor(model, rank, upgraded);
    if (stride_command->parsed()) return stride(model, head_stride, upgraded);
    if (rebalance_command->parsed()) return rebalance(model, data, rebalancing, crops, upgraded);
    if (export_command->parsed()) return export_model(format, model, exported);
    if (import_command->parsed()) return import_tfjs(model_json, exported, reference, tolerance);
    return devices();
  });
}
