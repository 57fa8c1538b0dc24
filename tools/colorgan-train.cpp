// colorgan-train: trains the conditional GAN on folders of photos, videos or
// LSUN LMDB exports, with checkpoints, resume, progress, logs and samples.
#include "cli.h"

#include "colorgan/colorspace.h"
#include "colorgan/dataset.h"
#include "colorgan/distributed.h"
#include "colorgan/engine.h"
#include "colorgan/errors.h"
#include "colorgan/files.h"
#include "colorgan/image_io.h"
#include "colorgan/plot.h"
#include "colorgan/trainer.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <tuple>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace colorgan;

namespace {

std::atomic<int> stop_signal{0};
extern "C" void on_signal(int signal) { stop_signal = signal; }

struct LogRow {
  int64_t step;
  double d_loss, g_loss, g_adv, g_l1, images_per_s, data_wait_share, g_feature, g_stability, g_class;
};

// One colorgan-train per run directory: a second would mix its files into the
// first's. The lock (flock on RUN/.lock) goes with the process, however it ends.
void lock_run_directory(const fs::path& run) {
  fs::create_directories(run);
  const fs::path lock = run / ".lock";
  const int fd = open(lock.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot create '" + lock.string() + "': " + std::strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    throw std::invalid_argument("another colorgan-train is using the run directory '" + run.string() + "'");
  }
  // Held: whatever temporaries are here were left by a killed run (checkpoint.pt.tmp.PID: 43 MB each).
  for (const auto& entry : fs::directory_iterator(run)) {
    if (entry.path().filename().string().find(".tmp") != std::string::npos) {
      std::cerr << "removing " << entry.path().string() << ", left by an earlier run that was killed\n";
      fs::remove(entry.path());
    }
  }
}

std::string format_duration(double seconds) {
  const auto s = static_cast<int64_t>(seconds);
  std::ostringstream out;
  out << s / 3600 << ":" << std::setw(2) << std::setfill('0') << (s / 60) % 60 << ":" << std::setw(2) << s % 60;
  return out.str();
}

std::vector<LogRow> read_log(const fs::path& path, int64_t up_to_step) {
  std::vector<LogRow> rows;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    LogRow r{};
    // g_feature, g_stability and g_class came last, later: older logs have 7 to 9 columns.
    if (std::sscanf(line.c_str(), "%ld,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf,%lf", &r.step, &r.d_loss, &r.g_loss, &r.g_adv,
                    &r.g_l1, &r.images_per_s, &r.data_wait_share, &r.g_feature, &r.g_stability, &r.g_class) >= 7 &&
        r.step <= up_to_step) {
      rows.push_back(r);
    }
  }
  return rows;
}

void write_log(const fs::path& path, const std::vector<LogRow>& rows) {
  std::ostringstream out;
  out << "step,d_loss,g_loss,g_adversarial,g_l1,images_per_s,data_wait_share,g_feature,g_stability,g_class\n";
  for (const auto& r : rows) {
    out << r.step << "," << r.d_loss << "," << r.g_loss << "," << r.g_adv << "," << r.g_l1 << "," << r.images_per_s
        << "," << r.data_wait_share << "," << r.g_feature << "," << r.g_stability << "," << r.g_class << "\n";
  }
  write_file_atomically(path, out.str());
}

void write_loss_plot(const fs::path& path, const std::vector<LogRow>& rows) {
  PlotSeries d{"D loss", {}, {}}, g{"G loss", {}, {}};
  for (const auto& r : rows) {
    d.x.push_back(static_cast<double>(r.step));
    d.y.push_back(r.d_loss);
    g.x.push_back(static_cast<double>(r.step));
    g.y.push_back(r.g_loss);
  }
  write_line_plot(path.string(), "colorgan-train losses", {d, g});
}

// Rows of gray input | colorized | original for a fixed validation batch.
void write_samples(const fs::path& path, Trainer& trainer, const at::Tensor& validation) {
  const at::Tensor colour = trainer.colorize(validation);
  std::vector<at::Tensor> cells;
  for (int64_t i = 0; i < validation.size(0); ++i) {
    const at::Tensor y = rgb_to_luma(validation[i]);
    cells.push_back(y.unsqueeze(0).expand({3, -1, -1}));
    cells.push_back(colour[i]);
    cells.push_back(validation[i]);
  }
  write_image(path.string(), image_grid(cells, 3));
}

