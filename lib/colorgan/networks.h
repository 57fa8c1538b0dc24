// The conditional GAN's networks (docs/DESIGN.md "The model").
#pragma once

#include "colorgan/mobilenet_v2.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace torch::jit {
struct Module;  // torch/csrc/jit/api/module.h, for FoldedGenerator::to_torchscript
}

namespace colorgan {

struct ConvLayerSpec {
  int64_t channels;
  int64_t kernel;
  bool operator==(const ConvLayerSpec& o) const { return channels == o.channels && kernel == o.kernel; }
};

// How the generator takes its noise: a plane of the frame's size (works at any
// resolution), or the reference work's 100-d vector projected by one fully
// connected layer onto a fixed-size plane (works only at that size).
enum class NoiseInput { Plane, ProjectedVector };
NoiseInput parse_noise_input(const std::string& name);  // "plane" | "projected-vector"
const char* to_string(NoiseInput input);

// The generator's architecture. Seed: the seed paper's stack of full-resolution
// convs (each output pixel sees ~31 px: no idea of the scene). EncoderDecoder:
// a U-Net that halves the size per scale, with a global-context branch (pooled
// features fused into every position, after Iizuka et al. 2016), skip
// connections and Y fed at every decoder scale. PretrainedEncoder: the same
// decoder over a pretrained MobileNetV2's first 13 blocks (colorgan/mobilenet_v2.h,
// frozen: ImageNet's idea of what is in the scene) plus one trained full-size
// scale that takes the noise. Same contract: Y + noise -> U,V.
enum class GeneratorKind { Seed, EncoderDecoder, PretrainedEncoder };
// "seed" | "encoder-decoder" | "pretrained-encoder"
GeneratorKind parse_generator_kind(const std::string& name);
const char* to_string(GeneratorKind kind);

// One conv + batch norm + ReLU of the encoder-decoder, in the order they run.
struct ConvBlockSpec {
  int64_t in, out, kernel, stride;
  size_t scale;  // where it runs: 0 = full size, s = 1/2^s
};

struct GeneratorConfig {
  GeneratorKind kind = GeneratorKind::Seed;

  // Seed kind only. Hidden conv layers (stride 1, "same" padding, batch norm, ReLU). Defaults: the seed paper's table.
  std::vector<ConvLayerSpec> hidden{{128, 7}, {64, 5}, {64, 5}, {64, 5}, {64, 5}, {32, 5}};
  int64_t output_kernel = 5;                // final conv to U,V (sigmoid)
  std::vector<int64_t> noise_layers{0, 1, 2};  // hidden layers whose input also gets the noise
  NoiseInput noise_input = NoiseInput::Plane;
  int64_t noise_dim = 100;       // ProjectedVector only
  int64_t projected_size = 64;   // ProjectedVector only: side of the square plane

  // EncoderDecoder kind: channels per scale, full resolution first, each next
  // scale half the size (4 scales: the bottleneck is 1/8). Noise is a plane fed
  // to the first conv. PretrainedEncoder kind: the decoder's channels at 1 .. 1/16
  // (5 scales; the encoder's are MobileNetV2's).
  std::vector<int64_t> scale_channels{32, 64, 128, 256};

  // EncoderDecoder, PretrainedEncoder: the output head. 0: U,V regressed (a sigmoid).
  // n > 0: each pixel's chroma classified into an n x n grid of U,V cells (Zhang et al.
  // 2016, "Colorful Image Colorization") and decoded with the annealed mean at
  // `temperature`: softmax(logits / T) over the cells' centres. T = 1 is the mean of the
  // predicted distribution (cautious, desaturated), T -> 0 its mode (vivid, patchy).
  int64_t chroma_classes = 0;
  double temperature = 0.38;
  // A chroma-class head's rank. 0: the output conv gives the n*n logits itself. r > 0: it
  // gives r maps, which a 1 x 1 conv ("cells") turns into the logits; the k x k conv then costs
  // r / (n*n) as much. A trained 15 x 15 head's weight is nearly low-rank: cut to rank 32, its
  // decoded chroma moved 0.44 8-bit levels at most on real photos (factor_chroma_class_head).
  int64_t head_rank = 0;
  // A chroma-class head decoded at 1 / head_stride of the working size: its maps averaged over
  // head_stride x head_stride pixels (linear, so the same as averaging the logits), the annealed
  // mean taken there and the U,V upsampled bilinearly. The decode is most of the head's cost, and
  // chroma varies slowly where luma keeps the detail: at 2 the 15 x 15 model scored CIEDE2000
  // 0.894x gray against 0.897x at 1 (docs/TRAINING.md). 1, or a power of 2 below 2^(scales - 1).
  // It changes no weight: a model file may be re-saved with another (colorgan-model stride).
  int64_t head_stride = 1;

