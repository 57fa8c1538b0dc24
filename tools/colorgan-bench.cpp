// colorgan-bench: measures, in one run, the inference engine against a plain
// baseline, the GStreamer element chain against the engine, this machine's
// attainable GFLOP/s, training throughput and memory growth.
// Variants compared with each other are interleaved (A B A B ...) and their
// medians reported, so drift in the machine's speed hits both alike.
#include "cli.h"

#include "colorgan/default_model.h"
#include "colorgan/engine.h"
#include "colorgan/files.h"
#include "colorgan/model_file.h"
#include "colorgan/networks.h"
#include "colorgan/trainer.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#ifdef COLORGAN_HAVE_GST
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#endif

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace colorgan;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// Runs each variant `iterations` times per round, alternating variants, for
// `rounds` rounds; returns the median (or the fastest) seconds per iteration of each.
std::vector<double> interleaved(const std::vector<std::function<void()>>& variants, int rounds, int iterations,
                                bool fastest = false) {
  for (const auto& v : variants) v();  // warm-up
  std::vector<std::vector<double>> times(variants.size());
  for (int r = 0; r < rounds; ++r) {
    for (size_t k = 0; k < variants.size(); ++k) {
      for (int i = 0; i < iterations; ++i) {
        const auto t = Clock::now();
        variants[k]();
        times[k].push_back(seconds_since(t));
      }
    }
  }
  std::vector<double> figures;
  for (auto& t : times) figures.push_back(fastest ? *std::min_element(t.begin(), t.end()) : median(t));
  return figures;
}

// A memory figure from /proc/self/status in KiB: "VmRSS" (now) or "VmHWM" (peak).
long proc_status_kib(const std::string& field) {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  }
  return 0;
}

struct Report {
  std::vector<std::pair<std::string, double>> figures;
  void add(const std::string& name, double value, const std::string& shown) {
    figures.emplace_back(name, value);
    std::cout << "  " << std::left << std::setw(52) << name << shown << "\n";
  }
  void add(const std::string& name, double value, int precision, const std::string& unit) {
    std::ostringstream shown;
    shown << std::fixed << std::setprecision(precision) << value << " " << unit;
    add(name, value, shown.str());
  }
  // A figure added earlier in this run, if any.
  std::optional<double> find(const std::string& name) const {
    for (const auto& [n, value] : figures) {
      if (n == name) return value;
    }
    return std::nullopt;
  }
  void write_json(const std::string& path, const std::string& machine) const {
    nlohmann::ordered_json j;
    j["machine"] = machine;
    j["figures"] = nlohmann::ordered_json::object();
    for (const auto& [name, value] : figures) j["figures"][name] = value;
    write_file_atomically(path, j.dump(2) + "\n");
  }
};

// The Python anchors (tools/anchors, run with /usr/bin/python3 and Debian's
// python3-torch and python3-opencv): why they cannot run here, or "".
const std::string kAnchorsDir = COLORGAN_ANCHORS_DIR;
const char* kPython = "/usr/bin/python3";

std::string anchors_skip_reason() {
  if (!std::filesystem::exists(kAnchorsDir + "/pytorch_video_anchor.py")) return "no " + kAnchorsDir;
  const std::string check = std::string(kPython) + " -c 'import torch, cv2' > /dev/null 2>&1";
  if (std::system(check.c_str()) != 0) return std::string(kPython) + " cannot import torch and cv2 (python3-torch, python3-opencv)";
  return "";
}

// Runs an anchor script with these arguments (no shell) and returns the
// frames/s it prints; throws if it fails.
double run_anchor(std::vector<std::string> args) {
  args[0] = kAnchorsDir + "/" + args[0];
  args.insert(args.begin(), kPython);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  posix_spawn_file_actions_addclose(&actions, out[0]);
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, kPython, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  std::string text;
  char chunk[256];
  for (ssize_t got; (got = read(out[0], chunk, sizeof chunk)) > 0;) text.append(chunk, static_cast<size_t>(got));
  close(out[0]);
  int status = 0;
  if (spawned != 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    throw std::runtime_error("anchor failed: " + args[1]);
  }
  return std::stod(text);
}

