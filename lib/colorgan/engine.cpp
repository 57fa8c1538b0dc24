#include "colorgan/engine.h"

#include <ATen/Parallel.h>
#include <c10/core/InferenceMode.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/cuda.h>

#include <dlfcn.h>
#include <malloc.h>
#include <sched.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <thread>

namespace colorgan {

c10::Device resolve_device(const std::string& name) {
  if (name == "cpu") return c10::Device(c10::kCPU);
  if (name == "auto") return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  if (name.rfind("cuda", 0) != 0) {
    throw DeviceError("unknown device '" + name + "' (expected auto, cpu, cuda or cuda:N)");
  }
  c10::Device device(c10::kCPU);
  try {
    device = c10::Device(name == "cuda" ? std::string("cuda:0") : name);
  } catch (const std::exception&) {
    throw DeviceError("unknown device '" + name + "' (expected auto, cpu, cuda or cuda:N)");
  }
  if (!torch::cuda::is_available()) {
    throw DeviceError("device '" + name + "' requested but CUDA is not available (" +
                      "this LibTorch has no CUDA support or no GPU is visible)");
  }
  const auto count = static_cast<int64_t>(torch::cuda::device_count());
  if (device.index() >= count) {
    throw DeviceError("device '" + name + "' requested but only " + std::to_string(count) + " CUDA device(s) exist");
  }
  return device;
}

int available_cores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return CPU_COUNT(&set);
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

bool keep_freed_memory() {
#ifdef __GLIBC__
  static const bool applied = [] {
    const char* tunables = std::getenv("GLIBC_TUNABLES");
    if ((tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr) ||
        std::getenv("MALLOC_TRIM_THRESHOLD_") != nullptr || std::getenv("MALLOC_MMAP_THRESHOLD_") != nullptr) {
      return false;  // the user's malloc settings win
    }
    // Activations up to 32 MB (glibc's maximum on 64-bit) come from the heap and stay there for the next frame.
    return mallopt(M_MMAP_THRESHOLD, 32 << 20) == 1 && mallopt(M_TRIM_THRESHOLD, 256 << 20) == 1;
  }();
  return applied;
#else
  return false;
#endif
}

bool keep_all_freed_memory() {
#ifdef __GLIBC__
  static const bool applied = keep_freed_memory() && mallopt(M_MMAP_MAX, 0) == 1;
  return applied;
#else
  return false;
#endif
}

void set_thread_count(int threads) {
  // More threads than cores only make OpenMP's threads wait for each other (1,000 ran 45x slower).
  const int cores = available_cores();
  at::set_num_threads(threads > 0 ? std::min(threads, cores) : cores);
  // Debian's LibTorch does its matmuls in OpenBLAS, whose own thread pool spins after each call
  // beside OpenMP's: forward passes of the pretrained-encoder model at 64x114 took 20 ms at 2
  // threads against 8 with OpenBLAS on one (its GEMMs here are small: the context layer).
  using SetThreads = void (*)(int);
  if (auto set_blas_threads = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))) {
    set_blas_threads(1);
  }
}

namespace {

// TorchScript files (zip archives) begin "PK\3\4"; colorgan's own model files "CGANMODL".
bool is_torchscript_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  char magic[4] = {};
  return file.read(magic, 4) && std::memcmp(magic, "PK\x03\x04", 4) == 0;
}

// A generator written in TorchScript, by `colorgan-model export` or by Python
// (docs/INTEROP.md): forward(y [N,1,H,W], noise [N,1,H,W]) -> uv [N,2,H,W].
// It carries no metadata: its working size is kTorchScriptTrainingSide unless
// the user sets one, its noise Gaussian planes.
constexpr int64_t kTorchScriptTrainingSide = 256;

torch::jit::Module load_torchscript(const std::string& path, c10::Device device) {
  check_model_file_readable(path);  // exists, a file, within colorgan's own bound on model files
  try {
    torch::jit::Module module = torch::jit::load(path, device);
    module.eval();
    return module;
  } catch (const std::exception& e) {
    throw ModelFileError(path + ": not a TorchScript module LibTorch can load: " + first_line(e.what()));
  }
}

}  // namespace

struct InferenceEngine::Impl {
  ModelMetadata metadata;
  GeneratorConfig config;
  std::optional<FoldedGenerator> folded;    // a colorgan model: batch norm folded into the convs, channels_last
  std::optional<torch::jit::Module> script; // or a TorchScript generator
  std::string path;
  c10::Device device{c10::kCPU};
  Precision precision = Precision::Fp32;
  NoiseSource noise;
  at::Tensor staging_in, staging_noise;  // pinned host buffers for uploads to a GPU, reused while shapes hold
  Impl(const std::string& model_path, c10::Device d, uint64_t seed) : path(model_path), device(d), noise(seed) {
    if (is_torchscript_file(model_path)) {
      script = load_torchscript(model_path, d);
      metadata.training_width = metadata.training_height = kTorchScriptTrainingSide;
      metadata.provenance = "TorchScript module " + model_path;
    } else {
      ModelFile model = load_model(model_path);
      model.generator->eval();
      folded.emplace(*model.generator);
      metadata = model.metadata;
      config = model.generator->config();
    }
    noise = NoiseSource(seed, metadata.noise_distribution);
  }