  // "seed" (the defaults), "public-code" (the paper's released code: 128/7,
  // 64/5 x3, 32/5, noise at the input only), "tiny" (for tests),
  // "encoder-decoder" (32/64/128/256 channels at 1, 1/2, 1/4, 1/8 size),
  // "tiny-encoder-decoder" (for tests), "pretrained-encoder" (decoder 32/32/64/96/128),
  // "pretrained-encoder-classes" (the same with a 15 x 15 chroma-class head of rank 16 at
  // stride 2), "tiny-encoder-decoder-classes" (for tests: 5 x 5, rank 4, stride 2).
  static GeneratorConfig preset(const std::string& name);
  bool operator==(const GeneratorConfig& o) const;

  // Throws std::invalid_argument unless every size is within sane bounds
  // (layers, channels, odd kernels, noise layers, parameter count): model files
  // are untrusted, and this runs before anything is allocated.
  void check() const;

  // Whether hidden layer `layer` also gets the noise plane.
  bool is_noisy(size_t layer) const;
  // Input maps of hidden layer `layer`: the previous layer's maps + Y (+ noise);
  // layer == hidden.size() is the output conv (last hidden maps + Y).
  int64_t input_channels(size_t layer) const;
  // EncoderDecoder, PretrainedEncoder: the trained conv blocks (own encoder, fusion,
  // decoder), the output conv not included.
  std::vector<ConvBlockSpec> encoder_decoder_blocks() const;
  // EncoderDecoder, PretrainedEncoder: how many of those blocks encode (before the fusion).
  size_t own_encoder_blocks() const;
  // EncoderDecoder, PretrainedEncoder: channels of the deepest encoder maps (the global-context layer's width).
  int64_t context_channels() const;
  // Whether precision auto may run it in bf16: its chroma stays within one 8-bit level
  // of fp32 there (measured on a real photo, test_training_data: Precision.*). Not so for
  // PretrainedEncoder (2 levels with its encoder in float, 8 without): auto runs it in
  // fp32, still 1.6x the seed generator's bf16 speed at 720p.
  bool bf16_by_default() const { return kind != GeneratorKind::PretrainedEncoder; }
  // About how many full-size maps a forward pass holds at once (for memory bounds).
  int64_t full_size_maps() const;
  // Channels of the output conv: 2 (U,V), chroma_classes^2 logits, or head_rank maps.
  int64_t output_channels() const { return chroma_classes == 0 ? 2 : head_rank > 0 ? head_rank : class_count(); }
  int64_t class_count() const { return chroma_classes * chroma_classes; }
  // The scale the head is decoded at: log2(head_stride) (0: full size).
  size_t head_scale() const;
  // Multiply-adds x 2 of one forward pass on an h x w frame (convs only).
  double flops(int64_t h, int64_t w) const;
};

// Names of the presets GeneratorConfig::preset knows (the tools offer these).
const std::vector<std::string>& generator_presets();

// The chroma-class head's cells: U,V of each of the n x n cells' centres, [n*n, 2],
// cell u * n + v centred on ((u + 0.5) / n, (v + 0.5) / n). Odd n puts gray at a centre.
at::Tensor chroma_class_centres(int64_t n);
// Soft targets for uv [N,2,H,W] in [0,1]: each pixel's chroma shared bilinearly
// between the 4 cells around it (weights summing to 1; their centres' weighted mean
// is the chroma itself, inside the outer centres). Returns [N, n*n, H, W].
at::Tensor chroma_class_targets(const at::Tensor& uv, int64_t n);
// A chroma-class output conv that starts where a U,V output conv (weight [2,C,k,k], bias
// [2]) is: logits -|centre - uv|^2 / (2 s^2), s one cell, with uv = sigmoid(conv(x))
// linearized at gray. Returns the weight [n*n,C,k,k] and bias [n*n].
std::pair<at::Tensor, at::Tensor> chroma_class_head_like(const at::Tensor& weight, const at::Tensor& bias, int64_t n);
// A chroma-class output conv (weight [n*n,C,k,k], bias [n*n]) as two of rank r: a k x k conv
// to r maps (weight [r,C,k,k]: the weight's r leading right singular vectors; bias 0) and a
// 1 x 1 conv from them to the logits (cells_weight [n*n,r,1,1]: the left ones times the
// singular values; cells_bias: the bias). Exact where the weight's rank is at most r.
struct FactoredClassHead {
  at::Tensor weight, bias, cells_weight, cells_bias;
};
FactoredClassHead factor_chroma_class_head(const at::Tensor& weight, const at::Tensor& bias, int64_t rank);
// The annealed mean on the CPU, fused: logits [P, K] (already divided by the temperature),
// or a factored head's maps [P, r] with its cells' layer (cells_weight [K, r], cells_bias [K];
// both divided by T), -> U,V [P, 2]: the softmax over K times centres [K, 2], in one pass per
// pixel with its own vectorized exp. Float on the CPU, `in` contiguous. LibTorch's linear,
// softmax and matmul write the logits out and read them back, and its GEMM of depth r is slow.
at::Tensor softmax_centres(const at::Tensor& in, const at::Tensor& centres, const at::Tensor& cells_weight = {},
                           const at::Tensor& cells_bias = {});
// Logits [N, n*n, H, W] -> U,V [N,2,H,W]: the annealed mean, softmax(logits / T) . centres.
at::Tensor annealed_mean(const at::Tensor& logits, int64_t n, double temperature);

class GeneratorImpl : public torch::nn::Module {
 public:
  explicit GeneratorImpl(GeneratorConfig config = {});