#ifdef COLORGAN_HAVE_GST
// appsrc -> DESCRIPTION -> appsink, fed frames of one size (RGB or GRAY8).
class PipelineRunner {
 public:
  PipelineRunner(const std::string& description, int width, int height, const std::string& format = "RGB") {
    GError* error = nullptr;
    const std::string launch = "appsrc name=src format=time ! " + description + " ! appsink name=sink sync=false";
    pipeline_ = gst_parse_launch(launch.c_str(), &error);
    if (error != nullptr) throw std::runtime_error(std::string("pipeline: ") + error->message);
    src_ = gst_bin_get_by_name(GST_BIN(pipeline_), "src");
    sink_ = gst_bin_get_by_name(GST_BIN(pipeline_), "sink");
    GstCaps* caps = gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, format.c_str(), "width", G_TYPE_INT, width,
                                        "height", G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION, 30, 1, nullptr);
    g_object_set(src_, "caps", caps, "max-buffers", G_GUINT64_CONSTANT(4), "block", TRUE, nullptr);
    gst_caps_unref(caps);
    const int bytes_per_pixel = format == "GRAY8" ? 1 : 3;
    frame_ = gst_buffer_new_allocate(nullptr, static_cast<gsize>(((width * bytes_per_pixel + 3) / 4) * 4) * height,
                                     nullptr);
    GstMapInfo map;
    gst_buffer_map(frame_, &map, GST_MAP_WRITE);
    for (gsize i = 0; i < map.size; ++i) map.data[i] = static_cast<guint8>((i * 37) & 0xff);
    gst_buffer_unmap(frame_, &map);
    if (gst_element_set_state(pipeline_, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      throw std::runtime_error("pipeline failed to start: " + description);
    }
  }
  ~PipelineRunner() {
    gst_app_src_end_of_stream(GST_APP_SRC(src_));
    gst_element_set_state(pipeline_, GST_STATE_NULL);
    gst_buffer_unref(frame_);
    gst_object_unref(src_);
    gst_object_unref(sink_);
    gst_object_unref(pipeline_);
  }
  // Pushes n frames and pulls n results; a feeder thread keeps the chain busy.
  void run(int n) {
    std::thread feeder([&] {
      for (int i = 0; i < n; ++i) {
        GstBuffer* b = gst_buffer_copy(frame_);
        GST_BUFFER_PTS(b) = static_cast<GstClockTime>(pushed_++) * GST_SECOND / 30;
        gst_app_src_push_buffer(GST_APP_SRC(src_), b);
      }
    });
    for (int i = 0; i < n; ++i) {
      GstSample* sample = gst_app_sink_pull_sample(GST_APP_SINK(sink_));
      if (sample == nullptr) {
        feeder.join();
        throw std::runtime_error("pipeline stopped early");
      }
      gst_sample_unref(sample);
    }
    feeder.join();
  }

 private:
  GstElement *pipeline_, *src_, *sink_;
  GstBuffer* frame_;
  int64_t pushed_ = 0;
};
#endif

// The GPU figures tools/gpu-check.sh reports: CUDA vs CPU agreement,
// inference frames/s at several sizes and batches, training images/s.
void gpu_figures(Report& report, const std::string& model, const std::string& device, bool quick) {
  EngineOptions options;
  options.device = "cpu";
  InferenceEngine cpu(model, options);
  options.device = device;
  InferenceEngine gpu(model, options);
  auto y = torch::rand({2, 1, 64, 64});
  auto noise = torch::randn({2, 1, 64, 64});
  const double diff = (gpu.colorize(y, noise) - cpu.colorize(y, noise)).abs().max().item<double>();
  report.add("cuda_vs_cpu.max_abs_diff_uv", diff, 7, "");
  struct Case {
    int64_t h, w, batch;
  };
  for (const Case c : {Case{64, 64, 1}, Case{64, 64, 64}, Case{64, 64, 256}, Case{256, 256, 1}, Case{1080, 1920, 1}}) {
    // Host tensors in, host tensors out: the timing includes the uploads and downloads.
    auto frames = torch::rand({c.batch, 1, c.h, c.w});
    auto n = torch::randn({c.batch, 1, c.h, c.w});
    const auto t = interleaved({[&] { gpu.colorize(frames, n); }}, quick ? 3 : 7, 5);
    report.add("gpu." + std::to_string(c.w) + "x" + std::to_string(c.h) + "_b" + std::to_string(c.batch) + "_fps",
               c.batch / t[0], 1, "frames/s");
  }
  TrainOptions o = TrainOptions::preset("seed");
  o.device = device;
  Trainer trainer(o);
  std::vector<at::Tensor> batches{torch::rand({o.batch, 3, 64, 64})};
  trainer.train_step(batches);
  const auto t = interleaved({[&] { trainer.train_step(batches); }}, 1, quick ? 3 : 10);
  report.add("gpu.training_seed_b128_images_per_s", o.batch / t[0], 1, "images/s");
  report.add("gpu.training_seed_full_run_minutes", 5000.0 * t[0] / 60, 1, "minutes for 5000 steps x 128");
}