// A run's whole configuration. RUN/config.json holds it (the one place it
// lives): --resume reads it back and puts what the new command line gives on top.
struct RunConfig {
  TrainOptions training;
  DatasetOptions data;  // data.size follows training.size; data.threads are the decoding workers
  std::vector<std::string> train_paths, validation_paths;
  std::vector<std::string> cutout_paths;  // RGBA cut-outs pasted onto training crops (none: off)
  int64_t val_count = 8;
  int64_t threads = 0;  // LibTorch threads; 0: all cores available
  int64_t checkpoint_every = 250, sample_every = 250, log_every = 10;
};

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (!in) throw std::runtime_error("cannot read '" + path.string() + "'");
  return text.str();
}

std::string to_json(const RunConfig& c) {
  nlohmann::ordered_json j;
  j["training"] = nlohmann::ordered_json::parse(c.training.to_json());
  auto& d = j["data"];
  d["train"] = c.train_paths;
  d["validation"] = c.validation_paths;
  d["val_count"] = c.val_count;
  d["crop_scale"] = {c.data.min_crop, c.data.max_crop};
  d["balance_sources"] = c.data.balance_sources;
  d["cutouts"] = c.cutout_paths;
  d["cutout_fraction"] = c.data.cutout_fraction;
  d["keep_side"] = c.data.keep_side;
  d["video_every"] = c.data.video_every;
  d["workers"] = c.data.threads;
  auto& r = j["run"];
  r["threads"] = c.threads;
  r["checkpoint_every"] = c.checkpoint_every;
  r["sample_every"] = c.sample_every;
  r["log_every"] = c.log_every;
  return j.dump(2) + "\n";
}

RunConfig run_config_from_json(const std::string& text) {
  RunConfig c;
  try {
    const auto j = nlohmann::json::parse(text);
    c.training = TrainOptions::from_json(j.at("training").dump());
    const auto& d = j.at("data");
    d.at("train").get_to(c.train_paths);
    d.at("validation").get_to(c.validation_paths);
    d.at("val_count").get_to(c.val_count);
    const auto crop = d.at("crop_scale").get<std::vector<double>>();
    if (crop.size() != 2) throw std::invalid_argument("crop_scale must be [MIN, MAX]");
    c.data.min_crop = crop[0];
    c.data.max_crop = crop[1];
    d.at("balance_sources").get_to(c.data.balance_sources);
    // Runs written before cut-outs existed have neither key.
    c.cutout_paths = d.value("cutouts", std::vector<std::string>{});
    c.data.cutout_fraction = d.value("cutout_fraction", c.data.cutout_fraction);
    d.at("keep_side").get_to(c.data.keep_side);
    d.at("video_every").get_to(c.data.video_every);
    d.at("workers").get_to(c.data.threads);
    const auto& r = j.at("run");
    r.at("threads").get_to(c.threads);
    r.at("checkpoint_every").get_to(c.checkpoint_every);
    r.at("sample_every").get_to(c.sample_every);
    r.at("log_every").get_to(c.log_every);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(e.what());
  }
  return c;
}

// Flags that pick a run rather than set it.
struct RunChoice {
  std::string out, resume, preset = "default";
  GroupAddress group;          // torchrun's variables, then the flags on top
  double group_timeout = 300;  // seconds
};

// Times every collective of a group: their share of the training time goes in the log.
class TimedCollectives : public Collectives {
 public:
  explicit TimedCollectives(std::shared_ptr<Collectives> group) : group_(std::move(group)) {}
  int rank() const override { return group_->rank(); }
  int world_size() const override { return group_->world_size(); }
  void all_reduce_sum(at::Tensor& t) override { timed([&] { group_->all_reduce_sum(t); }); }
  void broadcast(at::Tensor& t) override { timed([&] { group_->broadcast(t); }); }
  double seconds() const { return seconds_; }

