// The GAN training loop, driven step by step by colorgan-train (and tests).
#pragma once

#include "colorgan/collectives.h"
#include "colorgan/model_file.h"
#include "colorgan/networks.h"

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

namespace colorgan {

enum class GanLoss { CrossEntropy, WganGp };
enum class OptimizerKind { Adam, RMSprop };

struct TrainOptions {
  std::string generator_preset = "seed";
  GanLoss loss = GanLoss::CrossEntropy;
  OptimizerKind optimizer = OptimizerKind::Adam;
  double lr_g = 2e-4;
  double lr_d = 2e-4;
  double beta1 = 0.5;       // Adam
  double beta2 = 0.999;     // Adam
  double rms_alpha = 0.9;   // RMSprop's squared-gradient decay
  int64_t batch = 16;
  int64_t steps = 2000;
  int64_t size = 64;        // square training crops
  double l1_weight = 100.0; // L1 on U,V added to the generator's loss
  double real_label = 0.9;  // cross-entropy target for real images (1 = no smoothing)
  int64_t critic_steps = 1; // discriminator updates per generator update
  double gp_weight = 10.0;  // WGAN-GP
  int64_t fc_hidden = 64;   // discriminator's hidden fully connected width
  NoiseDistribution noise = NoiseDistribution::Gaussian;
  uint64_t seed = 0;
  std::string device = "auto";
  bool amp = false;         // bf16 autocast for the forward passes (mixed precision)
  double ema = 0.0;         // decay of an exponential moving average of G's weights (0 = off)
  int64_t lr_decay_from = 0; // from this step, learning rates fall linearly to 0 at `steps` (0 = constant)
  // Feature (perceptual) loss: mean |f(prediction) - f(truth)| over three blocks of a
  // pretrained MobileNetV2 (colorgan/backbone.h), frozen, on the RGB images; 0 = off.
  double feature_weight = 0.0;
  std::string backbone;     // its backbone file (tools/fetch-backbone.sh)
  // Stability loss against flicker: mean |G(Y + e) - G(Y)| with e Gaussian luma noise of
  // std stability_noise (as a video's compression noise changes a still region's luma
  // from frame to frame), the same noise plane for both; 0 = off.
  double stability_weight = 0.0;
  double stability_noise = 0.02;
  // Class rebalancing of the L1 against desaturation (after Zhang et al. 2016, "Colorful
  // Image Colorization"): each pixel's L1 weighs 1 / (r p + (1 - r) / Q) of its true
  // chroma's frequency p in the training data (set_chroma_histogram), normalized to mean
  // 1 over that data, so rare vivid colours count as much as common dull ones; r in [0, 1),
  // 0 = off, 0.5 = the paper's.
  double rebalance = 0.0;
  // A chroma-class head's (GeneratorConfig::chroma_classes) cross-entropy against the
  // true chroma's soft targets (chroma_class_targets), rebalanced as the L1 is.
  double class_weight = 1.0;
  // A pretrained encoder's (GeneratorKind::PretrainedEncoder) learning rate: 0 keeps it frozen
  // (ImageNet's weights, fed gray); > 0 fine-tunes its convs (its batch-norm statistics stay
  // ImageNet's) at this rate, decaying with the rest.
  double encoder_lr = 0.0;
  std::string init_from;    // recorded only: the model file start_from() took (colorgan-train --init-from)

  // "default" (the defaults above) or "seed" (the seed paper: cross-entropy,
  // RMSprop, learning rate 0.01, decay 0.9, batch 128, 64x64, 5000 steps, no L1).
  static TrainOptions preset(const std::string& name);

