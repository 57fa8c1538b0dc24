// colorgan-eval: judges a model on colour photos (or video frames): each is
// turned gray, colorized, and compared with the truth, beside the gray baseline.
#include "cli.h"

#include "colorgan/colorize_image.h"
#include "colorgan/dataset.h"
#include "colorgan/default_model.h"
#include "colorgan/image_io.h"
#include "colorgan/metrics.h"

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace colorgan;

namespace {

struct Scores {
  double psnr = 0, ssim = 0, cf = 0, ciede = 0;
};

Scores score(const at::Tensor& prediction, const at::Tensor& truth) {
  return {psnr(prediction, truth), ssim_luma(prediction, truth), colorfulness(prediction),
          mean_ciede2000(prediction, truth)};
}

// A square centre crop resized to side x side, for the grid.
at::Tensor grid_cell(const at::Tensor& chw, int64_t side) {
  const int64_t h = chw.size(1), w = chw.size(2), s = std::min(h, w);
  const at::Tensor crop = chw.narrow(1, (h - s) / 2, s).narrow(2, (w - s) / 2, s).unsqueeze(0);
  return at::adaptive_avg_pool2d(crop, {side, side})[0];
}

std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  std::ostringstream out;
  out << std::setprecision(6) << v;
  return out.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::string model, out = "eval", device = "auto", size_text;
  std::vector<std::string> data;
  int64_t eval_side = 256, max_images = 0, grid_count = 8, video_every = 30, threads = 0;
  uint64_t seed = 0;
  ArgParser args("colorgan-eval", "--data DIR... [--model M] [options]",
                 "Turns each colour image gray, colorizes it, and reports PSNR (RGB), SSIM (luma), colourfulness\n"
                 "(Hasler & Suesstrunk 2003) of prediction and truth, and mean CIEDE2000, each beside the gray\n"
                 "baseline (U = V = 0.5). Writes OUT/report.json, OUT/report.csv and OUT/grid.png.");
  args.option("--model", &model, "model file (default: the project's default model)");
  args.option("--data", &data, "colour images: folders, image files, videos");
  args.option("--out", &out, "report directory (default ./eval)");
  args.option("--size", &size_text, "working size: native | WxH | N (short side); default the model's training size");
  args.option("--eval-side", &eval_side, "images are first shrunk to this short side, the size metrics use (default 256)");
  args.option("--max-images", &max_images, "evaluate at most this many images (default all)");
  args.option("--grid-count", &grid_count, "rows in grid.png (default 8)");
  args.option("--video-every", &video_every, "take every Nth frame of videos (default 30)");
  args.option("--device", &device, "auto | cpu | cuda | cuda:N");
  args.option("--threads", &threads, "LibTorch CPU threads (default: all cores available)");
  args.option("--seed", &seed, "noise seed (default 0)");
  if (!args.parse(argc, argv).empty()) args.fail("unexpected positional argument");
  if (data.empty()) args.fail("missing --data DIR");
  if (model.empty()) model = default_model_path();
  if (model.empty()) args.fail("missing --model (and no default model is installed)");