// What one bench run shares between its parts.
struct Bench {
  Report& report;
  std::string model, tiny;  // seed-preset and tiny model files
  int threads;              // LibTorch threads
  int rounds;
  bool quick;
};

// Peak: what this machine attains on large ops (the fastest of the runs), in GFLOP/s.
struct Peak {
  double fp32, bf16;
};
Peak peak_figures(const Bench& bench) {
  Report& report = bench.report;
  const int rounds = bench.rounds;
  c10::InferenceMode guard;
  auto x = torch::rand({1, 128, 128, 128}).contiguous(torch::MemoryFormat::ChannelsLast);
  auto w = torch::rand({128, 128, 5, 5}).contiguous(torch::MemoryFormat::ChannelsLast);
  auto a = torch::rand({2048, 2048}), b = torch::rand({2048, 2048});
  // Attainable: the fastest of the runs.
  auto x16 = x.to(at::kBFloat16), w16 = w.to(at::kBFloat16);
  const auto t = interleaved({[&] { torch::conv2d(x, w, {}, 1, 2); }, [&] { torch::mm(a, b); },
                              [&] { torch::conv2d(x16, w16, {}, 1, 2); }},
                             2 * rounds, 1, true);
  const double conv_flops = 2.0 * 128 * 128 * 25 * 128 * 128;  // the same conv in fp32 and bf16
  const double conv_gflops = conv_flops / t[0] / 1e9;
  const double mm_gflops = 2.0 * 2048 * 2048 * 2048 / t[1] / 1e9;
  const double bf16_gflops = conv_flops / t[2] / 1e9;
  std::cout << "peak\n";
  report.add("peak.conv2d_128x128x128_k5_gflops", conv_gflops, 1, "GFLOP/s");
  report.add("peak.matmul_2048_gflops", mm_gflops, 1, "GFLOP/s");
  report.add("peak.conv2d_bf16_128x128x128_k5_gflops", bf16_gflops, 1, "GFLOP/s (bfloat16)");
  return {std::max(conv_gflops, mm_gflops), bf16_gflops};
}

