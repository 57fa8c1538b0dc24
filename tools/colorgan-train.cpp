// colorgan-train: trains the conditional GAN on folders of photos, videos or
// LSUN LMDB exports, with checkpoints, resume, progress, logs and samples.
#include "cli.h"
#include "report_files.h"

#include "colorgan/colorspace.h"
#include "colorgan/dataset.h"
#include "colorgan/engine.h"
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

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> data, val_data;
  std::string out, resume, preset = "default", generator, loss, optimizer, noise, device = "auto", crop_scale;
  int64_t batch = 0, steps = 0, size = 0, critic_steps = 0, fc_hidden = 0, threads = 0, workers = 2, lr_decay_from = 0;
  int64_t checkpoint_every = 250, sample_every = 250, log_every = 10, val_count = 8, keep_side = 0, video_every = 30;
  double lr_g = 0, lr_d = 0, beta1 = 0, beta2 = 0, rms_alpha = 0, l1_weight = -1, real_label = 0, gp_weight = 0, ema = 0;
  uint64_t seed = 0;
  bool amp = false, balance_sources = false;

  ArgParser args("colorgan-train", "--data DIR... --out RUN [options] | --resume RUN [options]",
                 "Trains colorgan's conditional GAN (generator: luma + noise -> chroma) and writes a run\n"
                 "directory: config.json, args.txt, checkpoint.pt, log.csv, loss.png, samples_STEP.png and\n"
                 "model.cgan (the generator as a model file the plugin loads; model_STEP.cgan at each checkpoint). Ctrl-C writes a checkpoint.");
  args.option("--data", &data, "training images: folders (searched recursively), videos, LSUN LMDB folders");
  args.option("--val-data", &val_data, "validation images (default: hold out --val-count training images)");
  args.option("--val-count", &val_count, "whole images held out for validation when no --val-data (default 8)");
  args.option("--out", &out, "run directory to create");
  args.option("--resume", &resume, "continue the run in this directory from its checkpoint");
  args.option("--preset", &preset, "default | seed (the seed paper: gan loss, rmsprop 0.01, decay 0.9, batch 128, 5000 steps)");
  args.option("--generator", &generator, "generator layers: seed | public-code | tiny (default seed)");
  args.option("--loss", &loss, "gan (cross-entropy on logits) | wgan-gp");
  args.option("--optimizer", &optimizer, "adam | rmsprop");
  args.option("--lr-g", &lr_g, "generator learning rate");
  args.option("--lr-d", &lr_d, "discriminator learning rate");
  args.option("--beta1", &beta1, "Adam beta1");
  args.option("--beta2", &beta2, "Adam beta2");
  args.option("--rms-alpha", &rms_alpha, "RMSprop decay of the squared-gradient average");
  args.option("--batch", &batch, "images per batch");
  args.option("--steps", &steps, "generator updates to train to (with --resume: the new total)");
  args.option("--size", &size, "side of the square training crops");
  args.option("--l1-weight", &l1_weight, "weight of the L1 loss on U,V (0 = adversarial only)");
  args.option("--real-label", &real_label, "cross-entropy target for real images (1 = no smoothing)");
  args.option("--critic-steps", &critic_steps, "discriminator updates per generator update (WGAN: 5)");
  args.option("--gp-weight", &gp_weight, "WGAN-GP gradient penalty weight");
  args.option("--fc-hidden", &fc_hidden, "discriminator's hidden fully connected width");
  args.option("--noise", &noise, "gaussian | uniform");
  args.option("--seed", &seed, "seed for every random choice (weights, batches, noise)");
  args.option("--crop-scale", &crop_scale, "MIN,MAX: random-scale crops, side as a fraction of the short side");
  args.flag("--balance-sources", &balance_sources,
            "draw each crop's folder uniformly, then a photo in it (so no folder dominates)");
  args.option("--keep-side", &keep_side, "images are kept in memory shrunk to this short side (default 4 x size)");
  args.option("--video-every", &video_every, "take every Nth frame of videos (default 30)");
  args.option("--device", &device, "auto | cpu | cuda | cuda:N");
  args.option("--ema", &ema, "export a moving average of the generator's weights with this decay, e.g. 0.999 (0 = off)");
  args.option("--lr-decay-from", &lr_decay_from, "from this step, lower the learning rates linearly to 0 at --steps");
  args.flag("--amp", &amp, "mixed precision: bf16 autocast for the forward passes");
  args.option("--threads", &threads, "LibTorch CPU threads (default: all cores available)");
  args.option("--workers", &workers, "image decoding threads (default 2)");
  args.option("--checkpoint-every", &checkpoint_every, "steps between checkpoints (default 250)");
  args.option("--sample-every", &sample_every, "steps between sample grids (default 250)");
  args.option("--log-every", &log_every, "steps between log rows (default 10)");

  std::vector<std::string> cli(argv + 1, argv + argc);
  std::vector<std::string> run_args = cli;  // what args.txt will hold
  if (!args.parse(cli).empty()) args.fail("unexpected positional argument");
  const bool resuming = !resume.empty();
  fs::path run;
  if (resuming) {
    run = resume;
    if (!fs::exists(run / "args.txt") || !fs::exists(run / "checkpoint.pt")) {
      args.fail("'" + resume + "' is not a run directory with a checkpoint (args.txt, checkpoint.pt)");
    }
    // The saved arguments first, then today's on top (e.g. a larger --steps).
    // args.txt keeps both, so a later --resume repeats today's changes too.
    std::vector<std::string> saved;
    std::ifstream in(run / "args.txt");
    for (std::string line; std::getline(in, line);) saved.push_back(line);
    data.clear();
    val_data.clear();
    args.parse(saved);
    // The checkpoint's layers follow from these: refuse a change before anything is written.
    const auto trained = std::make_tuple(size, generator, fc_hidden, loss);
    args.parse(cli);
    if (std::make_tuple(size, generator, fc_hidden, loss) != trained) {
      args.fail("--size, --generator, --fc-hidden and --loss cannot change on --resume: the checkpoint's layers "
                "were made for the run's own (see " + (run / "args.txt").string() + ")");
    }
    resume = run.string();
    for (size_t i = 0; i < cli.size(); ++i) {
      if (cli[i] == "--resume") {
        ++i;
      } else if (cli[i].rfind("--resume=", 0) != 0) {
        saved.push_back(cli[i]);
      }
    }
    run_args = saved;
  } else {
    if (out.empty()) args.fail("missing --out RUN (or --resume RUN)");
    if (data.empty()) args.fail("missing --data DIR");
    run = out;
    if (fs::exists(run / "checkpoint.pt")) args.fail("'" + out + "' already holds a run: use --resume " + out);
  }

  TrainOptions options;
  try {
    options = TrainOptions::preset(preset);
    if (!generator.empty()) options.generator_preset = generator;
    if (!loss.empty()) options.loss = parse_gan_loss(loss);
    if (!optimizer.empty()) options.optimizer = parse_optimizer(optimizer);
    if (!noise.empty()) options.noise = parse_noise_distribution(noise);
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
  take("--lr-g", lr_g, options.lr_g, lr_g > 0, "positive");
  take("--lr-d", lr_d, options.lr_d, lr_d > 0, "positive");
  take("--beta1", beta1, options.beta1, beta1 >= 0 && beta1 < 1, "in [0, 1)");
  take("--beta2", beta2, options.beta2, beta2 >= 0 && beta2 < 1, "in [0, 1)");
  take("--rms-alpha", rms_alpha, options.rms_alpha, rms_alpha >= 0 && rms_alpha < 1, "in [0, 1)");
  take("--batch", batch, options.batch, batch > 0, "positive");
  take("--steps", steps, options.steps, steps > 0, "positive");
  take("--size", size, options.size, size >= 16 && size <= 1024, "16..1024");
  take("--l1-weight", l1_weight, options.l1_weight, l1_weight >= 0, "0 or more");
  take("--real-label", real_label, options.real_label, real_label > 0 && real_label <= 1, "in (0, 1]");
  take("--critic-steps", critic_steps, options.critic_steps, critic_steps > 0, "positive");
  take("--gp-weight", gp_weight, options.gp_weight, gp_weight >= 0, "0 or more");
  take("--fc-hidden", fc_hidden, options.fc_hidden, fc_hidden > 0, "positive");
  options.seed = seed;
  options.device = device;
  options.amp = amp;
  options.ema = ema;
  options.lr_decay_from = lr_decay_from;
  if (checkpoint_every < 1 || sample_every < 1 || log_every < 1) args.fail("the --*-every intervals must be positive");

  DatasetOptions data_options;
  data_options.size = options.size;
  data_options.keep_side = keep_side;
  data_options.video_every = std::max<int64_t>(1, video_every);
  data_options.threads = static_cast<int>(std::max<int64_t>(1, workers));
  data_options.balance_sources = balance_sources;
  if (!crop_scale.empty()) {
    if (std::sscanf(crop_scale.c_str(), "%lf,%lf", &data_options.min_crop, &data_options.max_crop) != 2 ||
        data_options.min_crop <= 0 || data_options.max_crop > 1 || data_options.min_crop > data_options.max_crop) {
      args.fail("--crop-scale must be MIN,MAX with 0 < MIN <= MAX <= 1");
    }
  }

  return args.run([&] {
    lock_run_directory(run);
    set_thread_count(static_cast<int>(threads));
    Trainer trainer(options);  // validates the device before any data is read

    // Data: decoded once by worker threads; unreadable files are skipped.
    int64_t warnings = 0;
    auto warn = [&](const std::string& message) {
      ++warnings;
      std::cerr << "warning: " << message << "\n";
    };
    const auto load_start = std::chrono::steady_clock::now();
    LoadSummary train_summary, val_summary;
    ImageSet train_set = ImageSet::load(find_inputs(data), data_options, &train_summary, warn);
    ImageSet val_set;
    if (!val_data.empty()) {
      val_set = ImageSet::load(find_inputs(val_data), data_options, &val_summary, warn);
      if (val_set.size() == 0) throw std::invalid_argument("no readable validation images in the --val-data paths");
    } else {
      std::tie(train_set, val_set) = train_set.split(std::min<int64_t>(val_count, train_set.size() / 2));
    }
    const double load_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
    std::cerr << "data: " << train_set.size() << " training images in " << train_set.source_count() << " folders and "
              << val_set.size() << " validation images from " << train_summary.sources + val_summary.sources << " inputs, "
              << train_summary.skipped + val_summary.skipped << " skipped, decoded in " << std::fixed
              << std::setprecision(1) << load_seconds << " s\n";
    if (train_set.size() == 0) {
      std::cerr << "colorgan-train: no readable training images in the --data paths\n";
      return 2;
    }
    if (val_set.size() == 0) val_set = train_set;

    if (resuming) {
      trainer.load_checkpoint((run / "checkpoint.pt").string());
      std::cerr << "resumed " << run.string() << " at step " << trainer.step() << "\n";
    }
    std::ostringstream saved_args;
    for (const auto& a : run_args) saved_args << a << "\n";
    write_file_atomically(run / "args.txt", saved_args.str());
    write_file_atomically(run / "config.json", options.to_json());
    // Rows past the checkpoint were written by a run that was killed: they are trained again.
    std::vector<LogRow> log = read_log(run / "log.csv", trainer.step());
    write_log(run / "log.csv", log);

    // Sample grids show 8 validation photos spread over the whole set (it is sorted by source).
    const int64_t shown = std::min<int64_t>(8, val_set.size());
    const at::Tensor validation = val_set.split(shown).second.centre_batch(0, shown);
    const int64_t per_step = options.critic_steps;
    BatchPrefetcher prefetch(
        [&](int64_t index) { return train_set.random_batch(options.batch, options.seed * 7919 + index); },
        trainer.step() * per_step);

    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::cerr << "training: Ctrl-C (SIGINT) or SIGTERM stops with a checkpoint; --resume " << run.string()
              << " goes on\n";
    const bool terminal = isatty(fileno(stderr));
    auto provenance = [&] {
      std::time_t now = std::time(nullptr);
      char date[32];
      std::strftime(date, sizeof date, "%Y-%m-%d", std::gmtime(&now));
      std::ostringstream text;
      text << "colorgan-train " << date << "; data: " << train_set.size() << " images from";
      for (const auto& d : data) text << " " << d;
      text << "; steps " << trainer.step() << "; config " << options.to_json();
      return text.str();
    };
    auto checkpoint = [&] {
      trainer.save_checkpoint((run / "checkpoint.pt").string());
      // Every checkpoint's model stays, so a run's best step can be picked by validation afterwards.
      std::ostringstream name;
      name << "model_" << std::setw(6) << std::setfill('0') << trainer.step() << ".cgan";
      trainer.export_model((run / name.str()).string(), provenance());
      write_loss_plot(run / "loss.png", log);
    };
    auto samples = [&] {
      std::ostringstream name;
      name << "samples_" << std::setw(6) << std::setfill('0') << trainer.step() << ".png";
      write_samples(run / name.str(), trainer, validation);
    };

    const auto start = std::chrono::steady_clock::now();
    auto window_start = start;
    double window_wait = prefetch.waited_seconds();
    const int64_t first_step = trainer.step();
    int64_t window_steps = 0;
    StepLosses sum;
    auto last_line = start;
    while (trainer.step() < options.steps && stop_signal == 0) {
      std::vector<at::Tensor> batches;
      for (int64_t k = 0; k < per_step; ++k) batches.push_back(prefetch.next());
      const StepLosses l = trainer.train_step(batches);
      sum.d_loss += l.d_loss;
      sum.g_loss += l.g_loss;
      sum.g_adv += l.g_adv;
      sum.g_l1 += l.g_l1;
      ++window_steps;
      const int64_t step = trainer.step();
      if (!std::isfinite(l.d_loss) || !std::isfinite(l.g_loss)) {
        std::cerr << "\ncolorgan-train: loss is not finite at step " << step << " (D " << l.d_loss << ", G "
                  << l.g_loss << "): lower the learning rate\n";
        return 1;
      }
      const auto now = std::chrono::steady_clock::now();
      if (step % log_every == 0 || step == options.steps) {
        const double seconds = std::chrono::duration<double>(now - window_start).count();
        const double wait = prefetch.waited_seconds() - window_wait;
        const double n = static_cast<double>(window_steps);
        log.push_back({step, sum.d_loss / n, sum.g_loss / n, sum.g_adv / n, sum.g_l1 / n,
                       n * options.batch * per_step / seconds, seconds > 0 ? wait / seconds : 0});
        write_log(run / "log.csv", log);  // as it goes: a killed run keeps its rows
        sum = {};
        window_steps = 0;
        window_start = now;
        window_wait = prefetch.waited_seconds();
      }
      const double elapsed = std::chrono::duration<double>(now - start).count();
      const double rate = (step - first_step) / elapsed;
      const bool line_due = terminal || std::chrono::duration<double>(now - last_line).count() >= 10 ||
                            step == options.steps;
      if (line_due && !log.empty()) {
        const LogRow& r = log.back();
        std::ostringstream line;
        const int width = 20, filled = static_cast<int>(width * step / options.steps);
        line << "step " << step << "/" << options.steps << " [" << std::string(filled, '#')
             << std::string(width - filled, '-') << "] " << std::fixed << std::setprecision(1) << r.images_per_s
             << " img/s  D " << std::setprecision(3) << r.d_loss << "  G " << r.g_loss << "  ETA "
             << format_duration((options.steps - step) / std::max(rate, 1e-9));
        if (terminal) {
          std::cerr << "\r" << line.str() << "\033[K" << std::flush;
        } else {
          std::cerr << line.str() << "\n";
        }
        last_line = now;
      }
      if (step % checkpoint_every == 0) checkpoint();
      if (step % sample_every == 0) samples();
    }
    if (terminal) std::cerr << "\n";
    checkpoint();
    samples();

    const double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    trainer.export_model((run / "model.cgan").string(), provenance());

    std::cerr << (stop_signal != 0 ? "interrupted: " : "done: ") << "step " << trainer.step() << ", "
              << std::fixed << std::setprecision(1) << total << " s this session, data loading waited "
              << std::setprecision(2) << 100.0 * prefetch.waited_seconds() / std::max(total, 1e-9)
              << "% of it; " << warnings << " input(s) skipped\n"
              << "wrote " << (run / "model.cgan").string() << ", " << (run / "checkpoint.pt").string() << ", "
              << (run / "log.csv").string() << ", " << (run / "loss.png").string() << "\n";
    return stop_signal != 0 ? 130 : 0;
  });
}
