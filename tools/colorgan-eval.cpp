// colorgan-eval: judges a model on colour photos (or video frames): each is
// turned gray, colorized, and compared with the truth, beside the gray baseline.
#include "cli.h"
#include "report_files.h"

#include "colorgan/colorize_image.h"
#include "colorgan/colorspace.h"
#include "colorgan/dataset.h"
#include "colorgan/default_model.h"
#include "colorgan/files.h"
#include "colorgan/frames.h"
#include "colorgan/image_io.h"
#include "colorgan/metrics.h"
#include "colorgan/video.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
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

// A JSON number, or null for NaN and infinities (JSON has neither).
nlohmann::ordered_json json_number(double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr); }

// Frames of a clip: a video's frames, or a photo panned left to right (a
// window of 60% of its size, `pan_frames` frames), each shrunk to `side`.
class ClipFrames {
 public:
  ClipFrames(const std::string& path, int64_t side, int64_t pan_frames) : side_(side), pan_frames_(pan_frames) {
    if (is_image_file(path)) {
      photo_ = read_image(path);
    } else {
      video_ = std::make_unique<VideoReader>(path);
    }
  }
  // Next frame as float RGB [3,H,W], or undefined at the end.
  at::Tensor next() {
    at::Tensor hwc;
    if (video_) {
      if (!video_->read(hwc)) return {};
    } else {
      if (index_ >= pan_frames_) return {};
      const int64_t h = photo_.size(0), w = photo_.size(1);
      const int64_t ch = std::max<int64_t>(1, h * 6 / 10), cw = std::max<int64_t>(1, w * 6 / 10);
      const int64_t x = (w - cw) * index_ / std::max<int64_t>(1, pan_frames_ - 1);
      hwc = photo_.narrow(0, (h - ch) / 2, ch).narrow(1, x, cw).contiguous();
    }
    ++index_;
    return rgb8_to_tensor(shrink_to_short_side(hwc, side_));
  }

 private:
  int64_t side_, pan_frames_, index_ = 0;
  at::Tensor photo_;
  std::unique_ptr<VideoReader> video_;
};

struct FlickerReport {
  int64_t frames = 0;
  double flicker_pred = 0, flicker_true = 0, cf_pred = 0, cf_true = 0;
};

// Colorizes a clip frame by frame as cgancolorize does (same PlaneColorizer)
// and measures flicker and colourfulness of prediction and truth.
FlickerReport measure_flicker(const std::string& clip, const PlaneColorizerOptions& options, int64_t side,
                              int64_t max_frames, double luma_threshold, bool noise_per_frame) {
  PlaneColorizer colorizer(options);
  NoiseFiller noise_source(options.seed + 1, NoiseDistribution::Gaussian);  // cgannoise mode=per-frame
  std::vector<float> noise;
  ClipFrames frames(clip, side, max_frames);
  FlickerMeter pred_meter(luma_threshold), true_meter(luma_threshold);
  FlickerReport r;
  for (at::Tensor truth = frames.next(); truth.defined() && r.frames < max_frames; truth = frames.next()) {
    const at::Tensor yuv = rgb_to_yuv(truth).contiguous();
    at::Tensor pred = yuv.clone();
    const int h = static_cast<int>(yuv.size(1)), w = static_cast<int>(yuv.size(2));
    if (noise_per_frame) {
      noise.resize(static_cast<size_t>(w) * h);
      noise_source.fill(noise.data(), static_cast<int64_t>(noise.size()), 1.0f);
    }
    colorizer.colorize(yuv[0].data_ptr<float>(), noise_per_frame ? noise.data() : nullptr, pred[1].data_ptr<float>(),
                       pred[2].data_ptr<float>(), w, h);
    pred_meter.add(pred);
    true_meter.add(yuv);
    r.cf_pred += colorfulness(yuv_to_rgb_keep_luma(pred));
    r.cf_true += colorfulness(truth);
    ++r.frames;
  }
  if (r.frames == 0) throw std::runtime_error("no frames decoded from '" + clip + "'");
  r.flicker_pred = pred_meter.mean();
  r.flicker_true = true_meter.mean();
  r.cf_pred /= static_cast<double>(r.frames);
  r.cf_true /= static_cast<double>(r.frames);
  return r;
}