 private:
  template <class F>
  void timed(const F& f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  std::shared_ptr<Collectives> group_;
  double seconds_ = 0;
};

// Binds every option to the field it sets: parsing writes only what is given.
void declare_options(CLI::App& app, RunConfig& c, RunChoice& choice) {
  TrainOptions& t = c.training;
  app.add_option("--data", c.train_paths, "training images: folders (searched recursively), videos, LSUN LMDB folders (repeatable)")->type_name("PATH");
  app.add_option("--val-data", c.validation_paths, "validation images (default: hold out --val-count training images)")->type_name("PATH");
  app.add_option("--val-count", c.val_count, "whole images held out for validation when no --val-data")->check(CLI::PositiveNumber);
  app.add_option("--out", choice.out, "run directory to create")->type_name("RUN");
  app.add_option("--resume", choice.resume, "continue the run in this directory from its checkpoint and config.json")->type_name("RUN");
  app.add_option("--preset", choice.preset, "training preset; seed: the seed paper's (gan loss, rmsprop 0.01, decay 0.9, batch 128, 5000 steps)")
      ->check(CLI::IsMember({"default", "seed"}));
  app.add_option("--generator", t.generator_preset, "generator preset (docs/DESIGN.md)")
      ->check(CLI::IsMember(colorgan::generator_presets()));
  cli::add_choice<GanLoss>(app, "--loss", t.loss, {{"gan", GanLoss::CrossEntropy}, {"wgan-gp", GanLoss::WganGp}},
                           "GAN loss: cross-entropy on logits, or Wasserstein with gradient penalty");
  cli::add_choice<OptimizerKind>(app, "--optimizer", t.optimizer,
                                 {{"adam", OptimizerKind::Adam}, {"rmsprop", OptimizerKind::RMSprop}}, "optimizer");
  app.add_option("--lr-g", t.lr_g, "generator learning rate")->check(CLI::PositiveNumber);
  app.add_option("--lr-d", t.lr_d, "discriminator learning rate")->check(CLI::PositiveNumber);
  app.add_option("--beta1", t.beta1, "Adam beta1")->check(cli::kUnitInterval);
  app.add_option("--beta2", t.beta2, "Adam beta2")->check(cli::kUnitInterval);
  app.add_option("--rms-alpha", t.rms_alpha, "RMSprop decay of the squared-gradient average")->check(cli::kUnitInterval);
  app.add_option("--batch", t.batch, "images per batch")->check(CLI::PositiveNumber);
  app.add_option("--steps", t.steps, "generator updates to train to (with --resume: the new total)")->check(CLI::PositiveNumber);
  app.add_option("--size", t.size, "side of the square training crops")->check(CLI::Range(16, 1024));
  app.add_option("--l1-weight", t.l1_weight, "weight of the L1 loss on U,V (0 = adversarial only)")->check(CLI::NonNegativeNumber);
  app.add_option("--real-label", t.real_label, "cross-entropy target for real images (1 = no smoothing)")
      ->check(CLI::Range(1e-6, 1.0));
  app.add_option("--critic-steps", t.critic_steps, "discriminator updates per generator update (wgan-gp: 5 unless given)")
      ->check(CLI::PositiveNumber);
  app.add_option("--gp-weight", t.gp_weight, "WGAN-GP gradient penalty weight")->check(CLI::NonNegativeNumber);
  app.add_option("--fc-hidden", t.fc_hidden, "discriminator's hidden fully connected width")->check(CLI::PositiveNumber);
  cli::add_choice<NoiseDistribution>(app, "--noise", t.noise,
                                     {{"gaussian", NoiseDistribution::Gaussian}, {"uniform", NoiseDistribution::Uniform}},
                                     "noise distribution");
  app.add_option("--seed", t.seed, "seed for every random choice (weights, batches, noise)");
  app.add_option_function<std::vector<double>>(
         "--crop-scale",
         [&c](const std::vector<double>& v) {
           if (!(v[0] > 0 && v[0] <= v[1] && v[1] <= 1)) {
             throw CLI::ValidationError("--crop-scale", "must be MIN,MAX with 0 < MIN <= MAX <= 1");
           }
           c.data.min_crop = v[0];
           c.data.max_crop = v[1];
         },
         "MIN,MAX: random-scale crops, side as a fraction of the short side (default: the whole short side)")
      ->delimiter(',')
      ->expected(2)
      ->type_name("MIN,MAX");
  app.add_flag("--balance-sources", c.data.balance_sources,
               "draw each crop's folder uniformly, then a photo in it (so no folder dominates)");
  app.add_option("--cutouts", c.cutout_paths,
                 "RGBA cut-outs (files or folders; tools/fetch-training-data.sh --with-cutouts) pasted onto training crops")
      ->type_name("PATH");
  app.add_option("--cutout-fraction", c.data.cutout_fraction, "share of training crops that get one or two cut-outs")
      ->check(cli::kUnitInterval);
  app.add_option("--keep-side", c.data.keep_side, "images are kept in memory shrunk to this short side (0: 4 x size)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--video-every", c.data.video_every, "take every Nth frame of videos")->check(CLI::PositiveNumber);
  app.add_option("--device", t.device, "auto | cpu | cuda | cuda:N");
  app.add_option("--ema", t.ema, "export a moving average of the generator's weights with this decay, e.g. 0.999 (0 = off)")
      ->check(cli::kUnitInterval);
  app.add_option("--lr-decay-from", t.lr_decay_from, "from this step, lower the learning rates linearly to 0 at --steps (0 = constant)")
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--amp", t.amp, "mixed precision: bf16 autocast for the forward passes");
  app.add_option("--feature-weight", t.feature_weight,
                 "weight of a feature (perceptual) loss on a pretrained MobileNetV2's blocks (0 = off; needs --backbone)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--backbone", t.backbone, "pretrained MobileNetV2 file (tools/fetch-backbone.sh writes it): the feature loss's network and "
                 "the pretrained-encoder generator's starting encoder")
      ->type_name("FILE");
  app.add_option("--stability-weight", t.stability_weight,
                 "weight of a stability loss against flicker: |G(Y + luma noise) - G(Y)| (0 = off)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--stability-noise", t.stability_noise, "the stability loss's luma noise, std in [0,1] units")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--rebalance", t.rebalance,
                 "class-rebalanced L1 against desaturation (Zhang et al. 2016): a pixel weighs 1 / (R p + (1 - R) / Q) "
                 "of its true chroma's frequency p in the training crops; 0 = off, 0.5 = the paper's")
      ->check(CLI::Range(0.0, 0.99));
  app.add_option("--class-weight", t.class_weight,
                 "weight of the chroma-class cross-entropy (a --generator ...-classes head; rebalanced by --rebalance)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--encoder-lr", t.encoder_lr,
                 "learning rate of a pretrained encoder's convs (--generator pretrained-encoder...); 0 = frozen")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--init-from", t.init_from,
                 "a new run's generator starts from this model file's weights (same --generator, or its regression "
                 "form for a ...-classes head, whose output layer then starts afresh; a new discriminator)")
      ->type_name("MODEL.cgan");
  app.add_option("--threads", c.threads, "LibTorch CPU threads (0: all cores available)")->check(CLI::Range(0, 1024));
  app.add_option("--workers", c.data.threads, "image decoding threads")->check(CLI::Range(1, 64));
  app.add_option("--checkpoint-every", c.checkpoint_every, "steps between checkpoints")->check(CLI::PositiveNumber);
  app.add_option("--sample-every", c.sample_every, "steps between sample grids")->check(CLI::PositiveNumber);
  app.add_option("--log-every", c.log_every, "steps between log rows")->check(CLI::PositiveNumber);
  // Data parallel over processes, addressed as torchrun addresses them (docs/TRAINING.md).
  const std::string group = "Distributed (defaults from RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT)";
  GroupAddress& g = choice.group;
  app.add_option("--world-size", g.world_size, "processes training together; --batch is each one's")
      ->check(CLI::Range(1, 65536))->group(group);
  app.add_option("--rank", g.rank, "this process's rank, 0 .. world size - 1 (rank 0 writes the run directory)")
      ->check(CLI::NonNegativeNumber)->group(group);
  app.add_option("--local-rank", g.local_rank, "its rank on this machine (with --device cuda: its GPU)")
      ->check(CLI::NonNegativeNumber)->group(group);
  app.add_option("--master-addr", g.master_addr, "host of rank 0's rendezvous (TCPStore)")->group(group);
  app.add_option("--master-port", g.master_port, "its port")->check(CLI::Range(1, 65535))->group(group);
  app.add_option("--group-timeout", choice.group_timeout,
                 "seconds to wait for the other ranks (rendezvous and every collective) before stopping with an error")
      ->check(CLI::Range(1.0, 86400.0))->group(group);
}