  // y: [N,1,H,W] luma in [0,1]. noise: [N,1,H,W] plane, or [N,noise_dim] for
  // NoiseInput::ProjectedVector. Returns U,V [N,2,H,W] in [0,1].
  torch::Tensor forward(const torch::Tensor& y, const torch::Tensor& noise);
  // What the output conv gives: U,V as forward() does, or with a chroma-class head its
  // logits [N, n*n, H/s, W/s] at head_stride s (sides rounded up; training's cross-entropy
  // needs them). decode_head makes U,V [N,2,size] from them.
  torch::Tensor head(const torch::Tensor& y, const torch::Tensor& noise);
  torch::Tensor decode_head(const torch::Tensor& head, at::IntArrayRef size) const;

  const GeneratorConfig& config() const { return config_; }

  // PretrainedEncoder: copies the pretrained network's weights into the encoder
  // (which stays frozen: no gradients, batch norm in eval mode even in training).
  void load_encoder(const MobileNetV2Impl& pretrained);
  MobileNetV2 encoder() const { return encoder_; }  // null for the other kinds
  void train(bool on = true) override;

 private:
  GeneratorConfig config_;
  MobileNetV2 encoder_{nullptr};  // PretrainedEncoder
  torch::nn::ModuleList convs_;
  torch::nn::ModuleList norms_;
  torch::nn::Conv2d output_{nullptr};
  torch::nn::Conv2d cells_{nullptr};  // a chroma-class head of rank r: r maps -> logits
  torch::nn::Linear projection_{nullptr};
  torch::nn::Linear context_{nullptr};  // EncoderDecoder: the global-context layer
};
TORCH_MODULE(Generator);

struct DiscriminatorConfig {
  std::vector<int64_t> channels{64, 128, 256, 512};  // conv layers, stride 2, batch norm, LeakyReLU
  int64_t kernel = 5;
  int64_t image_size = 64;  // square input side; fixes the first fully connected layer's width
  int64_t fc_hidden = 64;
  double leaky_slope = 0.2;
  bool batch_norm = true;   // off for WGAN-GP critics (the gradient penalty is per sample)
};

class DiscriminatorImpl : public torch::nn::Module {
 public:
  explicit DiscriminatorImpl(DiscriminatorConfig config = {});