// Everything the command line sets.
struct EvalOptions {
  std::string model, out = "eval", device = "auto", size_text;
  std::vector<std::string> data;
  int64_t eval_side = 256, max_images = 0, grid_count = 8, video_every = 30, threads = 0;
  uint64_t seed = 0;
  bool flicker = false, noise_per_frame = false;
  double smoothing = 0.5, luma_threshold = 0.02;
  int64_t max_frames = 300;
  int inference_interval = 1;
  ChromaUpsampling chroma_upsampling = ChromaUpsampling::Guided;
  Precision precision = Precision::Auto;
};

void declare_options(CLI::App& app, EvalOptions& o) {
  app.add_option("--model", o.model, "model file (default: the project's default model)")->type_name("FILE");
  app.add_option("--data", o.data, "colour images: folders, image files, videos (repeatable)")->type_name("PATH");
  app.add_option("--out", o.out, "report directory")->type_name("DIR");
  app.add_option("--size", o.size_text, "working size: native | WxH | N (short side); default the model's training size");
  app.add_option("--eval-side", o.eval_side, "images are first shrunk to this short side, the size metrics use")
      ->check(CLI::Range(8, 16384));
  app.add_option("--max-images", o.max_images, "evaluate at most this many images (0: all)")->check(CLI::NonNegativeNumber);
  app.add_option("--grid-count", o.grid_count, "rows in grid.png (0: no grid.png)")->check(CLI::NonNegativeNumber);
  app.add_option("--video-every", o.video_every, "take every Nth frame of videos")->check(CLI::PositiveNumber);
  app.add_option("--device", o.device, "auto | cpu | cuda | cuda:N");
  app.add_option("--threads", o.threads, "LibTorch CPU threads (0: all cores available)")->check(CLI::Range(0, 1024));
  app.add_option("--seed", o.seed, "noise seed");
  cli::add_choice<ChromaUpsampling>(app, "--upsampling", o.chroma_upsampling,
                                    {{"guided", ChromaUpsampling::Guided}, {"bicubic", ChromaUpsampling::Bicubic}},
                                    "chroma upsampling");
  cli::add_precision(app, o.precision);
  app.add_flag("--flicker", o.flicker, "measure flicker on clips instead of scoring photos");
  app.add_option("--temporal-smoothing", o.smoothing, "--flicker: cgancolorize's temporal-smoothing")->check(CLI::Range(0.0, 1.0));
  cli::add_choice<bool>(app, "--noise", o.noise_per_frame, {{"fixed", false}, {"per-frame", true}},
                        "--flicker: fixed (cgancolorize's own) | per-frame (cgannoise mode=per-frame)");
  app.add_option("--inference-interval", o.inference_interval,
                 "--flicker: cgancolorize's inference-interval (the model on every Nth frame)")
      ->check(CLI::Range(1, 1000));
  app.add_option("--max-frames", o.max_frames, "--flicker: frames per clip (panned photos: this many)")->check(CLI::PositiveNumber);
  app.add_option("--luma-threshold", o.luma_threshold, "--flicker: luma change below which a pixel is still")
      ->check(CLI::Range(0.0, 1.0));
}

// Parses and checks the command line; exits with status 2 on misuse.
EvalOptions parse_options(CLI::App& app, int argc, char** argv) {
  EvalOptions o;
  declare_options(app, o);
  cli::parse(app, argc, argv);
  if (o.data.empty()) cli::fail(app, "missing --data DIR");
  if (o.model.empty()) o.model = default_model_path();
  if (o.model.empty()) cli::fail(app, "missing --model (and no default model is installed)");
  return o;
}