// What a run is: its directory, whether it resumes, and its settings.
struct RunPlan {
  fs::path run;
  bool resuming = false;
  RunConfig config;
};

// Parses and checks the command line over the run's starting point (the
// preset, or the resumed run's config.json); exits with status 2 on misuse.
RunPlan plan_run(CLI::App& app, RunConfig& c, RunChoice& choice, const std::vector<std::string>& cli) {
  cli::parse(app, cli);  // to learn --out, --resume and --preset
  RunPlan plan;
  plan.resuming = !choice.resume.empty();
  RunConfig base;
  if (plan.resuming) {
    plan.run = choice.resume;
    if (app.count("--out") || app.count("--preset")) {
      cli::fail(app, "--out and --preset go with a new run, not with --resume");
    }
    if (!fs::exists(plan.run / "config.json") || !fs::exists(plan.run / "checkpoint.pt")) {
      cli::fail(app, "'" + plan.run.string() + "' is not a run directory with a checkpoint (config.json, checkpoint.pt)");
    }
    try {
      base = run_config_from_json(read_file(plan.run / "config.json"));
    } catch (const std::exception& e) {
      if (fs::exists(plan.run / "args.txt")) {  // config.json held only the training options then
        cli::fail(app, "'" + plan.run.string() + "' was written by an earlier colorgan-train (args.txt beside a "
                       "partial config.json): resume it with that version, or start a new run");
      }
      cli::fail(app, "cannot read " + (plan.run / "config.json").string() + ": " + first_line(e.what()));
    }
  } else {
    if (choice.out.empty()) cli::fail(app, "missing --out RUN (or --resume RUN)");
    plan.run = choice.out;
    if (fs::exists(plan.run / "checkpoint.pt")) cli::fail(app, "'" + choice.out + "' already holds a run: use --resume " + choice.out);
    base.training = TrainOptions::preset(choice.preset);
  }
  c = base;
  app.clear();
  cli::parse(app, cli);  // what is given goes on top of the base, 0 included
  TrainOptions& t = c.training;
  if (plan.resuming) {
    if (app.count("--init-from")) cli::fail(app, "--init-from goes with a new run: a resumed run has its weights");
    // The checkpoint's layers follow from these: refuse a change before anything is written.
    const TrainOptions& trained = base.training;
    if (std::tie(t.size, t.generator_preset, t.fc_hidden, t.loss) !=
        std::tie(trained.size, trained.generator_preset, trained.fc_hidden, trained.loss)) {
      cli::fail(app, "--size, --generator, --fc-hidden and --loss cannot change on --resume: the checkpoint's layers "
                     "were made for the run's own (see " + (plan.run / "config.json").string() + ")");
    }
  } else if (t.loss == GanLoss::WganGp && !app.count("--critic-steps")) {
    t.critic_steps = 5;
  }
  if (c.train_paths.empty()) cli::fail(app, "missing --data DIR");
  c.data.size = t.size;
  if (c.data.keep_side == 0) c.data.keep_side = 4 * t.size;  // recorded as what it is
  plan.config = c;
  return plan;
}