// The engine (folded BN, channels_last, InferenceMode; fp32 and bf16) against a plain eager baseline.
void engine_figures(const Bench& b, InferenceEngine& engine, Peak peak) {
  const double peak_gflops = peak.fp32;
  Report& report = b.report;
  const int rounds = b.rounds;
  const bool quick = b.quick;
  EngineOptions engine_options;
  engine_options.device = "cpu";
  engine_options.threads = b.threads;
  engine_options.precision = Precision::Bf16;
  InferenceEngine engine_bf16(b.model, engine_options);
  ModelFile plain = load_model(b.model);
  plain.generator->eval();
  std::cout << "\ninference (seed generator): engine (folded BN, channels_last, InferenceMode) vs baseline (eager NCHW, NoGradGuard)\n";
  for (auto [side, batch] : {std::pair{64, 1}, std::pair{64, 16}, std::pair{256, 1}, std::pair{256, 4}}) {
    const bool large = side * side * batch > 100000;
    if (quick && large) {
      std::cout << "  (256x256 batch 4: full run only)\n";  // 20 s of the quick run's 2 minutes
      continue;
    }
    auto y = torch::rand({batch, 1, side, side});
    auto noise = torch::randn({batch, 1, side, side});
    const int iterations = large ? 1 : (quick ? 5 : 20);
    const auto t = interleaved({[&] { engine.colorize(y, noise); },
                                [&] {
                                  torch::NoGradGuard no_grad;
                                  plain.generator->forward(y, noise);
                                },
                                [&] { engine_bf16.colorize(y, noise); }},
                               large ? 5 : rounds, iterations);
    const std::string key = std::to_string(side) + "x" + std::to_string(side) + "_b" + std::to_string(batch);
    const double gflops = engine.config().flops(side, side) * batch / t[0] / 1e9;
    report.add("raw." + key + "_ms", t[0] * 1e3, 2, "ms per batch");
    report.add("baseline." + key + "_ms", t[1] * 1e3, 2, "ms per batch");
    report.add("raw_vs_baseline." + key, t[1] / t[0], 2, "x");
    report.add("raw_bf16." + key + "_ms", t[2] * 1e3, 2, "ms per batch (precision=bf16)");
    report.add("raw_bf16_vs_baseline." + key, t[1] / t[2], 2, "x");
    report.add("raw." + key + "_gflops", gflops, 1, "GFLOP/s (" + std::to_string(static_cast<int>(100 * gflops / peak_gflops)) + "% of peak)");
    report.figures.emplace_back("raw." + key + "_share_of_peak", gflops / peak_gflops);
    const double bf16_gflops = engine.config().flops(side, side) * batch / t[2] / 1e9;
    report.add("raw_bf16." + key + "_gflops", bf16_gflops, 1,
               "GFLOP/s (" + std::to_string(static_cast<int>(100 * bf16_gflops / peak.bf16)) + "% of the bf16 conv peak)");
  }
  // Page faults after warm-up, all threads (keep_freed_memory(): ~3,000 per frame before it; what is left
  // depends on the CPU's oneDNN kernels, so it is a figure here and not a test).
  auto y = torch::rand({1, 1, 64, 64});
  rusage before{}, after{};
  getrusage(RUSAGE_SELF, &before);
  const int frames = 20;
  for (int i = 0; i < frames; ++i) engine.colorize(y);
  getrusage(RUSAGE_SELF, &after);
  report.add("raw.64x64_b1_page_faults_per_frame", static_cast<double>(after.ru_minflt - before.ru_minflt) / frames, 1,
             "page faults per frame after warm-up");

}

#ifdef COLORGAN_HAVE_GST
// The element chain and the bin against the engine on the same frames, batch 1.
void chain_figures(const Bench& b, InferenceEngine& engine) {
  Report& report = b.report;
  const int rounds = b.rounds;
  const bool quick = b.quick;
  std::cout << "\npipeline (appsrc RGB -> chain -> appsink) vs raw engine on the same frames, batch 1\n";
  // inference-size=native: the same work as the engine on the whole frame.
  const std::string props = " device=cpu precision=fp32 inference-size=native temporal-smoothing=0 num-threads=" +
                            std::to_string(b.threads) + " model=" + b.model;
  for (int side : {64, 256}) {
    PipelineRunner chain("cganrgb2yuv ! cgannoise ! cgancolorize" + props + " ! cganyuv2rgb", side, side);
    PipelineRunner bin("cgancolorizebin" + props, side, side);
    auto y = torch::rand({1, 1, side, side});
    auto noise = torch::randn({1, 1, side, side});
    const int frames = side == 64 ? (quick ? 20 : 60) : (quick ? 3 : 10);
    const auto engine_frames = [&] {
      for (int i = 0; i < frames; ++i) engine.colorize(y, noise);
    };
    // The chain's engine runs in a streaming thread, whose malloc arena and OpenMP team are not the main
    // thread's: the engine in a worker thread isolates what the glue costs (both are reported).
    const auto t = interleaved({engine_frames, [&] { std::thread(engine_frames).join(); },
                                [&] { chain.run(frames); }, [&] { bin.run(frames); }},
                               rounds, 1);
    const std::string key = std::to_string(side) + "x" + std::to_string(side);
    report.add("raw." + key + "_b1_fps", frames / t[0], 1, "frames/s (engine, main thread)");
    report.add("raw_in_thread." + key + "_b1_fps", frames / t[1], 1, "frames/s (engine, a worker thread)");
    report.add("pipeline." + key + "_fps", frames / t[2], 1, "frames/s");
    report.add("pipeline_bin." + key + "_fps", frames / t[3], 1, "frames/s");
    report.add("pipeline_vs_raw_in_thread." + key, t[1] / t[2], 3, "x");
    report.add("pipeline_bin_vs_raw_in_thread." + key, t[1] / t[3], 3, "x");
    report.add("pipeline_vs_raw." + key, t[0] / t[2], 3, "x");
    report.add("pipeline_bin_vs_raw." + key, t[0] / t[3], 3, "x");
  }
}