  return args.run([&] {
    EngineOptions engine_options;
    engine_options.device = device;
    engine_options.threads = static_cast<int>(threads);
    engine_options.seed = seed;
    InferenceEngine engine(model, engine_options);
    const WorkingSize size = working_size_for(size_text, engine.metadata());

    DatasetOptions data_options;
    data_options.keep_side = eval_side;
    data_options.video_every = std::max<int64_t>(1, video_every);
    LoadSummary summary;
    ImageSet images = ImageSet::load(find_inputs(data), data_options, &summary,
                                     [](const std::string& m) { std::cerr << "warning: " << m << "\n"; });
    const int64_t n = max_images > 0 ? std::min(max_images, images.size()) : images.size();
    if (n == 0) {
      std::cerr << "colorgan-eval: no readable images in the --data paths\n";
      return 2;
    }
    fs::create_directories(out);
    std::ofstream csv(fs::path(out) / "report.csv");
    csv << "image,psnr,psnr_gray,ssim,ssim_gray,cf_pred,cf_true,ciede2000,ciede2000_gray\n";
    const bool terminal = isatty(fileno(stderr));
    Scores pred_sum, gray_sum;
    double cf_true_sum = 0;
    std::vector<at::Tensor> cells;
    for (int64_t i = 0; i < n; ++i) {
      const at::Tensor truth = images.image(i).permute({2, 0, 1}).to(at::kFloat).div(255.0);
      const at::Tensor prediction = colorize_image(engine, truth, size);
      const at::Tensor gray = gray_baseline(truth);
      const Scores p = score(prediction, truth), g = score(gray, truth);
      const double cf_true = colorfulness(truth);
      csv << '"' << images.name(i) << '"' << "," << p.psnr << "," << g.psnr << "," << p.ssim << "," << g.ssim << ","
          << p.cf << "," << cf_true << "," << p.ciede << "," << g.ciede << "\n";
      pred_sum = {pred_sum.psnr + p.psnr, pred_sum.ssim + p.ssim, pred_sum.cf + p.cf, pred_sum.ciede + p.ciede};
      gray_sum = {gray_sum.psnr + g.psnr, gray_sum.ssim + g.ssim, gray_sum.cf + g.cf, gray_sum.ciede + g.ciede};
      cf_true_sum += cf_true;
      // Grid rows spread over the whole set (folders are read in sorted order).
      if (grid_count > 0 && i % std::max<int64_t>(1, n / grid_count) == 0 &&
          static_cast<int64_t>(cells.size()) < 3 * grid_count) {
        for (const auto* t : {&gray, &prediction, &truth}) cells.push_back(grid_cell(*t, 128));
      }
      if (terminal) std::cerr << "\r" << i + 1 << "/" << n << " images" << std::flush;
    }
    if (terminal) std::cerr << "\n";
    const double k = static_cast<double>(n);
    const Scores p{pred_sum.psnr / k, pred_sum.ssim / k, pred_sum.cf / k, pred_sum.ciede / k};
    const Scores g{gray_sum.psnr / k, gray_sum.ssim / k, gray_sum.cf / k, gray_sum.ciede / k};
    const double cf_true = cf_true_sum / k;
    write_image((fs::path(out) / "grid.png").string(), image_grid(cells, 3));

    std::ofstream json(fs::path(out) / "report.json");
    json << "{\n  \"model\": \"" << model << "\",\n  \"images\": " << n << ",\n  \"skipped\": " << summary.skipped
         << ",\n  \"eval_side\": " << eval_side << ",\n"
         << "  \"prediction\": {\"psnr\": " << json_number(p.psnr) << ", \"ssim_luma\": " << json_number(p.ssim)
         << ", \"colorfulness\": " << json_number(p.cf) << ", \"ciede2000\": " << json_number(p.ciede) << "},\n"
         << "  \"gray_baseline\": {\"psnr\": " << json_number(g.psnr) << ", \"ssim_luma\": " << json_number(g.ssim)
         << ", \"colorfulness\": " << json_number(g.cf) << ", \"ciede2000\": " << json_number(g.ciede) << "},\n"
         << "  \"truth\": {\"colorfulness\": " << json_number(cf_true) << "},\n"
         << "  \"delta_colorfulness\": " << json_number(std::abs(p.cf - cf_true)) << ",\n"
         << "  \"colorfulness_ratio\": " << json_number(p.cf / cf_true) << ",\n"
         << "  \"psnr_minus_gray\": " << json_number(p.psnr - g.psnr) << "\n}\n";

    std::cout << std::fixed << std::setprecision(3) << n << " images, model " << model << "\n"
              << "                 prediction   gray baseline\n"
              << "PSNR (RGB, dB)   " << std::setw(10) << p.psnr << "   " << std::setw(10) << g.psnr << "\n"
              << "SSIM (luma)      " << std::setw(10) << p.ssim << "   " << std::setw(10) << g.ssim << "\n"
              << "colourfulness    " << std::setw(10) << p.cf << "   " << std::setw(10) << g.cf
              << "   (truth " << cf_true << ", prediction " << std::setprecision(1) << 100.0 * p.cf / cf_true
              << "% of it)\n"
              << std::setprecision(3) << "CIEDE2000        " << std::setw(10) << p.ciede << "   " << std::setw(10)
              << g.ciede << "\n"
              << "dCF = " << std::abs(p.cf - cf_true) << "; wrote " << out << "/report.json, report.csv, grid.png\n";
    return 0;
  });
}