// Training and validation images, decoded once by worker threads; unreadable files are skipped.
struct RunData {
  ImageSet train, validation;
  int64_t warnings = 0;
};

// The chroma of 1,024 random training crops (as training draws them; their own seeds),
// for the rebalanced L1: the same on every rank and on resume.
at::Tensor training_chroma_histogram(const ImageSet& train, const TrainOptions& o) {
  at::Tensor histogram;
  for (int64_t k = 0; k < 16; ++k) {
    const auto rgb = train.random_batch(64, (o.seed + 1) * 104729 + k);
    const auto counts = chroma_histogram(rgb_to_yuv(rgb).narrow(1, 1, 2));
    histogram = histogram.defined() ? histogram + counts : counts;
  }
  return histogram;
}

RunData load_data(const RunConfig& c) {
  const DatasetOptions& data_options = c.data;
  RunData d;
  auto warn = [&](const std::string& message) {
    ++d.warnings;
    std::cerr << "warning: " << message << "\n";
  };
  const auto load_start = std::chrono::steady_clock::now();
  LoadSummary train_summary, val_summary;
  d.train = ImageSet::load(find_inputs(c.train_paths), data_options, &train_summary, warn);
  if (!c.validation_paths.empty()) {
    d.validation = ImageSet::load(find_inputs(c.validation_paths), data_options, &val_summary, warn);
    if (d.validation.size() == 0) throw std::invalid_argument("no readable validation images in the --val-data paths");
  } else {
    std::tie(d.train, d.validation) = d.train.split(std::min<int64_t>(c.val_count, d.train.size() / 2));
  }
  const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  std::cerr << "data: " << d.train.size() << " training images in " << d.train.source_count() << " folders and "
            << d.validation.size() << " validation images from " << train_summary.sources + val_summary.sources
            << " inputs, " << train_summary.skipped + val_summary.skipped << " skipped, decoded in " << std::fixed
            << std::setprecision(1) << load_seconds << " s\n";
  if (d.train.size() == 0) throw std::invalid_argument("no readable training images in the --data paths");
  if (d.validation.size() == 0) d.validation = d.train;
  if (!c.cutout_paths.empty()) {
    LoadSummary cutout_summary;
    // Pasted at most 70% of the crop's side: twice the side keeps enough detail for the area filter.
    auto cutouts = std::make_shared<CutoutSet>(CutoutSet::load(c.cutout_paths, 2 * data_options.size, &cutout_summary, warn));
    if (cutouts->size() == 0) throw std::invalid_argument("no readable cut-outs (RGBA images) in the --cutouts paths");
    std::cerr << "cut-outs: " << cutouts->size() << " (" << cutout_summary.skipped << " skipped), pasted onto "
              << std::setprecision(0) << 100 * data_options.cutout_fraction << "% of the training crops\n"
              << std::setprecision(1);
    d.train.set_cutouts(std::move(cutouts));
  }
  return d;
}