// --flicker: each clip colorized frame by frame as cgancolorize does; flicker.json.
int evaluate_clips(const EvalOptions& o) {
  PlaneColorizerOptions options;
  options.model_path = o.model;
  options.device = o.device;
  options.threads = static_cast<int>(o.threads);
  options.seed = o.seed;
  options.inference_size = o.size_text;
  options.upsampling = o.chroma_upsampling;
  options.precision = o.precision;
  options.temporal_smoothing = o.smoothing;
  options.inference_interval = o.inference_interval;
  fs::create_directories(o.out);
  nlohmann::ordered_json report = {{"model", o.model},
                                   {"noise", o.noise_per_frame ? "per-frame" : "fixed"},
                                   {"temporal_smoothing", o.smoothing},
                                   {"inference_interval", o.inference_interval},
                                   {"luma_threshold", o.luma_threshold},
                                   {"clips", nlohmann::ordered_json::array()}};
  std::cout << "temporal-smoothing " << o.smoothing << ", noise " << (o.noise_per_frame ? "per-frame" : "fixed") << ", model " << o.model << "\n"
            << "clip                                   frames  flicker pred  flicker true  ratio   CF pred  CF true\n";
  for (const auto& clip : o.data) {
    const FlickerReport r = measure_flicker(clip, options, o.eval_side, o.max_frames, o.luma_threshold,
                                            o.noise_per_frame);
    std::cout << std::left << std::setw(38) << fs::path(clip).filename().string().substr(0, 37) << std::right
              << std::setw(7) << r.frames << std::fixed << std::setprecision(5) << std::setw(14) << r.flicker_pred
              << std::setw(14) << r.flicker_true << std::setprecision(2) << std::setw(7)
              << r.flicker_pred / r.flicker_true << std::setw(10) << r.cf_pred << std::setw(9) << r.cf_true << "\n";
    report["clips"].push_back({{"clip", clip},
                               {"frames", r.frames},
                               {"flicker_pred", json_number(r.flicker_pred)},
                               {"flicker_true", json_number(r.flicker_true)},
                               {"flicker_ratio", json_number(r.flicker_pred / r.flicker_true)},
                               {"colorfulness_pred", json_number(r.cf_pred)},
                               {"colorfulness_true", json_number(r.cf_true)}});
  }
  // Written once every clip is measured: a failure leaves no partial report.
  write_file_atomically(fs::path(o.out) / "flicker.json", report.dump(2) + "\n");
  std::cout << "wrote " << o.out << "/flicker.json\n";
  return 0;
}

// Sums of the scores of prediction and gray baseline over a set of photos.
struct Tally {
  int64_t images = 0;
  Scores prediction, gray;
  double cf_true = 0;
  ChromaOnNeutrals neutrals;  // the prediction's (the gray baseline has none)

  void add(const Scores& p, const Scores& g, double cf, const ChromaOnNeutrals& n) {
    ++images;
    prediction = {prediction.psnr + p.psnr, prediction.ssim + p.ssim, prediction.cf + p.cf, prediction.ciede + p.ciede};
    gray = {gray.psnr + g.psnr, gray.ssim + g.ssim, gray.cf + g.cf, gray.ciede + g.ciede};
    cf_true += cf;
    neutrals += n;
  }
};

// Mean scores, each beside the gray baseline's.
struct Summary {
  int64_t images = 0;
  Scores prediction, gray;
  double cf_true = 0, neutral_chroma = 0;
};

Summary mean_of(const Tally& t) {
  const double n = static_cast<double>(t.images);
  auto mean = [n](const Scores& s) { return Scores{s.psnr / n, s.ssim / n, s.cf / n, s.ciede / n}; };
  return {t.images, mean(t.prediction), mean(t.gray), t.cf_true / n, t.neutrals.mean()};
}

// Each source weighs the same, however many photos it has.
Summary mean_over_sources(const std::vector<Summary>& sources) {
  Tally per_source;  // each source's means, summed as if each source were one photo
  int64_t images = 0;
  double neutral = 0, with_neutrals = 0;
  for (const Summary& s : sources) {
    per_source.add(s.prediction, s.gray, s.cf_true, {});
    images += s.images;
    if (std::isfinite(s.neutral_chroma)) {
      neutral += s.neutral_chroma;
      ++with_neutrals;
    }
  }
  Summary m = mean_of(per_source);
  m.images = images;
  m.neutral_chroma = with_neutrals > 0 ? neutral / with_neutrals : std::numeric_limits<double>::quiet_NaN();
  return m;
}

// What a photo evaluation found, and what is written of it.
struct PhotoReport {
  int64_t skipped = 0;
  Precision precision = Precision::Fp32;              // what ran
  Summary all;                                        // every photo weighs the same
  std::vector<std::pair<std::string, Summary>> sources;  // per folder, in the order read
  Summary balanced;                                   // every source weighs the same
  std::string csv;                                    // one row per photo
  std::vector<at::Tensor> grid;                       // gray | prediction | truth cells
};

