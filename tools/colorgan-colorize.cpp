// colorgan-colorize: colorizes image files into PNGs at their own size.
#include "cli.h"

#include "colorgan/colorize_image.h"
#include "colorgan/colorspace.h"
#include "colorgan/default_model.h"
#include "colorgan/errors.h"
#include "colorgan/image_io.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <iostream>
#include <map>
#include <vector>

namespace fs = std::filesystem;
using namespace colorgan;

int main(int argc, char** argv) {
  std::string model, out, device = "auto", size_text;
  std::vector<std::string> inputs;
  int64_t threads = 0;
  uint64_t seed = 0;
  Precision precision = Precision::Auto;
  CLI::App app("Colorizes image files (colour input is treated as gray) and writes OUT/<stem>.png at each\n"
               "input's size: the model runs at a working size, its chroma is upsampled, the luma is kept.",
               "colorgan-colorize");
  cli::configure(app, "[--model M] [options] --out DIR INPUT...");
  app.add_option("inputs", inputs, "image files")->type_name("INPUT");
  app.add_option("--model", model, "model file (default: the project's default model)")->type_name("FILE");
  app.add_option("--out", out, "output directory")->type_name("DIR");
  app.add_option("--size", size_text, "working size: native | WxH | N (short side); default the model's training size");
  app.add_option("--device", device, "auto | cpu | cuda | cuda:N");
  app.add_option("--threads", threads, "LibTorch CPU threads (0: all cores available)")->check(CLI::Range(0, 1024));
  app.add_option("--seed", seed, "noise seed: another seed, another plausible colouring");
  cli::add_precision(app, precision);
  cli::parse(app, argc, argv);
  if (inputs.empty()) cli::fail(app, "no input images");
  if (out.empty()) cli::fail(app, "missing --out DIR");
  if (model.empty()) model = default_model_path();
  if (model.empty()) cli::fail(app, "missing --model (and no default model is installed)");

  // Outputs are named by the inputs' stems: refuse two inputs that would overwrite each other.
  auto target_of = [&](const std::string& input) { return fs::path(out) / (fs::path(input).stem().string() + ".png"); };
  std::map<fs::path, std::string> targets;
  for (const auto& input : inputs) {
    const fs::path target = target_of(input);
    const auto [earlier, fresh] = targets.emplace(target, input);
    if (!fresh) cli::fail(app, "'" + earlier->second + "' and '" + input + "' would both be written to " + target.string());
  }

  return cli::run(app, [&] {
    EngineOptions options;
    options.device = device;
    options.threads = static_cast<int>(threads);
    options.seed = seed;
    options.precision = precision;
    InferenceEngine engine(model, options);
    const WorkingSize size = working_size_for(size_text, engine.metadata());
    fs::create_directories(out);
    // One bad image does not stop the rest: each failure is reported, and listed at the end.
    std::vector<std::string> failed;
    for (const auto& input : inputs) {
      try {
        if (jpeg_looks_truncated(input)) {
          std::cerr << "colorgan-colorize: warning: '" << input << "' looks truncated (no JPEG end marker): "
                    << "colorizing what could be decoded\n";
        }
        const at::Tensor rgb = rgb8_to_tensor(read_image(input));
        const fs::path target = target_of(input);
        write_image(target.string(), colorize_image(engine, rgb, size));
        std::cout << target.string() << "\n";
      } catch (const std::exception& e) {
        std::cerr << "colorgan-colorize: " << input << ": " << first_line(e.what()) << "\n";
        failed.push_back(input);
      }
    }
    if (failed.empty()) return 0;
    std::cerr << "colorgan-colorize: " << failed.size() << " of " << inputs.size() << " image(s) failed:";
    for (const auto& input : failed) std::cerr << " " << input;
    std::cerr << "\n";
    return 1;
  });
}
