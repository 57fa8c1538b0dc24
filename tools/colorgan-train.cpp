// colorgan-train: trains the conditional GAN on folders of photos, videos or
// LSUN LMDB exports, with checkpoints, resume, progress, logs and samples.
#include "cli.h"

#include "colorgan/colorspace.h"
#include "colorgan/dataset.h"
#include "colorgan/engine.h"
#include "colorgan/files.h"
#include "colorgan/image_io.h"
#include "colorgan/plot.h"
#include "colorgan/trainer.h"

#include <ATen/ATen.h>

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
  double d_loss, g_loss, g_adv, g_l1, images_per_s, data_wait_share;
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
    if (std::sscanf(line.c_str(), "%ld,%lf,%lf,%lf,%lf,%lf,%lf", &r.step, &r.d_loss, &r.g_loss, &r.g_adv, &r.g_l1,
                    &r.images_per_s, &r.data_wait_share) == 7 &&
        r.step <= up_to_step) {
      rows.push_back(r);
    }
  }
  return rows;
}

void write_log(const fs::path& path, const std::vector<LogRow>& rows) {
  std::ostringstream out;
  out << "step,d_loss,g_loss,g_adversarial,g_l1,images_per_s,data_wait_share\n";
  for (const auto& r : rows) {
    out << r.step << "," << r.d_loss << "," << r.g_loss << "," << r.g_adv << "," << r.g_l1 << "," << r.images_per_s
        << "," << r.data_wait_share << "\n";
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

// The command line as given (0 and empty mean "not given" only where was_set() is not asked).
struct TrainCli {
  std::vector<std::string> data, val_data;
  std::string out, resume, preset = "default", generator, loss, optimizer, noise, device = "auto", crop_scale;
  int64_t batch = 0, steps = 0, size = 0, critic_steps = 0, fc_hidden = 0, threads = 0, workers = 2, lr_decay_from = 0;
  int64_t checkpoint_every = 250, sample_every = 250, log_every = 10, val_count = 8, keep_side = 0, video_every = 30;
  double lr_g = 0, lr_d = 0, beta1 = 0, beta2 = 0, rms_alpha = 0, l1_weight = 0, real_label = 0, gp_weight = 0, ema = 0;
  uint64_t seed = 0;
  bool amp = false, balance_sources = false;
};

void declare_options(ArgParser& args, TrainCli& c) {
  args.option("--data", &c.data, "training images: folders (searched recursively), videos, LSUN LMDB folders");
  args.option("--val-data", &c.val_data, "validation images (default: hold out --val-count training images)");
  args.option("--val-count", &c.val_count, "whole images held out for validation when no --val-data (default 8)");
  args.option("--out", &c.out, "run directory to create");
  args.option("--resume", &c.resume, "continue the run in this directory from its checkpoint");
  args.option("--preset", &c.preset, "default | seed (the seed paper: gan loss, rmsprop 0.01, decay 0.9, batch 128, 5000 steps)");
  args.option("--generator", &c.generator, "generator: seed | public-code | encoder-decoder | tiny | tiny-encoder-decoder (default seed)");
  args.option("--loss", &c.loss, "gan (cross-entropy on logits) | wgan-gp");
  args.option("--optimizer", &c.optimizer, "adam | rmsprop");
  args.option("--lr-g", &c.lr_g, "generator learning rate");
  args.option("--lr-d", &c.lr_d, "discriminator learning rate");
  args.option("--beta1", &c.beta1, "Adam beta1");
  args.option("--beta2", &c.beta2, "Adam beta2");
  args.option("--rms-alpha", &c.rms_alpha, "RMSprop decay of the squared-gradient average");
  args.option("--batch", &c.batch, "images per batch");
  args.option("--steps", &c.steps, "generator updates to train to (with --resume: the new total)");
  args.option("--size", &c.size, "side of the square training crops");
  args.option("--l1-weight", &c.l1_weight, "weight of the L1 loss on U,V (0 = adversarial only)");
  args.option("--real-label", &c.real_label, "cross-entropy target for real images (1 = no smoothing)");
  args.option("--critic-steps", &c.critic_steps, "discriminator updates per generator update (WGAN: 5)");
  args.option("--gp-weight", &c.gp_weight, "WGAN-GP gradient penalty weight");
  args.option("--fc-hidden", &c.fc_hidden, "discriminator's hidden fully connected width");
  args.option("--noise", &c.noise, "gaussian | uniform");
  args.option("--seed", &c.seed, "seed for every random choice (weights, batches, noise)");
  args.option("--crop-scale", &c.crop_scale, "MIN,MAX: random-scale crops, side as a fraction of the short side");
  args.flag("--balance-sources", &c.balance_sources,
            "draw each crop's folder uniformly, then a photo in it (so no folder dominates)");
  args.option("--keep-side", &c.keep_side, "images are kept in memory shrunk to this short side (default 4 x size)");
  args.option("--video-every", &c.video_every, "take every Nth frame of videos (default 30)");
  args.option("--device", &c.device, "auto | cpu | cuda | cuda:N");
  args.option("--ema", &c.ema, "export a moving average of the generator's weights with this decay, e.g. 0.999 (0 = off)");
  args.option("--lr-decay-from", &c.lr_decay_from, "from this step, lower the learning rates linearly to 0 at --steps");
  args.flag("--amp", &c.amp, "mixed precision: bf16 autocast for the forward passes");
  args.option("--threads", &c.threads, "LibTorch CPU threads (default: all cores available)");
  args.option("--workers", &c.workers, "image decoding threads (default 2)");
  args.option("--checkpoint-every", &c.checkpoint_every, "steps between checkpoints (default 250)");
  args.option("--sample-every", &c.sample_every, "steps between sample grids (default 250)");
  args.option("--log-every", &c.log_every, "steps between log rows (default 10)");

}

// What a run is: its directory, whether it resumes, and its settings.
struct RunPlan {
  fs::path run;
  bool resuming = false;
  std::vector<std::string> run_args;  // what args.txt will hold
  TrainOptions options;
  DatasetOptions data_options;
};

// --resume: the saved arguments first, then today's on top (e.g. a larger
// --steps); args.txt keeps both, so a later --resume repeats today's changes.
// Returns the arguments to save.
std::vector<std::string> merge_resumed_arguments(ArgParser& args, TrainCli& c, const fs::path& run,
                                                 const std::vector<std::string>& cli) {
  if (!fs::exists(run / "args.txt") || !fs::exists(run / "checkpoint.pt")) {
    args.fail("'" + run.string() + "' is not a run directory with a checkpoint (args.txt, checkpoint.pt)");
  }
  std::vector<std::string> saved;
  std::ifstream in(run / "args.txt");
  for (std::string line; std::getline(in, line);) saved.push_back(line);
  c.data.clear();
  c.val_data.clear();
  args.parse(saved);
  // The checkpoint's layers follow from these: refuse a change before anything is written.
  const auto trained = std::make_tuple(c.size, c.generator, c.fc_hidden, c.loss);
  args.parse(cli);
  if (std::make_tuple(c.size, c.generator, c.fc_hidden, c.loss) != trained) {
    args.fail("--size, --generator, --fc-hidden and --loss cannot change on --resume: the checkpoint's layers "
              "were made for the run's own (see " + (run / "args.txt").string() + ")");
  }
  for (size_t i = 0; i < cli.size(); ++i) {
    if (cli[i] == "--resume") {
      ++i;
    } else if (cli[i].rfind("--resume=", 0) != 0) {
      saved.push_back(cli[i]);
    }
  }
  return saved;
}

TrainOptions train_options_from(ArgParser& args, const TrainCli& c) {
  TrainOptions options;
  try {
    options = TrainOptions::preset(c.preset);
    if (!c.generator.empty()) options.generator_preset = c.generator;
    if (!c.loss.empty()) options.loss = parse_gan_loss(c.loss);
    if (!c.optimizer.empty()) options.optimizer = parse_optimizer(c.optimizer);
    if (!c.noise.empty()) options.noise = parse_noise_distribution(c.noise);
    if (options.loss == GanLoss::WganGp && !args.was_set("--critic-steps")) options.critic_steps = 5;
  } catch (const std::invalid_argument& e) {
    args.fail(e.what());
  }
  // What was given wins, 0 included (a sentinel once made --beta1 0 and --gp-weight 0 silently do nothing).
  auto take = [&](const char* flag, auto value, auto& target, bool valid, const char* range) {
    if (!args.was_set(flag)) return;
    if (!valid) args.fail(std::string(flag) + " must be " + range);
    target = value;
  };
  take("--lr-g", c.lr_g, options.lr_g, c.lr_g > 0, "positive");
  take("--lr-d", c.lr_d, options.lr_d, c.lr_d > 0, "positive");
  take("--beta1", c.beta1, options.beta1, c.beta1 >= 0 && c.beta1 < 1, "in [0, 1)");
  take("--beta2", c.beta2, options.beta2, c.beta2 >= 0 && c.beta2 < 1, "in [0, 1)");
  take("--rms-alpha", c.rms_alpha, options.rms_alpha, c.rms_alpha >= 0 && c.rms_alpha < 1, "in [0, 1)");
  take("--batch", c.batch, options.batch, c.batch > 0, "positive");
  take("--steps", c.steps, options.steps, c.steps > 0, "positive");
  take("--size", c.size, options.size, c.size >= 16 && c.size <= 1024, "16..1024");
  take("--l1-weight", c.l1_weight, options.l1_weight, c.l1_weight >= 0, "0 or more");
  take("--real-label", c.real_label, options.real_label, c.real_label > 0 && c.real_label <= 1, "in (0, 1]");
  take("--critic-steps", c.critic_steps, options.critic_steps, c.critic_steps > 0, "positive");
  take("--gp-weight", c.gp_weight, options.gp_weight, c.gp_weight >= 0, "0 or more");
  take("--fc-hidden", c.fc_hidden, options.fc_hidden, c.fc_hidden > 0, "positive");
  options.seed = c.seed;
  options.device = c.device;
  options.amp = c.amp;
  options.ema = c.ema;
  options.lr_decay_from = c.lr_decay_from;
  return options;
}

DatasetOptions dataset_options_from(ArgParser& args, const TrainCli& c, int64_t size) {
  DatasetOptions data_options;
  data_options.size = size;
  data_options.keep_side = c.keep_side;
  data_options.video_every = std::max<int64_t>(1, c.video_every);
  data_options.threads = static_cast<int>(std::max<int64_t>(1, c.workers));
  data_options.balance_sources = c.balance_sources;
  if (!c.crop_scale.empty()) {
    if (std::sscanf(c.crop_scale.c_str(), "%lf,%lf", &data_options.min_crop, &data_options.max_crop) != 2 ||
        data_options.min_crop <= 0 || data_options.max_crop > 1 || data_options.min_crop > data_options.max_crop) {
      args.fail("--crop-scale must be MIN,MAX with 0 < MIN <= MAX <= 1");
    }
  }
  return data_options;
}

// Parses and checks the command line; exits with status 2 on misuse.
RunPlan plan_run(ArgParser& args, TrainCli& c, const std::vector<std::string>& cli) {
  RunPlan plan;
  plan.run_args = cli;
  if (!args.parse(cli).empty()) args.fail("unexpected positional argument");
  plan.resuming = !c.resume.empty();
  if (plan.resuming) {
    plan.run = c.resume;
    plan.run_args = merge_resumed_arguments(args, c, plan.run, cli);
  } else {
    if (c.out.empty()) args.fail("missing --out RUN (or --resume RUN)");
    if (c.data.empty()) args.fail("missing --data DIR");
    plan.run = c.out;
    if (fs::exists(plan.run / "checkpoint.pt")) args.fail("'" + c.out + "' already holds a run: use --resume " + c.out);
  }
  plan.options = train_options_from(args, c);
  if (c.checkpoint_every < 1 || c.sample_every < 1 || c.log_every < 1) {
    args.fail("the --*-every intervals must be positive");
  }
  plan.data_options = dataset_options_from(args, c, plan.options.size);
  return plan;
}

// Training and validation images, decoded once by worker threads; unreadable files are skipped.
struct RunData {
  ImageSet train, validation;
  int64_t warnings = 0;
};

RunData load_data(const TrainCli& c, const DatasetOptions& data_options) {
  RunData d;
  auto warn = [&](const std::string& message) {
    ++d.warnings;
    std::cerr << "warning: " << message << "\n";
  };
  const auto load_start = std::chrono::steady_clock::now();
  LoadSummary train_summary, val_summary;
  d.train = ImageSet::load(find_inputs(c.data), data_options, &train_summary, warn);
  if (!c.val_data.empty()) {
    d.validation = ImageSet::load(find_inputs(c.val_data), data_options, &val_summary, warn);
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
  return d;
}

// One session of a run: the training loop and what it writes as it goes.
class TrainingSession {
 public:
  TrainingSession(const TrainCli& c, const RunPlan& plan, Trainer& trainer, const RunData& data)
      : c_(c), plan_(plan), trainer_(trainer), data_(data), run_(plan.run),
        // Sample grids show 8 validation photos spread over the whole set (it is sorted by source).
        validation_(data.validation.split(std::min<int64_t>(8, data.validation.size()))
                        .second.centre_batch(0, std::min<int64_t>(8, data.validation.size()))),
        per_step_(plan.options.critic_steps),
        prefetch_([this](int64_t index) {
                    return data_.train.random_batch(plan_.options.batch, plan_.options.seed * 7919 + index);
                  },
                  trainer.step() * plan.options.critic_steps),
        terminal_(isatty(fileno(stderr))) {
    // Rows past the checkpoint were written by a run that was killed: they are trained again.
    log_ = read_log(run_ / "log.csv", trainer_.step());
    write_log(run_ / "log.csv", log_);
  }

  // Trains to --steps or until SIGINT/SIGTERM; returns the exit status.
  int run() {
    start_ = window_start_ = last_line_ = std::chrono::steady_clock::now();
    window_wait_ = prefetch_.waited_seconds();
    first_step_ = trainer_.step();
    while (trainer_.step() < plan_.options.steps && stop_signal == 0) {
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
    return stop_signal != 0 ? 130 : 0;
  }

 private:
  void after_step(const StepLosses& l) {
    sum_ = {sum_.d_loss + l.d_loss, sum_.g_loss + l.g_loss, sum_.g_adv + l.g_adv, sum_.g_l1 + l.g_l1};
    ++window_steps_;
    const int64_t step = trainer_.step();
    const auto now = std::chrono::steady_clock::now();
    if (step % c_.log_every == 0 || step == plan_.options.steps) log_window(step, now);
    const bool line_due = terminal_ || seconds(last_line_, now) >= 10 || step == plan_.options.steps;
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
                    n * plan_.options.batch * per_step_ / elapsed, elapsed > 0 ? wait / elapsed : 0});
    write_log(run_ / "log.csv", log_);  // as it goes: a killed run keeps its rows
    sum_ = {};
    window_steps_ = 0;
    window_start_ = now;
    window_wait_ = prefetch_.waited_seconds();
  }

  void progress_line(int64_t step, std::chrono::steady_clock::time_point now) {
    const double rate = (step - first_step_) / seconds(start_, now);
    const LogRow& r = log_.back();
    const int64_t steps = plan_.options.steps;
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
    for (const auto& d : c_.data) text << " " << d;
    text << "; steps " << trainer_.step() << "; config " << plan_.options.to_json();
    return text.str();
  }

  void checkpoint() {
    trainer_.save_checkpoint((run_ / "checkpoint.pt").string());
    // Every checkpoint's model stays, so a run's best step can be picked by validation afterwards.
    std::ostringstream name;
    name << "model_" << std::setw(6) << std::setfill('0') << trainer_.step() << ".cgan";
    trainer_.export_model((run_ / name.str()).string(), provenance());
    write_loss_plot(run_ / "loss.png", log_);
  }

  void samples() {
    std::ostringstream name;
    name << "samples_" << std::setw(6) << std::setfill('0') << trainer_.step() << ".png";
    write_samples(run_ / name.str(), trainer_, validation_);
  }

  void finish() {
    const double total = seconds(start_, std::chrono::steady_clock::now());
    trainer_.export_model((run_ / "model.cgan").string(), provenance());
    std::cerr << (stop_signal != 0 ? "interrupted: " : "done: ") << "step " << trainer_.step() << ", " << std::fixed
              << std::setprecision(1) << total << " s this session, data loading waited " << std::setprecision(2)
              << 100.0 * prefetch_.waited_seconds() / std::max(total, 1e-9) << "% of it; " << data_.warnings
              << " input(s) skipped\n"
              << "wrote " << (run_ / "model.cgan").string() << ", " << (run_ / "checkpoint.pt").string() << ", "
              << (run_ / "log.csv").string() << ", " << (run_ / "loss.png").string() << "\n";
  }

  const TrainCli& c_;
  const RunPlan& plan_;
  Trainer& trainer_;
  const RunData& data_;
  const fs::path run_;
  const at::Tensor validation_;
  const int64_t per_step_;
  BatchPrefetcher prefetch_;
  const bool terminal_;
  std::vector<LogRow> log_;
  std::chrono::steady_clock::time_point start_, window_start_, last_line_;
  double window_wait_ = 0;
  int64_t first_step_ = 0, window_steps_ = 0;
  StepLosses sum_;
};

}  // namespace

int main(int argc, char** argv) {
  ArgParser args("colorgan-train", "--data DIR... --out RUN [options] | --resume RUN [options]",
                 "Trains colorgan's conditional GAN (generator: luma + noise -> chroma) and writes a run\n"
                 "directory: config.json, args.txt, checkpoint.pt, log.csv, loss.png, samples_STEP.png and\n"
                 "model.cgan (the generator as a model file the plugin loads; model_STEP.cgan at each checkpoint). Ctrl-C writes a checkpoint.");
  TrainCli cli;
  declare_options(args, cli);
  const RunPlan plan = plan_run(args, cli, std::vector<std::string>(argv + 1, argv + argc));

  return args.run([&] {
    lock_run_directory(plan.run);
    set_thread_count(static_cast<int>(cli.threads));
    Trainer trainer(plan.options);  // validates the device before any data is read
    const RunData data = load_data(cli, plan.data_options);
    if (plan.resuming) {
      trainer.load_checkpoint((plan.run / "checkpoint.pt").string());
      std::cerr << "resumed " << plan.run.string() << " at step " << trainer.step() << "\n";
    }
    std::ostringstream saved_args;
    for (const auto& a : plan.run_args) saved_args << a << "\n";
    write_file_atomically(plan.run / "args.txt", saved_args.str());
    write_file_atomically(plan.run / "config.json", plan.options.to_json());

    TrainingSession session(cli, plan, trainer, data);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::cerr << "training: Ctrl-C (SIGINT) or SIGTERM stops with a checkpoint; --resume " << plan.run.string()
              << " goes on\n";
    return session.run();
  });
}