  at::Tensor forward(const at::Tensor& y, const at::Tensor& n) {
    if (folded) return folded->forward(y, n);
    at::Tensor uv;
    try {
      uv = script->forward({y, n}).toTensor();
    } catch (const std::exception& e) {
      throw ModelFileError(path + ": its forward(y, noise) failed: " + first_line(e.what()));
    }
    if (uv.dim() != 4 || uv.size(0) != y.size(0) || uv.size(1) != 2 || uv.size(2) != y.size(2) ||
        uv.size(3) != y.size(3) || !uv.is_floating_point()) {
      throw ModelFileError(path + ": its forward(y [N,1,H,W], noise) must return uv [N,2,H,W] (docs/INTEROP.md)");
    }
    return uv.to(at::kFloat).clamp(0.0, 1.0);
  }

  // Host tensors go to a GPU through a reused pinned buffer (one asynchronous copy); on the CPU nothing is copied.
  at::Tensor upload(const at::Tensor& t, at::Tensor& staging) {
    if (t.device() == device || !t.device().is_cpu() || !device.is_cuda()) {
      return t.to(at::TensorOptions().device(device).dtype(at::kFloat));
    }
    if (!staging.defined() || staging.sizes() != t.sizes()) {
      staging = at::empty(t.sizes(), at::TensorOptions().dtype(at::kFloat).pinned_memory(true));
    }
    staging.copy_(t);
    return staging.to(device, /*non_blocking=*/true);
  }
};

InferenceEngine::InferenceEngine(const std::string& model_path, EngineOptions options) {
  const c10::Device device = resolve_device(options.device);  // fail fast, before loading
  if (device.is_cpu()) keep_freed_memory();
  set_thread_count(options.threads);
  // Loading, folding and the warm-up run on a short-lived thread. libgomp keeps an OpenMP pool alive for
  // every thread that ever ran a parallel region, and with more pool threads than cores it throttles the
  // spin-waits between regions: a GStreamer element loads on the application thread and colorizes on a
  // streaming thread, and the pool left on the application thread made every frame 8% slower.
  std::exception_ptr error;
  std::thread([&] {
    try {
      impl_ = std::make_unique<Impl>(model_path, device, options.seed);
      // A TorchScript generator runs as it was written (fp32 unless it casts itself).
      impl_->precision = impl_->folded
                             ? resolve_precision(options.precision, device, impl_->config.bf16_by_default())
                             : Precision::Fp32;
      if (impl_->folded) impl_->folded->to(device, impl_->precision == Precision::Bf16 ? at::kBFloat16 : at::kFloat);
      if (options.warm_up || impl_->script) {  // a TorchScript generator shows at once whether it keeps the contract
        const auto& meta = impl_->metadata;
        colorize(at::zeros({1, 1, meta.training_height, meta.training_width}));
        impl_->noise = NoiseSource(options.seed, meta.noise_distribution);  // warm-up must not shift the stream
      }
    } catch (...) {
      error = std::current_exception();
    }
  }).join();
  if (error) std::rethrow_exception(error);
}

InferenceEngine::~InferenceEngine() = default;

at::Tensor InferenceEngine::colorize(const at::Tensor& y, const at::Tensor& noise) {
  c10::InferenceMode guard;
  const GeneratorConfig& config = impl_->config;
  if (y.dim() != 4 || y.size(1) != 1) throw std::invalid_argument("colorize: Y must be [N,1,H,W]");
  const double bytes = static_cast<double>(config.full_size_maps()) * sizeof(float) * static_cast<double>(y.size(0)) * y.size(2) * y.size(3);
  if (bytes > static_cast<double>(kMaxActivationBytes)) {
    throw std::invalid_argument("colorizing " + std::to_string(y.size(0)) + " frame(s) of " + std::to_string(y.size(3)) +
                                "x" + std::to_string(y.size(2)) + " at once needs about " +
                                std::to_string(static_cast<int64_t>(bytes / (1 << 30))) +
                                " GiB of activations, more than the 4 GiB limit: use a smaller working size");
  }
  at::Tensor n = noise;
  if (!n.defined()) {
    n = config.noise_input == NoiseInput::Plane ? impl_->noise.planes(y.size(0), y.size(2), y.size(3))
                                                : impl_->noise.vectors(y.size(0), config.noise_dim);
  }
  at::Tensor uv = impl_->forward(impl_->upload(y, impl_->staging_in), impl_->upload(n, impl_->staging_noise));
  return uv.to(y.device());
}

const ModelMetadata& InferenceEngine::metadata() const { return impl_->metadata; }
const GeneratorConfig& InferenceEngine::config() const { return impl_->config; }
Precision InferenceEngine::precision() const { return impl_->precision; }

bool cpu_has_native_bf16() {
#if defined(__x86_64__) && defined(__GNUC__)
  return __builtin_cpu_supports("avx512bf16") || __builtin_cpu_supports("amx-bf16");
#else
  return false;
#endif
}

Precision resolve_precision(Precision requested, const c10::Device& device, bool model_bf16_by_default) {
  if (requested != Precision::Auto) return requested;
  return model_bf16_by_default && (device.is_cuda() || cpu_has_native_bf16()) ? Precision::Bf16 : Precision::Fp32;
}
c10::Device InferenceEngine::device() const { return impl_->device; }

}  // namespace colorgan
