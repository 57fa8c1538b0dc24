// Inference engine: one model file loaded once, on one device, ready to colorize.
#pragma once

#include "colorgan/errors.h"
#include "colorgan/model_file.h"
#include "colorgan/options.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>

#include <memory>
#include <string>

namespace colorgan {

// "auto" (CUDA if available, else CPU), "cpu", "cuda", "cuda:N".
// Throws DeviceError for CUDA requests this build/machine cannot serve: never a silent CPU fallback.
c10::Device resolve_device(const std::string& name);

// Sets LibTorch's intra-op thread count, at most the cores this process may run on; 0 = all of them.
void set_thread_count(int threads);
int available_cores();

// Makes glibc keep freed memory for reuse (once per process; false where the
// user set malloc tunables, which win, or without glibc). By default it returns a forward pass's freed
// activations to the kernel after every frame and maps the larger ones afresh:
// ~3,000 page faults per 64x64 frame, 15% of the CPU time. InferenceEngine and
// Trainer call it; it changes process-wide malloc settings (docs/PERFORMANCE.md).
bool keep_freed_memory();
// The same, and blocks of any size from the heap too: glibc maps those above 32 MB afresh
// on every allocation whatever the threshold, and a batch's chroma-class logits (59 MB at
// batch 16, 64x64, 15 x 15 classes) made training 3.3x slower for the page faults. For
// processes that mostly train (the Trainer calls it).
bool keep_all_freed_memory();

struct EngineOptions {
  std::string device = "auto";
  int threads = 0;       // 0 = available_cores()
  uint64_t seed = 0;     // for noise the caller does not supply
  bool warm_up = true;   // one forward pass at load time, so the first frame is not slow
  Precision precision = Precision::Auto;  // Auto: resolve_precision()
};

// Whether this CPU runs bfloat16 convolutions natively (AVX512-BF16 or AMX-BF16).
bool cpu_has_native_bf16();
// What Precision::Auto means on `device` for a model: Bf16 on CPUs with native
// bf16 and on CUDA GPUs, Fp32 elsewhere (emulated bf16 is slower than fp32) and
// for models that are not GeneratorConfig::bf16_by_default() (networks.h). Within
// one 8-bit chroma level of fp32 (test_training_data: Precision.*).
Precision resolve_precision(Precision requested, const c10::Device& device, bool model_bf16_by_default = true);

// What one forward pass may hold in activations (two maps of the widest
// layer): a 7000x5000 photo at native size would need ~36 GB with the seed
// generator; such sizes get an error that says to use a smaller working size.
constexpr int64_t kMaxActivationBytes = int64_t{4} << 30;

class InferenceEngine {
 public:
  // Throws ModelFileError (bad file), DeviceError (bad device).
  explicit InferenceEngine(const std::string& model_path, EngineOptions options = {});
  ~InferenceEngine();
  InferenceEngine(const InferenceEngine&) = delete;
  InferenceEngine& operator=(const InferenceEngine&) = delete;

  // y: [N,1,H,W] float luma in [0,1] on any device. noise: the model's noise
  // ([N,1,H,W] plane, or [N,noise_dim] for projected-vector models); an
  // undefined tensor draws it from the engine's seeded source.
  // Returns U,V [N,2,H,W] in [0,1] on y's device. Throws std::invalid_argument
  // when the activations for N x H x W would exceed kMaxActivationBytes.
  at::Tensor colorize(const at::Tensor& y, const at::Tensor& noise = at::Tensor());

  const ModelMetadata& metadata() const;
  const GeneratorConfig& config() const;
  c10::Device device() const;
  Precision precision() const;  // what runs: Fp32 or Bf16, never Auto

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace colorgan