// One session of a run: the training loop and what it writes as it goes.
class TrainingSession {
 public:
  // In a group (`group` non-null) rank 0 writes the run directory and prints; every rank trains.
  TrainingSession(const RunPlan& plan, Trainer& trainer, const RunData& data, TimedCollectives* group)
      : c_(plan.config), plan_(plan), trainer_(trainer), data_(data), run_(plan.run), group_(group),
        writer_(group == nullptr || group->rank() == 0),
        share_first_(group == nullptr ? 0 : group->rank() * plan.config.training.batch),
        // Sample grids show 8 validation photos spread over the whole set (it is sorted by source).
        validation_(data.validation.split(std::min<int64_t>(8, data.validation.size()))
                        .second.centre_batch(0, std::min<int64_t>(8, data.validation.size()))),
        per_step_(plan.config.training.critic_steps),
        prefetch_([this](int64_t index) {
                    return data_.train.random_batch(c_.training.batch, c_.training.seed * 7919 + index, share_first_);
                  },
                  trainer.step() * plan.config.training.critic_steps),
        terminal_(writer_ && isatty(fileno(stderr))) {
    if (!writer_) return;
    // Rows past the checkpoint were written by a run that was killed: they are trained again.
    log_ = read_log(run_ / "log.csv", trainer_.step());
    write_log(run_ / "log.csv", log_);
  }

  // Trains to --steps or until SIGINT/SIGTERM; returns the exit status.
  int run() {
    start_ = window_start_ = last_line_ = std::chrono::steady_clock::now();
    window_wait_ = prefetch_.waited_seconds();
    collective_seconds_at_start_ = group_ == nullptr ? 0 : group_->seconds();
    first_step_ = trainer_.step();
    while (trainer_.step() < c_.training.steps && !stopping()) {
      std::vector<at::Tensor> batches;
      for (int64_t k = 0; k < per_step_; ++k) batches.push_back(prefetch_.next());
      const StepLosses l = trainer_.train_step(batches);
      if (!std::isfinite(l.d_loss) || !std::isfinite(l.g_loss)) {
        std::cerr << "\ncolorgan-train: loss is not finite at step " << trainer_.step() << " (D " << l.d_loss
                  << ", G " << l.g_loss << "): lower the learning rate\n";
        return 1;
      }
      after_step(l);
    }
    if (terminal_) std::cerr << "\n";
    checkpoint();
    samples();
    finish();
    return stopped_ ? 130 : 0;
  }

 private:
  // SIGINT or SIGTERM on any rank stops every rank after the same step.
  bool stopping() {
    if (group_ == nullptr) return stopped_ = stop_signal != 0;
    at::Tensor any = at::full({1}, stop_signal != 0 ? 1.0 : 0.0, at::kDouble);
    group_->all_reduce_sum(any);
    return stopped_ = any.item<double>() > 0;
  }

  void after_step(const StepLosses& l) {
    if (!writer_) return;
    sum_ = {sum_.d_loss + l.d_loss, sum_.g_loss + l.g_loss, sum_.g_adv + l.g_adv, sum_.g_l1 + l.g_l1,
            sum_.g_feature + l.g_feature, sum_.g_stability + l.g_stability, sum_.g_class + l.g_class};
    ++window_steps_;
    const int64_t step = trainer_.step();
    const auto now = std::chrono::steady_clock::now();
    if (step % c_.log_every == 0 || step == c_.training.steps) log_window(step, now);
    const bool line_due = terminal_ || seconds(last_line_, now) >= 10 || step == c_.training.steps;
    if (line_due && !log_.empty()) progress_line(step, now);
    if (step % c_.checkpoint_every == 0) checkpoint();
    if (step % c_.sample_every == 0) samples();
  }