  // yuv: [N,3,S,S]. Returns one logit per image, [N].
  torch::Tensor forward(const torch::Tensor& yuv);

  const DiscriminatorConfig& config() const { return config_; }

 private:
  DiscriminatorConfig config_;
  torch::nn::ModuleList convs_;
  torch::nn::ModuleList norms_;
  torch::nn::Linear fc1_{nullptr};
  torch::nn::Linear fc2_{nullptr};
};
TORCH_MODULE(Discriminator);

// An exporter's view of a generator's forward pass: FoldedGenerator::write_graph
// calls these in order on named values ("y", "noise", then what each returns),
// so every format is written from the one description of the network.
class GraphWriter {
 public:
  virtual ~GraphWriter() = default;
  // conv2d with `padding` on every side; bias may be undefined. Weights are fp32 on the CPU.
  virtual std::string conv(const std::string& x, const torch::Tensor& weight, const torch::Tensor& bias,
                           int64_t stride, int64_t groups, int64_t padding) = 0;
  // MobileNetV2's padding before a stride-2 conv (mobilenet_v2.h pad_for_stride_2).
  virtual std::string pad_for_stride_2(const std::string& x) = 0;
  virtual std::string add(const std::string& a, const std::string& b) = 0;
  virtual std::string relu(const std::string& x) = 0;
  virtual std::string relu6(const std::string& x) = 0;  // min(max(x, 0), 6)
  virtual std::string sigmoid(const std::string& x) = 0;
  virtual std::string cat(const std::vector<std::string>& xs) = 0;  // along channels
  // noise [N,dim] -> a plane [N,1,size,size] through a linear layer.
  virtual std::string project_noise(const std::string& noise, const torch::Tensor& weight, const torch::Tensor& bias,
                                    int64_t size) = 0;
  // Softmax along channels.
  virtual std::string softmax(const std::string& x) = 0;
  // relu(linear(mean of x over H,W)), the same at every position of x: [N,C,H,W].
  virtual std::string global_context(const std::string& x, const torch::Tensor& weight, const torch::Tensor& bias) = 0;
  // x bilinearly resized (half-pixel centres) to like's H,W, which are `factor` times x's
  // (exactly so for frame sides that are multiples of the network's overall stride).
  virtual std::string upsample_to(const std::string& x, const std::string& like, int64_t factor) = 0;
  // x averaged down to like's H,W (adaptive average pooling), 1/`factor` of x's (see upsample_to).
  virtual std::string pool_to(const std::string& x, const std::string& like, int64_t factor) = 0;
};

// An inference-only copy of a Generator with each batch norm (running
// statistics, eval mode) folded into the conv before it, in channels_last
// layout: fewer passes over memory, the same outputs within float rounding.
// Each conv is split by linearity, conv([x, Y, noise]) = conv_x(x) +
// conv_side([Y, noise]), so the convs over the maps see 128/64/32 channels:
// no per-layer concatenation and no odd channel counts for oneDNN to pad.
class FoldedGenerator {
 public:
  explicit FoldedGenerator(GeneratorImpl& generator);

  // Same contract as GeneratorImpl::forward (float in, float out, whatever the
  // weights' dtype); call under InferenceMode or NoGradGuard.
  torch::Tensor forward(const torch::Tensor& y, const torch::Tensor& noise) const;
  // Moves the weights; dtype kBFloat16 runs the convolutions in bfloat16
  // (about twice as fast where the CPU has AVX512-BF16; outputs within ~1e-2).
  void to(const torch::Device& device, torch::ScalarType dtype = torch::kFloat);
  // The same generator as a TorchScript module (fp32 weights on the CPU,
  // forward(y [N,1,H,W], noise) -> uv [N,2,H,W] in [0,1]): what
  // `colorgan-model export --format torchscript` writes, for Python's torch.jit.load.
  torch::jit::Module to_torchscript() const;
  // Describes forward() to `writer`; returns the name of the output (uv).
  std::string write_graph(GraphWriter& writer) const;