PhotoReport score_photos(const EvalOptions& o, InferenceEngine& engine) {
  const WorkingSize size = working_size_for(o.size_text, engine.metadata());
  DatasetOptions data_options;
  data_options.keep_side = o.eval_side;
  data_options.video_every = std::max<int64_t>(1, o.video_every);
  LoadSummary summary;
  ImageSet images = ImageSet::load(find_inputs(o.data), data_options, &summary,
                                   [](const std::string& m) { std::cerr << "warning: " << m << "\n"; });
  PhotoReport r;
  r.skipped = summary.skipped;
  r.precision = engine.precision();
  const int64_t n = o.max_images > 0 ? std::min(o.max_images, images.size()) : images.size();
  std::ostringstream csv;
  csv << "image,source,psnr,psnr_gray,ssim,ssim_gray,cf_pred,cf_true,ciede2000,ciede2000_gray,neutral_chroma,"
         "neutral_pixels\n";
  Tally all;
  std::vector<std::pair<std::string, Tally>> sources;
  const bool terminal = isatty(fileno(stderr));
  for (int64_t i = 0; i < n; ++i) {
    const at::Tensor truth = rgb8_to_tensor(images.image(i));
    const at::Tensor prediction = colorize_image(engine, truth, size, o.chroma_upsampling);
    const at::Tensor gray = gray_baseline(truth);
    const Scores p = score(prediction, truth), g = score(gray, truth);
    const double cf_true = colorfulness(truth);
    const ChromaOnNeutrals neutrals = chroma_on_neutrals(prediction, truth);
    const std::string source = fs::path(images.source(i)).filename().string();
    csv << csv_field(images.name(i)) << "," << csv_field(source) << "," << p.psnr << "," << g.psnr << "," << p.ssim
        << "," << g.ssim << "," << p.cf << "," << cf_true << "," << p.ciede << "," << g.ciede << ","
        << neutrals.mean() << "," << neutrals.pixels << "\n";
    all.add(p, g, cf_true, neutrals);
    if (sources.empty() || sources.back().first != source) sources.push_back({source, {}});
    sources.back().second.add(p, g, cf_true, neutrals);
    // Grid rows spread over the whole set (folders are read in sorted order).
    if (o.grid_count > 0 && i % std::max<int64_t>(1, n / o.grid_count) == 0 &&
        static_cast<int64_t>(r.grid.size()) < 3 * o.grid_count) {
      for (const auto* t : {&gray, &prediction, &truth}) r.grid.push_back(grid_cell(*t, 128));
    }
    if (terminal) std::cerr << "\r" << i + 1 << "/" << n << " images" << std::flush;
  }
  if (terminal) std::cerr << "\n";
  r.all = mean_of(all);
  std::vector<Summary> per_source;
  for (const auto& [name, tally] : sources) {
    r.sources.push_back({name, mean_of(tally)});
    per_source.push_back(r.sources.back().second);
  }
  r.balanced = mean_over_sources(per_source);
  r.csv = csv.str();
  return r;
}

nlohmann::ordered_json summary_json(const Summary& s) {
  auto scores = [](const Scores& x) {
    return nlohmann::ordered_json{{"psnr", json_number(x.psnr)}, {"ssim_luma", json_number(x.ssim)},
                                  {"colorfulness", json_number(x.cf)}, {"ciede2000", json_number(x.ciede)}};
  };
  auto prediction = scores(s.prediction);
  prediction["neutral_chroma"] = json_number(s.neutral_chroma);
  return {{"images", s.images},
          {"prediction", prediction},
          {"gray_baseline", scores(s.gray)},
          {"truth", {{"colorfulness", json_number(s.cf_true)}}},
          {"colorfulness_ratio", json_number(s.prediction.cf / s.cf_true)},
          {"psnr_minus_gray", json_number(s.prediction.psnr - s.gray.psnr)},
          {"ciede2000_ratio_to_gray", json_number(s.prediction.ciede / s.gray.ciede)}};
}

void write_photo_report(const EvalOptions& o, const PhotoReport& r) {
  nlohmann::ordered_json report = {{"model", o.model},
                                   {"precision", to_string(r.precision)},
                                   {"skipped", r.skipped},
                                   {"eval_side", o.eval_side}};
  report.update(summary_json(r.all));
  report["delta_colorfulness"] = json_number(std::abs(r.all.prediction.cf - r.all.cf_true));
  report["sources_balanced"] = summary_json(r.balanced);
  report["sources"] = nlohmann::ordered_json::object();
  for (const auto& [name, summary] : r.sources) report["sources"][name] = summary_json(summary);
  if (!r.grid.empty()) write_image((fs::path(o.out) / "grid.png").string(), image_grid(r.grid, 3));
  write_file_atomically(fs::path(o.out) / "report.csv", r.csv);
  write_file_atomically(fs::path(o.out) / "report.json", report.dump(2) + "\n");
}