  std::string to_json() const;
  static TrainOptions from_json(const std::string& json);  // throws std::invalid_argument
};

// Chroma statistics for the rebalanced L1: counts of U,V (in [0,1]) in kChromaBins x
// kChromaBins cells. The odd count puts neutral chroma (0.5, 0.5) at a cell's centre.
constexpr int64_t kChromaBins = 21;
at::Tensor chroma_histogram(const at::Tensor& uv);  // uv [N,2,H,W] -> double [bins, bins]
// The same over a chroma-class head's n x n cells: chroma_class_targets(uv, n) summed over
// the pixels (each pixel's weight shared between the 4 cells around it), double [n, n].
at::Tensor chroma_class_histogram(const at::Tensor& uv, int64_t n);
// Per-cell weights 1 / (r p~ + (1 - r) / Q) for a square histogram (either of the above):
// p~ the histogram smoothed (a Gaussian of one cell) and normalized, Q the number of cells
// the data reaches; scaled so that the data's mean weight is 1. r = 0 gives weight 1 everywhere.
at::Tensor rebalancing_weights(const at::Tensor& histogram, double r);

const char* to_string(GanLoss loss);
const char* to_string(OptimizerKind optimizer);
GanLoss parse_gan_loss(const std::string& name);             // "gan" | "wgan-gp"
OptimizerKind parse_optimizer(const std::string& name);      // "adam" | "rmsprop"

struct StepLosses {
  double d_loss = 0;   // discriminator/critic loss of the last critic update
  double g_loss = 0;   // generator's total loss
  double g_adv = 0;    // its adversarial part
  double g_l1 = 0;     // its (unweighted) L1 part
  double g_feature = 0; // its (unweighted) feature-loss part
  double g_stability = 0; // its (unweighted) stability part
  double g_class = 0;  // its (unweighted) chroma-class cross-entropy
};

class Trainer {
 public:
  // Random init from options.seed. With a group of W > 1 processes (colorgan/distributed.h)
  // training is data parallel: each rank passes train_step its own options.batch images,
  // its share of a global batch of W x batch; noise is drawn for the global batch and
  // sliced, batch norm is synchronized, and gradients are averaged before each optimizer
  // step, so the group trains as one process with batch W x batch would.
  explicit Trainer(const TrainOptions& options, std::shared_ptr<Collectives> group = nullptr);
  ~Trainer();
  Trainer(const Trainer&) = delete;
  Trainer& operator=(const Trainer&) = delete;

  // One step: options.critic_steps discriminator updates (one RGB batch
  // [N,3,S,S] in [0,1] each) then one generator update on the last batch.
  // Noise is drawn from (seed, step), so a resumed run repeats exactly. In a group the
  // losses returned are the group's (every rank gets the same).
  StepLosses train_step(const std::vector<at::Tensor>& rgb_batches);

  // Before the first step: the generator (and its average) take a model file's
  // weights, whose architecture must be options.generator_preset's; the discriminator stays new.
  void start_from(const std::string& model_file);

  // With options.rebalance > 0, before the first step: the training data's chroma_histogram
  // (every rank the same). Not in checkpoints: a resumed run computes it again. Returns the
  // per-cell weights it derived (rebalancing_weights), [bins, bins] on the CPU.
  at::Tensor set_chroma_histogram(const at::Tensor& histogram);

  // In a group: every rank's state (weights, optimizers, step, average) becomes rank 0's.
  // Call it on every rank after construction and after rank 0 loads a checkpoint.
  void broadcast_state();

  int64_t step() const;
  const TrainOptions& options() const;

  // Colorizes RGB images (treated as gray) with the generator in eval mode and
  // a fixed noise seed; returns RGB [N,3,S,S] on the CPU. Training mode is restored.
  // Uses the weights export_model() writes.
  at::Tensor colorize(const at::Tensor& rgb);

  // Generator, discriminator, both optimizers and the step; written atomically.
  void save_checkpoint(const std::string& path) const;
  void load_checkpoint(const std::string& path);

  // Writes the generator (its moving average when options.ema > 0) as a model file.
  void export_model(const std::string& path, const std::string& provenance) const;

  Generator& generator();
  Discriminator& discriminator();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace colorgan