// HD end to end as a user runs it: GRAY8 in, RGBx out, cgancolorizebin with
// every default (the default model, precision=auto, num-threads=0), beside
// what a Python user would write (tools/anchors) in the same run.
void hd_figures(const Bench& b) {
  Report& report = b.report;
  const std::string precision = to_string(resolve_precision(Precision::Auto, c10::Device(c10::kCPU)));
  std::cout << "\nHD end to end (appsrc GRAY8 -> cgancolorizebin, defaults -> RGBx -> appsink; precision auto = "
            << precision << " where the model allows it: GeneratorConfig::bf16_by_default) and the Python anchors\n";
  const std::string skip = anchors_skip_reason();
  if (!skip.empty()) std::cout << "  Python anchors: skipped: " << skip << "\n";
  for (auto [width, height] : {std::pair{1280, 720}, std::pair{1920, 1080}}) {
    PipelineRunner bin("cgancolorizebin ! video/x-raw,format=RGBx", width, height, "GRAY8");
    const int frames = b.quick ? 40 : 90;  // 15 frames (0.2 s) varied by 25% from run to run
    bin.run(5);  // warm-up
    const auto t = Clock::now();
    bin.run(frames);
    const double fps = frames / seconds_since(t);
    const std::string key = std::to_string(height) + "p";
    report.add("hd.bin_" + key + "_fps", fps, 1, "frames/s (cgancolorizebin, defaults)");
    if (!skip.empty()) continue;
    const double anchor = run_anchor({"pytorch_video_anchor.py", std::to_string(frames), std::to_string(width),
                                      std::to_string(height), std::to_string(b.threads), precision});
    report.add("hd.python_anchor_" + key + "_fps", anchor, 1, "frames/s (pytorch_video_anchor.py, " + precision + ")");
    report.add("hd.bin_vs_python_anchor_" + key, fps / anchor, 2, "x");
  }
  // The default model against the earlier ones beside it (models/seed.cgan: the seed generator's;
  // models/encoder-decoder.cgan: the encoder-decoder; models/pretrained-encoder.cgan: the same
  // layers as the default with a U,V head), 720p, interleaved runs.
  const std::filesystem::path models = std::filesystem::path(default_model_path()).parent_path();
  for (const std::string other : {"seed", "encoder-decoder", "pretrained-encoder"}) {
    const std::filesystem::path path = models / (other + ".cgan");
    if (!std::filesystem::exists(path)) continue;
    PipelineRunner with_default("cgancolorizebin ! video/x-raw,format=RGBx", 1280, 720, "GRAY8");
    PipelineRunner with_other("cgancolorizebin model=\"" + path.string() + "\" ! video/x-raw,format=RGBx", 1280, 720,
                              "GRAY8");
    const int frames = b.quick ? 15 : 40;
    const auto t = interleaved({[&] { with_default.run(frames); }, [&] { with_other.run(frames); }}, b.rounds, 1);
    std::string key = other;
    std::replace(key.begin(), key.end(), '-', '_');
    report.add("hd.bin_720p_default_model_fps_beside_" + key, frames / t[0], 1, "frames/s (default model)");
    report.add("hd.bin_720p_" + key + "_model_fps", frames / t[1], 1, "frames/s (models/" + other + ".cgan)");
    report.add("hd.default_vs_" + key + "_model_720p", t[1] / t[0], 2, "x");
  }
  if (!skip.empty()) return;
  const int n = b.quick ? 50 : 300;
  for (const std::string mode : {"tuned", "bf16"}) {
    if (mode == "bf16" && !cpu_has_native_bf16()) continue;
    const double anchor_fps =
        run_anchor({"pytorch_anchor.py", mode, std::to_string(n), "64", "64", std::to_string(b.threads)});
    report.add("anchor.pytorch_64x64_b1_" + mode + "_fps", anchor_fps, 1, "frames/s (pytorch_anchor.py " + mode + ")");
    // The engine's own row from this run, in the anchor's mode (its tuned fp32 against raw.*).
    if (const auto engine_ms = report.find((mode == "bf16" ? "raw_bf16" : "raw") + std::string(".64x64_b1_ms"))) {
      report.add("anchor.engine_vs_pytorch_64x64_b1_" + mode, 1e3 / *engine_ms / anchor_fps, 2, "x");
    }
  }
}