 private:
  struct Layer {
    torch::Tensor weight;       // over the previous layer's maps; undefined for the first layer
    torch::Tensor side_weight;  // over [Y, noise] (zero noise weights where the layer takes no noise)
    torch::Tensor bias;
    int64_t padding;
    size_t side_group = 0;      // where forward() finds this layer's side conv: side_groups_[side_group],
    int64_t side_offset = 0;    // its channels from side_offset
  };
  // The side convs of consecutive layers with one kernel size and dtype, run as one
  // conv: they all read [Y, noise], and one 2-channel conv per layer cost more than the layer's own.
  struct SideGroup {
    torch::Tensor weight, bias;
    int64_t padding;
  };
  void group_side_convs();
  struct Conv {  // EncoderDecoder, PretrainedEncoder: a conv with its batch norm folded in
    torch::Tensor weight, bias;
    int64_t stride = 1, groups = 1, padding = 0;
    bool pad_for_stride_2 = false;  // MobileNetV2's own padding first (then padding is 0)
    torch::Tensor operator()(const torch::Tensor& x) const;
  };
  struct InvertedResidual {  // PretrainedEncoder: a MobileNetV2 block, folded
    Conv expand, depthwise, project;  // expand.weight undefined where the block has none
    bool residual;
  };
  torch::Tensor forward_encoder_decoder(const torch::Tensor& y, const torch::Tensor& noise) const;
  void fold_pretrained_encoder(const MobileNetV2Impl& net);
  std::vector<torch::Tensor> run_pretrained_encoder(const torch::Tensor& y) const;

  GeneratorConfig config_;
  std::vector<Layer> layers_;  // Seed: hidden layers, then the output conv
  std::vector<SideGroup> side_groups_;
  // bf16: the output conv's weight as [hi; lo] bf16 halves (hi + lo = the fp32 weight to
  // ~2^-16): two bf16 convs in one, twice the speed of the fp32 conv at fp32's precision.
  torch::Tensor output_hi_lo_;
  torch::Tensor projection_weight_, projection_bias_;
  std::vector<Conv> blocks_;   // EncoderDecoder, PretrainedEncoder: its blocks, then the output conv
  torch::Tensor context_weight_, context_bias_;  // the global-context layer
  // Chroma-class head: the cells' centres [n*n, 2], multiplied by the softmax over the cells
  // (1 / temperature is folded into the output conv, or into the cells' layer of a head of
  // rank r: weight [n*n, r] for a matmul over the NHWC view).
  torch::Tensor class_centres_, class_cells_weight_, class_cells_bias_;
  Conv encoder_conv1_;  // PretrainedEncoder: MobileNetV2's Conv1 over Y (its RGB weights summed: R = G = B = Y)
  std::vector<InvertedResidual> encoder_blocks_;
};

int64_t parameter_count(const torch::nn::Module& module);
// Copies every parameter and buffer of `from` into `to`, a generator of the same architecture.
void copy_weights(const GeneratorImpl& from, GeneratorImpl& to);
// Copies `from` into `to`, generators that may differ in their output head alone: `to`'s
// chroma-class head (of any rank) then starts as `from`'s U,V head (chroma_class_head_like)
// or as its chroma-class head (multiplied out, factored to `to`'s rank). Throws
// std::invalid_argument where other layers differ, or a chroma-class head would become U,V.
void copy_weights_across_heads(const GeneratorImpl& from, GeneratorImpl& to);
// Adds shift [n*n] to a chroma-class generator's logits (the bias of its last layer before the
// softmax: the cells' layer, or the output conv at rank 0). With shift = log w, w the training
// data's rebalancing_weights, the head predicts as if trained with that rebalancing (logit
// adjustment: Menon et al. 2021, "Long-tail learning via logit adjustment"). Throws
// std::invalid_argument for a U,V head or a shift of another size.
void shift_chroma_class_logits(GeneratorImpl& generator, const at::Tensor& shift);
// A module's parameters and floating-point buffers (batch-norm statistics, not
// counters such as num_batches_tracked), by name: what its weights are.
torch::OrderedDict<std::string, torch::Tensor> floating_weights(const torch::nn::Module& module);

}  // namespace colorgan