  static double seconds(std::chrono::steady_clock::time_point from, std::chrono::steady_clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
  }

  void log_window(int64_t step, std::chrono::steady_clock::time_point now) {
    const double elapsed = seconds(window_start_, now), wait = prefetch_.waited_seconds() - window_wait_;
    const double n = static_cast<double>(window_steps_);
    log_.push_back({step, sum_.d_loss / n, sum_.g_loss / n, sum_.g_adv / n, sum_.g_l1 / n,
                    n * c_.training.batch * per_step_ * world_size() / elapsed, elapsed > 0 ? wait / elapsed : 0,
                    sum_.g_feature / n, sum_.g_stability / n, sum_.g_class / n});
    write_log(run_ / "log.csv", log_);  // as it goes: a killed run keeps its rows
    sum_ = {};
    window_steps_ = 0;
    window_start_ = now;
    window_wait_ = prefetch_.waited_seconds();
  }

  void progress_line(int64_t step, std::chrono::steady_clock::time_point now) {
    const double rate = (step - first_step_) / seconds(start_, now);
    const LogRow& r = log_.back();
    const int64_t steps = c_.training.steps;
    std::ostringstream line;
    const int width = 20, filled = static_cast<int>(width * step / steps);
    line << "step " << step << "/" << steps << " [" << std::string(filled, '#') << std::string(width - filled, '-')
         << "] " << std::fixed << std::setprecision(1) << r.images_per_s << " img/s  D " << std::setprecision(3)
         << r.d_loss << "  G " << r.g_loss << "  ETA " << format_duration((steps - step) / std::max(rate, 1e-9));
    if (terminal_) {
      std::cerr << "\r" << line.str() << "\033[K" << std::flush;
    } else {
      std::cerr << line.str() << "\n";
    }
    last_line_ = now;
  }

  std::string provenance() const {
    std::time_t now = std::time(nullptr);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
    std::ostringstream text;
    text << "colorgan-train " << date << "; data: " << data_.train.size() << " images from";
    for (const auto& d : c_.train_paths) text << " " << d;
    if (!c_.cutout_paths.empty()) text << " with cut-outs from";
    for (const auto& d : c_.cutout_paths) text << " " << d;
    text << "; steps " << trainer_.step() << "; config " << c_.training.to_json();
    return text.str();
  }

  int world_size() const { return group_ == nullptr ? 1 : group_->world_size(); }

  void checkpoint() {
    if (!writer_) return;
    trainer_.save_checkpoint((run_ / "checkpoint.pt").string());
    // Every checkpoint's model stays, so a run's best step can be picked by validation afterwards.
    std::ostringstream name;
    name << "model_" << std::setw(6) << std::setfill('0') << trainer_.step() << ".cgan";
    trainer_.export_model((run_ / name.str()).string(), provenance());
    write_loss_plot(run_ / "loss.png", log_);
  }

  void samples() {
    if (!writer_) return;
    std::ostringstream name;
    name << "samples_" << std::setw(6) << std::setfill('0') << trainer_.step() << ".png";
    write_samples(run_ / name.str(), trainer_, validation_);
  }

  void finish() {
    const double total = seconds(start_, std::chrono::steady_clock::now());
    if (group_ != nullptr) {
      std::cerr << "rank " << group_->rank() << " of " << group_->world_size() << ": collectives (all-reduce, "
                << "broadcast) took " << std::fixed << std::setprecision(1)
                << 100.0 * (group_->seconds() - collective_seconds_at_start_) / std::max(total, 1e-9) << "% of "
                << total << " s\n";
    }
    if (!writer_) return;
    trainer_.export_model((run_ / "model.cgan").string(), provenance());
    std::cerr << (stopped_ ? "interrupted: " : "done: ") << "step " << trainer_.step() << ", " << std::fixed
              << std::setprecision(1) << total << " s this session, data loading waited " << std::setprecision(2)
              << 100.0 * prefetch_.waited_seconds() / std::max(total, 1e-9) << "% of it; " << data_.warnings
              << " input(s) skipped\n"
              << "wrote " << (run_ / "model.cgan").string() << ", " << (run_ / "checkpoint.pt").string() << ", "
              << (run_ / "log.csv").string() << ", " << (run_ / "loss.png").string() << "\n";
  }