// batch-size on a file-like (non-live) source at the default inference size.
void batch_figures(const Bench& b) {
  Report& report = b.report;
  const bool quick = b.quick;
  std::cout << "\nbatch-size (chain, 320x240 frames, the model's default inference size)\n";
  std::vector<std::unique_ptr<PipelineRunner>> chains;
  std::vector<std::function<void()>> runs;
  const int frames = quick ? 16 : 48;
  const int batches[] = {1, 4, 8};
  for (int batch : batches) {
    chains.push_back(std::make_unique<PipelineRunner>(
        "cganrgb2yuv ! cgancolorize device=cpu batch-size=" + std::to_string(batch) +
            " num-threads=" + std::to_string(b.threads) + " model=" + b.model + " ! cganyuv2rgb",
        320, 240));
    PipelineRunner* chain = chains.back().get();
    runs.push_back([chain, frames] { chain->run(frames); });
  }
  const auto t = interleaved(runs, b.rounds, 1);
  for (size_t i = 0; i < t.size(); ++i) {
    report.add("batch.320x240_b" + std::to_string(batches[i]) + "_fps", frames / t[i], 1, "frames/s");
  }
  report.add("batch.b8_vs_b1", t[0] / t[2], 3, "x");
}

// RSS growth over many frames (a tiny model, so 10,000 frames are quick).
void memory_figures(const Bench& b) {
  Report& report = b.report;
  const bool quick = b.quick;
  std::cout << "\nmemory (chain with a tiny model, 64x64)\n";
  PipelineRunner leak("cganrgb2yuv ! cgannoise mode=per-frame ! cgancolorize device=cpu model=" + b.tiny +
                          " ! cganyuv2rgb",
                      64, 64);
  const int first = quick ? 300 : 1000, total = quick ? 3000 : 10000;
  leak.run(first);
  const long after_first = proc_status_kib("VmRSS");
  leak.run(total - first);
  const long after_total = proc_status_kib("VmRSS");
  report.add("memory.rss_after_" + std::to_string(first) + "_frames_mib", after_first / 1024.0, 1, "MiB");
  report.add("memory.rss_after_" + std::to_string(total) + "_frames_mib", after_total / 1024.0, 1, "MiB");
  report.add("memory.rss_growth", static_cast<double>(after_total) / after_first - 1.0, 2, "(fraction)");
}

void pipeline_figures(const Bench& b, InferenceEngine& engine) {
  if (gst_element_factory_find("cgancolorize") == nullptr) {
    std::cout << "\npipeline: the colorgan plugin is not found (set GST_PLUGIN_PATH=build/plugins): skipped\n";
    return;
  }
  chain_figures(b, engine);
  hd_figures(b);
  batch_figures(b);
  memory_figures(b);
}
#endif