void print_photo_report(const EvalOptions& o, const PhotoReport& r) {
  const Scores &p = r.all.prediction, &g = r.all.gray;
  std::cout << std::fixed << std::setprecision(3) << r.all.images << " images, model " << o.model << " ("
            << to_string(r.precision) << ")\n"
            << "                 prediction   gray baseline\n"
            << "PSNR (RGB, dB)   " << std::setw(10) << p.psnr << "   " << std::setw(10) << g.psnr << "\n"
            << "SSIM (luma)      " << std::setw(10) << p.ssim << "   " << std::setw(10) << g.ssim << "\n"
            << "colourfulness    " << std::setw(10) << p.cf << "   " << std::setw(10) << g.cf << "   (truth "
            << r.all.cf_true << ", prediction " << std::setprecision(1) << 100.0 * p.cf / r.all.cf_true << "% of it)\n"
            << std::setprecision(3) << "CIEDE2000        " << std::setw(10) << p.ciede << "   " << std::setw(10)
            << g.ciede << "\n"
            << "neutral chroma   " << std::setw(10) << r.all.neutral_chroma << "   " << std::setw(10) << 0.0
            << "   (C*ab painted where the truth has C*ab < 5)\n\n";
  // Per source, then every source weighing the same.
  std::cout << "source           images   PSNR  (gray)  CIEDE  (gray)  colourful.  neutral C*ab\n";
  auto row = [](const std::string& name, const Summary& s) {
    std::cout << std::left << std::setw(16) << name.substr(0, 15) << std::right << std::setw(7) << s.images
              << std::setprecision(2) << std::setw(7) << s.prediction.psnr << std::setw(8) << s.gray.psnr
              << std::setw(7) << s.prediction.ciede << std::setw(8) << s.gray.ciede << std::setprecision(1)
              << std::setw(11) << 100.0 * s.prediction.cf / s.cf_true << "%" << std::setprecision(2)
              << std::setw(14) << s.neutral_chroma << "\n";
  };
  for (const auto& [name, summary] : r.sources) row(name, summary);
  row("each source =", r.balanced);
  std::cout << "dCF = " << std::setprecision(3) << std::abs(p.cf - r.all.cf_true) << "; wrote " << o.out
            << "/report.json, report.csv" << (o.grid_count > 0 ? ", grid.png" : "") << "\n";
}

// Photos: each turned gray, colorized and scored beside the gray baseline.
int evaluate_photos(const EvalOptions& o) {
  EngineOptions engine_options;
  engine_options.device = o.device;
  engine_options.threads = static_cast<int>(o.threads);
  engine_options.seed = o.seed;
  engine_options.precision = o.precision;
  InferenceEngine engine(o.model, engine_options);
  const PhotoReport report = score_photos(o, engine);
  if (report.all.images == 0) {
    std::cerr << "colorgan-eval: no readable images in the --data paths\n";
    return 2;
  }
  fs::create_directories(o.out);
  write_photo_report(o, report);
  print_photo_report(o, report);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(
      "Turns each colour image gray, colorizes it, and reports PSNR (RGB), SSIM (luma), colourfulness\n"
      "(Hasler & Suesstrunk 2003) of prediction and truth, and mean CIEDE2000, each beside the gray\n"
      "baseline (U = V = 0.5). Writes OUT/report.json, OUT/report.csv and OUT/grid.png.\n"
      "With --flicker, each --data is a colour clip (a video, or a photo panned as one) colorized frame\n"
      "by frame as cgancolorize does; reports flicker (mean |change of U,V| between consecutive frames\n"
      "over pixels whose luma changed less than --luma-threshold) and colourfulness, prediction beside\n"
      "truth, in OUT/flicker.json.",
      "colorgan-eval");
  cli::configure(app, "--data DIR... [--model M] [options]");
  const EvalOptions options = parse_options(app, argc, argv);
  return cli::run(app, [&] { return options.flicker ? evaluate_clips(options) : evaluate_photos(options); });
}