  const RunConfig& c_;
  const RunPlan& plan_;
  Trainer& trainer_;
  const RunData& data_;
  const fs::path run_;
  TimedCollectives* group_;
  const bool writer_;
  const int64_t share_first_;  // this rank's first crop in each global batch
  bool stopped_ = false;
  const at::Tensor validation_;
  const int64_t per_step_;
  BatchPrefetcher prefetch_;
  const bool terminal_;
  std::vector<LogRow> log_;
  std::chrono::steady_clock::time_point start_, window_start_, last_line_;
  double window_wait_ = 0, collective_seconds_at_start_ = 0;
  int64_t first_step_ = 0, window_steps_ = 0;
  StepLosses sum_;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(
      "Trains colorgan's conditional GAN (generator: luma + noise -> chroma) and writes a run directory:\n"
      "config.json (every setting; --resume reads it back), checkpoint.pt, log.csv, loss.png, samples_STEP.png\n"
      "and model.cgan (the generator as a model file the plugin loads; model_STEP.cgan at each checkpoint).\n"
      "Ctrl-C writes a checkpoint.",
      "colorgan-train");
  cli::configure(app, "--data DIR... --out RUN [options] | --resume RUN [options]");
  RunConfig config;
  RunChoice choice;
  try {
    choice.group = group_address_from_environment();
  } catch (const std::invalid_argument& e) {
    std::cerr << "colorgan-train: " << e.what() << "\n";
    return 2;
  }
  declare_options(app, config, choice);
  RunPlan plan = plan_run(app, config, choice, std::vector<std::string>(argv + 1, argv + argc));
  try {
    check_group_address(choice.group);
  } catch (const std::invalid_argument& e) {
    cli::fail(app, e.what());
  }
  const GroupAddress& address = choice.group;
  const bool in_group = address.world_size > 1;
  TrainOptions& training = plan.config.training;

  return cli::run(app, [&] {
    if (in_group && training.device.find(':') == std::string::npos && resolve_device(training.device).is_cuda()) {
      training.device = "cuda:" + std::to_string(address.local_rank);  // one GPU per process
    }
    std::shared_ptr<TimedCollectives> group;
    if (in_group) {
      std::cerr << "rank " << address.rank << " of " << address.world_size << ": joining the group at "
                << address.master_addr << ":" << address.master_port << "\n";
      const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(choice.group_timeout * 1000));
      group = std::make_shared<TimedCollectives>(join_group(address, timeout));
    }
    const bool writer = address.rank == 0;  // the run directory is rank 0's
    if (writer) lock_run_directory(plan.run);
    set_thread_count(static_cast<int>(plan.config.threads));
    Trainer trainer(training, group);  // validates the device before any data is read
    const RunData data = load_data(plan.config);
    if (training.rebalance > 0) {
      const auto weights = trainer.set_chroma_histogram(training_chroma_histogram(data.train, training));
      if (writer) {
        std::ostringstream line;
        line << "rebalanced L1: chroma of 1024 training crops in " << kChromaBins << " x " << kChromaBins
             << " cells; weights " << std::setprecision(2) << weights.min().item<double>() << " .. "
             << weights.max().item<double>() << "\n";
        std::cerr << line.str();
      }
    }
    if (plan.resuming && writer) {
      trainer.load_checkpoint((plan.run / "checkpoint.pt").string());
      std::cerr << "resumed " << plan.run.string() << " at step " << trainer.step() << "\n";
    } else if (!plan.resuming && writer && !training.init_from.empty()) {
      trainer.start_from(training.init_from);
      std::cerr << "the generator starts from " << training.init_from << "\n";
    }
    // Before the broadcast: rank 0 says "Ctrl-C ..." only after every rank has joined it, so by then a
    // signal to any rank is caught (and answered after the first step's stop check).
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    trainer.broadcast_state();  // every rank starts from rank 0's weights (fresh or resumed)
    if (writer) write_file_atomically(plan.run / "config.json", to_json(plan.config));
    if (in_group && writer) {
      std::cerr << "training data parallel: world size " << address.world_size << ", " << training.batch
                << " images per rank and step (" << training.batch * address.world_size << " in all)\n";
    }

    TrainingSession session(plan, trainer, data, group.get());
    if (writer) {
      std::cerr << "training: Ctrl-C (SIGINT) or SIGTERM stops with a checkpoint; --resume " << plan.run.string()
                << " goes on\n";
    }
    return session.run();
  });
}