// Training: one G+D step at the seed config, images/s.
void training_figures(const Bench& b) {
  Report& report = b.report;
  const bool quick = b.quick;
  std::cout << "\ntraining (seed config: seed generator, discriminator, cross-entropy, RMSprop; random batches)\n";
  for (int64_t batch : {int64_t{16}, int64_t{128}}) {
    TrainOptions o = TrainOptions::preset("seed");
    o.batch = batch;
    o.device = "cpu";
    Trainer trainer(o);
    std::vector<at::Tensor> batches{torch::rand({batch, 3, 64, 64})};
    const int steps = quick ? 1 : 3;
    trainer.train_step(batches);  // warm-up
    std::vector<double> times;
    for (int i = 0; i < steps; ++i) {
      const auto t = Clock::now();
      trainer.train_step(batches);
      times.push_back(seconds_since(t));
    }
    const double images_per_s = batch / median(times);
    report.add("training.seed_b" + std::to_string(batch) + "_images_per_s", images_per_s, 1, "images/s");
    if (batch == 128) {
      report.add("training.seed_full_run_hours", 5000.0 * 128 / images_per_s / 3600, 1,
                 "hours for 5000 steps x 128 (seed preset)");
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  int64_t threads = 0;
  std::string json = "bench.json", device = "cpu";
  CLI::App app("Measures inference (engine vs plain baseline), the element chain vs the engine, attainable\n"
               "GFLOP/s, training images/s and memory growth; prints a table and writes a JSON file.",
               "colorgan-bench");
  cli::configure(app, "[--quick] [--threads N] [--json FILE] [--device D]");
  app.add_flag("--quick", quick, "a short run (under 2 minutes on 2 cores)");
  app.add_option("--threads", threads, "LibTorch threads (0: the cores available to the process)")->check(CLI::Range(0, 1024));
  app.add_option("--json", json, "where to write the figures")->type_name("FILE");
  app.add_option("--device", device, "cpu (the full CPU suite) or cuda[:N] (the GPU figures of tools/gpu-check.sh)");
  cli::parse(app, argc, argv);

  const auto start = Clock::now();
  set_thread_count(static_cast<int>(threads));
  const int nthreads = at::get_num_threads();
  const std::string dir = (std::filesystem::temp_directory_path() / ("colorgan-bench-" + std::to_string(getpid()))).string();
  std::filesystem::create_directories(dir);
  const std::string model = dir + "/seed.cgan", tiny = dir + "/tiny.cgan";
  torch::manual_seed(0);
  {
    Generator seed_generator;
    save_model(model, seed_generator, {});
    Generator tiny_generator(GeneratorConfig::preset("tiny"));
    save_model(tiny, tiny_generator, {});
  }
  std::ostringstream machine;
  machine << available_cores() << " cores, LibTorch " << nthreads << " threads";
  std::cout << "colorgan-bench" << (quick ? " --quick" : "") << ": " << machine.str() << "\n\n";
  Report report;
  const Bench bench{report, model, tiny, nthreads, quick ? 3 : 7, quick};
  if (device != "cpu") {
    try {
      resolve_device(device);
    } catch (const DeviceError& e) {
      std::cerr << "colorgan-bench: " << e.what() << "\n";
      return 1;
    }
    gpu_figures(report, model, device, quick);
    std::filesystem::remove_all(dir);
    report.write_json(json, machine.str() + ", " + device);
    std::cout << "\nwrote " << json << "\n";
    return 0;
  }

  const Peak peak = peak_figures(bench);
  EngineOptions engine_options;
  engine_options.device = "cpu";
  engine_options.threads = static_cast<int>(threads);
  engine_options.precision = Precision::Fp32;  // the raw.* rows; raw_bf16.* beside them (auto picks one of the two)
  InferenceEngine engine(model, engine_options);
  engine_figures(bench, engine, peak);
#ifdef COLORGAN_HAVE_GST
  gst_init(&argc, &argv);
  pipeline_figures(bench, engine);
#else
  std::cout << "\npipeline and memory: built without GStreamer: skipped\n";
#endif
  training_figures(bench);
  report.add("memory.peak_rss_mib", proc_status_kib("VmHWM") / 1024.0, 1, "MiB");
  std::filesystem::remove_all(dir);
  report.write_json(json, machine.str());
  std::cout << "\nwrote " << json << " (" << std::fixed << std::setprecision(0) << seconds_since(start) << " s)\n";
  return 0;
}
