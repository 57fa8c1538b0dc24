#include "colorgan/networks.h"

#include "colorgan/collectives.h"

#include <torch/csrc/jit/api/module.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/functional/pooling.h>
#include <torch/nn/functional/upsampling.h>

#include <algorithm>
#include <sstream>
#include <stdexcept>

namespace colorgan {
namespace {

torch::nn::Conv2dOptions same_conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, bool bias) {
  if (kernel % 2 == 0) throw std::invalid_argument("conv kernels must be odd for 'same' padding");
  return torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(bias);
}

// The inputs both generator forms take (GeneratorImpl, FoldedGenerator).
void check_generator_inputs(const GeneratorConfig& config, const torch::Tensor& y, const torch::Tensor& noise) {
  if (y.dim() != 4 || y.size(1) != 1) throw std::invalid_argument("generator: Y must be [N,1,H,W]");
  if (config.noise_input == NoiseInput::ProjectedVector) {
    if (noise.dim() != 2 || noise.size(1) != config.noise_dim || y.size(2) != config.projected_size ||
        y.size(3) != config.projected_size) {
      throw std::invalid_argument("generator: this model takes a [N," + std::to_string(config.noise_dim) +
                                  "] noise vector and " + std::to_string(config.projected_size) + "x" +
                                  std::to_string(config.projected_size) + " frames");
    }
  } else if (noise.dim() != 4 || noise.size(1) != 1 || noise.size(2) != y.size(2) || noise.size(3) != y.size(3)) {
    throw std::invalid_argument("generator: noise must be a [N,1,H,W] plane of the frame's size");
  }
}

// conv(x) then batch norm with its running statistics, as one conv:
// gamma * (W*x - mean) / sqrt(var + eps) + beta = (s W)*x + (beta - s mean), s = gamma / sqrt(var + eps).
std::pair<torch::Tensor, torch::Tensor> fold_batch_norm(const torch::Tensor& conv_weight,
                                                        const torch::nn::BatchNorm2dImpl& norm) {
  const auto scale = norm.weight / torch::sqrt(norm.running_var + norm.options.eps());
  return {conv_weight * scale.view({-1, 1, 1, 1}), norm.bias - scale * norm.running_mean};
}

// x [N,C,H,W] averaged down to `size` (adaptive average pooling: exact 2x2 means where H, W are even).
torch::Tensor average_to(const torch::Tensor& x, at::IntArrayRef size) {
  return torch::nn::functional::adaptive_avg_pool2d(x, torch::nn::functional::AdaptiveAvgPool2dFuncOptions(size.vec()));
}

// U,V decoded at a head's stride, resized bilinearly (half-pixel centres) to the frame's `size`.
torch::Tensor upsample_chroma(const torch::Tensor& uv, at::IntArrayRef size) {
  namespace F = torch::nn::functional;
  return F::interpolate(uv, F::InterpolateFuncOptions().size(size.vec()).mode(torch::kBilinear).align_corners(false));
}

// Concatenation along channels into a channels_last result. LibTorch 1.13's cat
// falls back to NCHW when an input's layout is ambiguous (the 1-channel Y, an
// expanded context), and every conv and upsample after it then reorders: 14% of
// the folded encoder-decoder's time at 64x114.
torch::Tensor cat_channels_last(const std::vector<torch::Tensor>& xs) {
  int64_t channels = 0;
  for (const auto& x : xs) channels += x.size(1);
  const auto& first = xs.front();
  auto out = torch::empty({first.size(0), channels, first.size(2), first.size(3)},
                          first.options().memory_format(torch::MemoryFormat::ChannelsLast));
  return torch::cat_out(out, xs, 1);
}

// PretrainedEncoder: the MobileNetV2 blocks whose outputs are its skips at 1/2,
// 1/4 and 1/8 and its deepest maps at 1/16; the encoder is built up to the last.
constexpr int kEncoderTaps[] = {0, 2, 5, 12};
constexpr int kEncoderBlocks = 13;

// The encoder-decoder's wiring, written once for both kinds and for the trainable
// module and its folded copy: block(i, x) runs conv block i of
// encoder_decoder_blocks() (with its batch norm and ReLU), global(v) the context
// layer on pooled maps [N,C], output(x) the last conv (with its sigmoid);
// pretrained(y) the pretrained encoder's maps at 1/2 .. 1/16 (PretrainedEncoder);
// channels_last keeps every map so.
template <class Block, class Global, class Output, class Pretrained>
torch::Tensor run_encoder_decoder(const GeneratorConfig& config, const torch::Tensor& y, const torch::Tensor& noise,
                                  const Block& block, const Global& global, const Output& output,
                                  const Pretrained& pretrained, bool channels_last = false) {
  namespace F = torch::nn::functional;
  const auto cat = [channels_last](const std::vector<torch::Tensor>& xs) {
    return channels_last ? cat_channels_last(xs) : torch::cat(xs, 1);
  };
  const size_t scales = config.scale_channels.size();
  size_t b = 0;
  std::vector<torch::Tensor> skips;  // one per scale, the deepest maps last
  torch::Tensor x = cat({y, noise});
  while (b < config.own_encoder_blocks()) {
    x = block(b++, x);
    x = block(b++, x);
    skips.push_back(x);
  }
  if (config.kind == GeneratorKind::PretrainedEncoder) {
    for (auto& maps : pretrained(y)) skips.push_back(std::move(maps));
    x = skips.back();
  }
  // Every position gets the whole frame's summary: what kind of scene this is.
  const auto context = global(x.mean({2, 3}));
  x = block(b++, cat({x, context.unsqueeze(2).unsqueeze(3).expand_as(x)}));
  for (size_t s = scales - 1; s-- > 0;) {
    const std::vector<int64_t> size{skips[s].size(2), skips[s].size(3)};
    // In float: LibTorch 1.13's bilinear kernel for channels_last bfloat16 reads past the input's last
    // column for some odd output sides (33x82 -> 65x163: whatever memory held there, NaN included,
    // at the right edge). Also faster here: 0.13 vs 0.18 ms at 64 x 32x57 -> 64x114.
    const auto options = F::InterpolateFuncOptions().size(size).mode(torch::kBilinear).align_corners(false);
    x = x.scalar_type() == torch::kBFloat16 ? F::interpolate(x.to(torch::kFloat), options).to(torch::kBFloat16)
                                             : F::interpolate(x, options);
    const auto y_here = s == 0 ? y : average_to(y, size);
    x = block(b++, cat({x, skips[s], y_here}));
    x = block(b++, x);
  }
  const auto& at_head_scale = skips[config.head_scale()];
  return output(cat({x, y}), std::vector<int64_t>{at_head_scale.size(2), at_head_scale.size(3)});
}

// The folded pretrained encoder's blocks, written once for FoldedGenerator's tensors
// and write_graph's value names: x is Conv1's output; conv(c, v), relu6(v) and add(a, b)
// act on values of type V. Returns the maps at kEncoderTaps.
template <class V, class Blocks, class ConvFn, class Relu6, class Add>
std::vector<V> run_inverted_residuals(V x, const Blocks& blocks, const ConvFn& conv, const Relu6& relu6,
                                      const Add& add) {
  std::vector<V> taps;
  const int* tap = std::begin(kEncoderTaps);
  for (size_t i = 0; i < blocks.size(); ++i) {
    const auto& b = blocks[i];
    V h = b.expand.weight.defined() ? relu6(conv(b.expand, x)) : x;
    h = conv(b.project, relu6(conv(b.depthwise, h)));
    x = b.residual ? add(h, x) : h;
    if (tap != std::end(kEncoderTaps) && static_cast<int>(i) == *tap) {
      taps.push_back(x);
      ++tap;
    }
  }
  return taps;
}

}  // namespace

at::Tensor chroma_class_centres(int64_t n) {
  if (n < 2) throw std::invalid_argument("chroma_class_centres: needs at least 2 cells per side");
  const auto centres = (torch::arange(n, torch::kFloat) + 0.5) / static_cast<double>(n);
  return torch::stack({centres.repeat_interleave(n), centres.repeat({n})}, 1);
}

at::Tensor chroma_class_targets(const at::Tensor& uv, int64_t n) {
  if (uv.dim() != 4 || uv.size(1) != 2) throw std::invalid_argument("chroma_class_targets: uv must be [N,2,H,W]");
  if (n < 2) throw std::invalid_argument("chroma_class_targets: needs at least 2 cells per side");
  // Position in units of cells, 0 at the first centre; outside the outer centres, the outer cell.
  const auto position = (uv.to(torch::kFloat) * n - 0.5).clamp(0, n - 1);
  const auto low = position.floor().clamp_max(n - 2);
  const auto above = position - low;  // weight of the upper neighbour, per axis
  const auto low_cell = low.to(torch::kLong);
  auto targets = torch::zeros({uv.size(0), n * n, uv.size(2), uv.size(3)}, position.options());
  for (int64_t du = 0; du < 2; ++du) {
    for (int64_t dv = 0; dv < 2; ++dv) {
      const auto cell = (low_cell.narrow(1, 0, 1) + du) * n + low_cell.narrow(1, 1, 1) + dv;
      const auto wu = du ? above.narrow(1, 0, 1) : 1 - above.narrow(1, 0, 1);
      const auto wv = dv ? above.narrow(1, 1, 1) : 1 - above.narrow(1, 1, 1);
      targets.scatter_add_(1, cell, wu * wv);
    }
  }
  return targets;
}

std::pair<at::Tensor, at::Tensor> chroma_class_head_like(const at::Tensor& weight, const at::Tensor& bias, int64_t n) {
  if (weight.dim() != 4 || weight.size(0) != 2 || bias.sizes() != at::IntArrayRef{2}) {
    throw std::invalid_argument("chroma_class_head_like: needs a U,V output conv's weight [2,C,k,k] and bias [2]");
  }
  // uv = sigmoid(conv(x)) ~ 0.5 + conv(x) / 4 near gray, where chroma mostly is; then
  // -|c - uv|^2 / (2 s^2) = c . uv / s^2 - |c|^2 / (2 s^2) + (the same for every cell), linear in conv(x).
  const double s2 = 1.0 / static_cast<double>(n * n);  // s: one cell
  const auto centres = chroma_class_centres(n).to(weight.dtype());
  const auto w = centres.matmul(weight.detach().reshape({2, -1})).reshape({n * n, weight.size(1), weight.size(2),
                                                                          weight.size(3)}) / (4 * s2);
  const auto b = centres.matmul(0.5 + bias.detach() / 4) / s2 - centres.pow(2).sum(1) / (2 * s2);
  return {w, b};
}

FactoredClassHead factor_chroma_class_head(const at::Tensor& weight, const at::Tensor& bias, int64_t rank) {
  if (weight.dim() != 4 || bias.dim() != 1 || bias.size(0) != weight.size(0) || rank < 1 || rank > weight.size(0)) {
    throw std::invalid_argument("factor_chroma_class_head: needs an output conv's weight [K,C,k,k], bias [K] and a rank in 1..K");
  }
  const auto matrix = weight.detach().to(torch::kDouble).flatten(1);
  const auto [u, s, vh] = torch::linalg_svd(matrix, false);
  const int64_t r = std::min(rank, s.size(0));  // beyond the matrix's own rank: zero maps
  auto maps = torch::zeros({rank, matrix.size(1)}, matrix.options());
  auto cells = torch::zeros({weight.size(0), rank}, matrix.options());
  maps.narrow(0, 0, r).copy_(vh.narrow(0, 0, r));
  cells.narrow(1, 0, r).copy_(u.narrow(1, 0, r) * s.narrow(0, 0, r));
  const auto type = weight.options();
  return {maps.to(type).view({rank, weight.size(1), weight.size(2), weight.size(3)}), torch::zeros({rank}, type),
          cells.to(type).view({weight.size(0), rank, 1, 1}), bias.detach().clone()};
}

at::Tensor annealed_mean(const at::Tensor& logits, int64_t n, double temperature) {
  if (logits.dim() != 4 || logits.size(1) != n * n) {
    throw std::invalid_argument("annealed_mean: logits must be [N," + std::to_string(n * n) + ",H,W]");
  }
  const auto centres = chroma_class_centres(n).to(logits.device()).t().reshape({2, n * n, 1, 1}).contiguous();
  return torch::conv2d(torch::softmax(logits.to(torch::kFloat) / temperature, 1), centres);
}

GeneratorKind parse_generator_kind(const std::string& name) {
  if (name == "seed") return GeneratorKind::Seed;
  if (name == "encoder-decoder") return GeneratorKind::EncoderDecoder;
  if (name == "pretrained-encoder") return GeneratorKind::PretrainedEncoder;
  throw std::invalid_argument("unknown generator kind '" + name +
                              "' (expected seed, encoder-decoder or pretrained-encoder)");
}

const char* to_string(GeneratorKind kind) {
  switch (kind) {
    case GeneratorKind::Seed: return "seed";
    case GeneratorKind::EncoderDecoder: return "encoder-decoder";
    case GeneratorKind::PretrainedEncoder: return "pretrained-encoder";
  }
  return "?";
}

const std::vector<std::string>& generator_presets() {
  static const std::vector<std::string> names{"seed",         "public-code",          "encoder-decoder",
                                              "tiny",         "tiny-encoder-decoder", "pretrained-encoder",
                                              "pretrained-encoder-classes", "tiny-encoder-decoder-classes"};
  return names;
}

NoiseInput parse_noise_input(const std::string& name) {
  if (name == "plane") return NoiseInput::Plane;
  if (name == "projected-vector") return NoiseInput::ProjectedVector;
  throw std::invalid_argument("unknown noise input '" + name + "' (expected plane or projected-vector)");
}

const char* to_string(NoiseInput input) {
  return input == NoiseInput::Plane ? "plane" : "projected-vector";
}

GeneratorConfig GeneratorConfig::preset(const std::string& name) {
  GeneratorConfig config;
  if (name == "seed") return config;
  if (name == "public-code") {
    config.hidden = {{128, 7}, {64, 5}, {64, 5}, {64, 5}, {32, 5}};
    config.noise_layers = {0};
    return config;
  }
  if (name == "tiny") {
    config.hidden = {{8, 3}, {8, 3}, {4, 3}};
    config.output_kernel = 3;
    config.noise_layers = {0, 1};
    return config;
  }
  if (name == "encoder-decoder" || name == "tiny-encoder-decoder" || name == "tiny-encoder-decoder-classes") {
    config.kind = GeneratorKind::EncoderDecoder;
    config.output_kernel = 3;
    if (name != "encoder-decoder") config.scale_channels = {4, 8, 8};
    if (name == "tiny-encoder-decoder-classes") {
      config.chroma_classes = 5;
      config.head_rank = 4;
      config.head_stride = 2;
    }
    return config;
  }
  if (name == "pretrained-encoder" || name == "pretrained-encoder-classes") {
    config.kind = GeneratorKind::PretrainedEncoder;
    config.output_kernel = 3;
    config.scale_channels = {32, 32, 64, 96, 128};
    if (name == "pretrained-encoder-classes") {
      config.chroma_classes = 15;
      config.head_rank = 16;
      config.head_stride = 2;
    }
    return config;
  }
  std::string expected;
  for (const auto& preset : generator_presets()) expected += (expected.empty() ? "" : ", ") + preset;
  throw std::invalid_argument("unknown generator preset '" + name + "' (expected " + expected + ")");
}

bool GeneratorConfig::operator==(const GeneratorConfig& o) const {
  return kind == o.kind && hidden == o.hidden && output_kernel == o.output_kernel && noise_layers == o.noise_layers &&
         noise_input == o.noise_input && noise_dim == o.noise_dim && projected_size == o.projected_size &&
         scale_channels == o.scale_channels && chroma_classes == o.chroma_classes && temperature == o.temperature &&
         head_rank == o.head_rank && head_stride == o.head_stride;
}

int64_t GeneratorConfig::context_channels() const {
  return kind == GeneratorKind::PretrainedEncoder ? mobilenet_v2_channels(kEncoderTaps[std::size(kEncoderTaps) - 1])
                                                  : scale_channels.back();
}

size_t GeneratorConfig::own_encoder_blocks() const {
  return kind == GeneratorKind::PretrainedEncoder ? 2 : 2 * scale_channels.size();
}

std::vector<ConvBlockSpec> GeneratorConfig::encoder_decoder_blocks() const {
  const auto& c = scale_channels;
  std::vector<ConvBlockSpec> blocks;
  for (size_t s = 0; 2 * s < own_encoder_blocks(); ++s) {  // [Y, noise] in; each scale after the first halves the size
    blocks.push_back({s == 0 ? 2 : c[s - 1], c[s], 3, s == 0 ? 1 : 2, s});
    blocks.push_back({c[s], c[s], 3, 1, s});
  }
  // Channels of the encoder's maps at scale s (the deepest: s = c.size() - 1).
  const auto encoded = [&](size_t s) {
    if (kind != GeneratorKind::PretrainedEncoder || s == 0) return c[s];
    return mobilenet_v2_channels(kEncoderTaps[s - 1]);
  };
  const size_t deepest = c.size() - 1;
  blocks.push_back({2 * context_channels(), c.back(), 1, 1, deepest});  // fusion with the global context
  for (size_t s = deepest; s-- > 0;) {  // decoder: upsampled maps + skip + Y at this scale
    blocks.push_back({c[s + 1] + encoded(s) + 1, c[s], 3, 1, s});
    blocks.push_back({c[s], c[s], 3, 1, s});
  }
  return blocks;
}

int64_t GeneratorConfig::full_size_maps() const {
  if (kind != GeneratorKind::Seed) {  // the first decoder block's input and output, or the output conv's
    const int64_t below = scale_channels.size() > 1 ? scale_channels[1] : 0;
    // The output conv's input and output, the logits and their softmax.
    const int64_t head = chroma_classes > 0 ? scale_channels.front() + 1 + head_rank + 2 * class_count() : 0;
    return std::max(2 * (below + 2 * scale_channels.front() + 1), head);
  }
  int64_t widest = 1;
  for (const auto& layer : hidden) widest = std::max(widest, layer.channels);
  return 2 * widest;  // one layer's input and output
}

double GeneratorConfig::flops(int64_t h, int64_t w) const {
  double flops = 0;
  if (kind == GeneratorKind::Seed) {
    for (size_t i = 0; i < hidden.size(); ++i) {
      flops += 2.0 * input_channels(i) * hidden[i].channels * hidden[i].kernel * hidden[i].kernel * h * w;
    }
    return flops + 2.0 * input_channels(hidden.size()) * 2 * output_kernel * output_kernel * h * w;
  }
  const int64_t full_h = h, full_w = w;
  std::vector<double> pixels{double(h) * w};
  for (size_t s = 1; s < scale_channels.size(); ++s) {
    h = (h + 1) / 2;
    w = (w + 1) / 2;
    pixels.push_back(double(h) * w);
  }
  for (const auto& b : encoder_decoder_blocks()) flops += 2.0 * b.in * b.out * b.kernel * b.kernel * pixels[b.scale];
  // (Conv1 counted over RGB, as MobileNetV2 has it: the folded one reads Y alone.)
  if (kind == GeneratorKind::PretrainedEncoder) flops += mobilenet_v2_flops(full_h, full_w, kEncoderBlocks);
  flops += 2.0 * (scale_channels.front() + 1) * output_channels() * output_kernel * output_kernel * pixels[0];
  if (chroma_classes == 0) return flops;
  // The cells' layer and the annealed mean, at the head's stride.
  return flops + 2.0 * (head_rank + 2) * class_count() * pixels[head_scale()];
}

size_t GeneratorConfig::head_scale() const {
  size_t scale = 0;
  while ((int64_t{1} << scale) < head_stride) ++scale;
  return scale;
}

bool GeneratorConfig::is_noisy(size_t layer) const {
  return std::count(noise_layers.begin(), noise_layers.end(), static_cast<int64_t>(layer)) > 0;
}

int64_t GeneratorConfig::input_channels(size_t layer) const {
  const int64_t previous = layer == 0 ? 0 : hidden[layer - 1].channels;
  return previous + 1 + (layer < hidden.size() && is_noisy(layer) ? 1 : 0);
}

void GeneratorConfig::check() const {
  // Far beyond any useful generator (the seed has 6 layers of <= 128 channels,
  // 0.6 M parameters), far below what a 2-core machine could not allocate.
  constexpr int64_t kMaxLayers = 64, kMaxChannels = 1024, kMaxKernel = 15, kMaxParameters = int64_t{1} << 26;
  auto fail = [](const std::string& what) { throw std::invalid_argument("generator config: " + what); };
  auto check_kernel = [&](int64_t k, const std::string& which) {
    if (k < 1 || k > kMaxKernel || k % 2 == 0) fail(which + " kernel " + std::to_string(k) + " is not odd in 1.." +
                                                      std::to_string(kMaxKernel));
  };
  if (kind != GeneratorKind::Seed) {
    constexpr size_t kMaxScales = 8;
    if (scale_channels.empty() || scale_channels.size() > kMaxScales) {
      fail(std::to_string(scale_channels.size()) + " scales (1.." + std::to_string(kMaxScales) + ")");
    }
    const size_t pretrained_scales = std::size(kEncoderTaps) + 1;
    if (kind == GeneratorKind::PretrainedEncoder && scale_channels.size() != pretrained_scales) {
      fail("the pretrained encoder's decoder has " + std::to_string(pretrained_scales) + " scales, not " +
           std::to_string(scale_channels.size()));
    }
    for (int64_t channels : scale_channels) {
      if (channels < 1 || channels > kMaxChannels) {
        fail("a scale has " + std::to_string(channels) + " channels (1.." + std::to_string(kMaxChannels) + ")");
      }
    }
    if (noise_input != NoiseInput::Plane) fail("the encoder-decoder takes its noise as a plane");
    check_kernel(output_kernel, "output");
    constexpr int64_t kMaxClasses = 32;
    if (chroma_classes != 0 && (chroma_classes < 3 || chroma_classes > kMaxClasses)) {
      fail(std::to_string(chroma_classes) + " chroma classes per side (0, or 3.." + std::to_string(kMaxClasses) + ")");
    }
    if (!(temperature >= 0.01 && temperature <= 100)) fail("temperature " + std::to_string(temperature) + " (0.01..100)");
    if (head_rank != 0 && (chroma_classes == 0 || head_rank < 1 || head_rank >= class_count())) {
      fail("head rank " + std::to_string(head_rank) + " (0, or 1..classes - 1 for a chroma-class head)");
    }
    const int64_t coarsest = int64_t{1} << (scale_channels.size() - 1);
    if (head_stride != 1 && (chroma_classes == 0 || head_stride < 1 || head_stride >= coarsest ||
                             (head_stride & (head_stride - 1)) != 0)) {
      fail("head stride " + std::to_string(head_stride) + " (1, or a power of 2 below " + std::to_string(coarsest) +
           " for a chroma-class head)");
    }
    const int64_t context = context_channels();
    int64_t parameters = context * (context + 1) +  // the global-context layer, the output conv and cells' layer
                         (scale_channels.front() + 2) * output_channels() * output_kernel * output_kernel +
                         (head_rank > 0 ? (head_rank + 1) * class_count() : 0);
    for (const auto& b : encoder_decoder_blocks()) parameters += b.in * b.out * b.kernel * b.kernel + 4 * b.out;
    if (parameters > kMaxParameters) fail(std::to_string(parameters) + " parameters (at most 2^26)");
    return;
  }
  if (chroma_classes != 0 || head_rank != 0 || head_stride != 1) {
    fail("the seed generator regresses U,V: it has no chroma classes");
  }
  if (hidden.empty() || static_cast<int64_t>(hidden.size()) > kMaxLayers) {
    fail(std::to_string(hidden.size()) + " hidden layers (1.." + std::to_string(kMaxLayers) + ")");
  }
  int64_t parameters = 0;
  for (size_t i = 0; i < hidden.size(); ++i) {
    if (hidden[i].channels < 1 || hidden[i].channels > kMaxChannels) {
      fail("layer " + std::to_string(i) + " has " + std::to_string(hidden[i].channels) + " channels (1.." +
           std::to_string(kMaxChannels) + ")");
    }
    check_kernel(hidden[i].kernel, "layer " + std::to_string(i));
    // At most previous + 2 inputs: counted before the noise layers are checked.
    const int64_t inputs = (i == 0 ? 0 : hidden[i - 1].channels) + 2;
    parameters += inputs * hidden[i].channels * hidden[i].kernel * hidden[i].kernel + 4 * hidden[i].channels;
  }
  check_kernel(output_kernel, "output");
  if (static_cast<int64_t>(noise_layers.size()) > kMaxLayers) fail("too many noise layers");
  for (int64_t layer : noise_layers) {
    if (layer < 0 || layer >= static_cast<int64_t>(hidden.size())) {
      fail("noise layer index " + std::to_string(layer) + " out of range");
    }
  }
  if (noise_input == NoiseInput::ProjectedVector) {
    if (noise_dim < 1 || noise_dim > 4096) fail("noise_dim " + std::to_string(noise_dim) + " (1..4096)");
    if (projected_size < 1 || projected_size > 1024) fail("projected_size " + std::to_string(projected_size) + " (1..1024)");
    parameters += (noise_dim + 1) * projected_size * projected_size;
  }
  if (parameters > kMaxParameters) fail(std::to_string(parameters) + " parameters (at most 2^26)");
}

GeneratorImpl::GeneratorImpl(GeneratorConfig config) : config_(std::move(config)) {
  config_.check();
  if (config_.kind != GeneratorKind::Seed) {
    if (config_.kind == GeneratorKind::PretrainedEncoder) {
      encoder_ = register_module("encoder", MobileNetV2(kEncoderBlocks));
      for (auto& p : encoder_->parameters()) p.requires_grad_(false);
      encoder_->eval();
    }
    for (const auto& b : config_.encoder_decoder_blocks()) {
      convs_->push_back(torch::nn::Conv2d(same_conv(b.in, b.out, b.kernel, b.stride, false)));
      norms_->push_back(torch::nn::BatchNorm2d(b.out));
    }
    const int64_t context = config_.context_channels(), first = config_.scale_channels.front();
    context_ = register_module("context", torch::nn::Linear(context, context));  // not "global": a Python keyword breaks the TorchScript archive
    output_ = torch::nn::Conv2d(same_conv(first + 1, config_.output_channels(), config_.output_kernel, 1, true));
    register_module("convs", convs_);
    register_module("norms", norms_);
    register_module("output", output_);
    if (config_.head_rank > 0) {
      cells_ = register_module("cells", torch::nn::Conv2d(same_conv(config_.head_rank, config_.class_count(), 1, 1, true)));
    }
    return;
  }
  for (size_t i = 0; i < config_.hidden.size(); ++i) {
    const auto& spec = config_.hidden[i];
    // No conv bias: the batch norm that follows has its own shift.
    convs_->push_back(torch::nn::Conv2d(same_conv(config_.input_channels(i), spec.channels, spec.kernel, 1, false)));
    norms_->push_back(torch::nn::BatchNorm2d(spec.channels));
  }
  output_ = torch::nn::Conv2d(
      same_conv(config_.input_channels(config_.hidden.size()), 2, config_.output_kernel, 1, true));
  register_module("convs", convs_);
  register_module("norms", norms_);
  register_module("output", output_);
  if (config_.noise_input == NoiseInput::ProjectedVector) {
    projection_ = register_module(
        "projection", torch::nn::Linear(config_.noise_dim, config_.projected_size * config_.projected_size));
  }
}

torch::Tensor GeneratorImpl::forward(const torch::Tensor& y, const torch::Tensor& noise) {
  return decode_head(head(y, noise), {y.size(2), y.size(3)});
}

torch::Tensor GeneratorImpl::decode_head(const torch::Tensor& head, at::IntArrayRef size) const {
  if (config_.chroma_classes == 0) return head;
  const auto uv = annealed_mean(head, config_.chroma_classes, config_.temperature);
  return config_.head_stride == 1 ? uv : upsample_chroma(uv, size);
}

torch::Tensor GeneratorImpl::head(const torch::Tensor& y, const torch::Tensor& noise) {
  check_generator_inputs(config_, y, noise);
  if (config_.kind != GeneratorKind::Seed) {
    return run_encoder_decoder(
        config_, y, noise,
        [&](size_t i, const torch::Tensor& x) {
          return torch::relu(batch_norm(*norms_[i]->as<torch::nn::BatchNorm2d>(), convs_[i]->as<torch::nn::Conv2d>()->forward(x)));
        },
        [&](const torch::Tensor& v) { return torch::relu(context_->forward(v)); },
        [&](const torch::Tensor& x, at::IntArrayRef head_size) {
          auto out = output_->forward(x);
          if (config_.chroma_classes == 0) return torch::sigmoid(out);
          if (config_.head_stride > 1) out = average_to(out, head_size);
          return cells_ ? cells_->forward(out) : out;
        },
        [&](const torch::Tensor& luma) {
          // A gray image in RGB is R = G = B = Y.
          return encoder_->features(luma.expand({-1, 3, -1, -1}),
                                    std::vector<int>(std::begin(kEncoderTaps), std::end(kEncoderTaps)));
        });
  }
  const torch::Tensor noise_plane =
      config_.noise_input == NoiseInput::ProjectedVector
          ? projection_->forward(noise).view({-1, 1, config_.projected_size, config_.projected_size})
          : noise;

  torch::Tensor x;
  for (size_t i = 0; i < convs_->size(); ++i) {
    std::vector<torch::Tensor> inputs;
    if (x.defined()) inputs.push_back(x);
    inputs.push_back(y);
    if (config_.is_noisy(i)) inputs.push_back(noise_plane);
    x = convs_[i]->as<torch::nn::Conv2d>()->forward(torch::cat(inputs, 1));
    x = torch::relu(batch_norm(*norms_[i]->as<torch::nn::BatchNorm2d>(), x));
  }
  return torch::sigmoid(output_->forward(torch::cat({x, y}, 1)));
}

void GeneratorImpl::load_encoder(const MobileNetV2Impl& pretrained) {
  if (!encoder_) throw std::logic_error("load_encoder: a " + std::string(to_string(config_.kind)) + " generator has no pretrained encoder");
  torch::NoGradGuard no_grad;
  const auto from = floating_weights(pretrained);
  for (auto& w : floating_weights(*encoder_)) {
    const torch::Tensor* source = from.find(w.key());
    if (source == nullptr || source->sizes() != w.value().sizes()) {
      throw std::invalid_argument("load_encoder: the pretrained network has no " + w.key() + " of the encoder's shape");
    }
    w.value().copy_(*source);
  }
}

void GeneratorImpl::train(bool on) {
  torch::nn::Module::train(on);
  if (encoder_) encoder_->eval();  // frozen: its batch-norm statistics are ImageNet's
}

DiscriminatorImpl::DiscriminatorImpl(DiscriminatorConfig config) : config_(std::move(config)) {
  int64_t in = 3;
  int64_t side = config_.image_size;
  for (int64_t channels : config_.channels) {
    convs_->push_back(torch::nn::Conv2d(same_conv(in, channels, config_.kernel, 2, !config_.batch_norm)));
    if (config_.batch_norm) norms_->push_back(torch::nn::BatchNorm2d(channels));
    in = channels;
    side = (side + 1) / 2;  // stride 2 with "same" padding
  }
  register_module("convs", convs_);
  register_module("norms", norms_);
  fc1_ = register_module("fc1", torch::nn::Linear(in * side * side, config_.fc_hidden));
  fc2_ = register_module("fc2", torch::nn::Linear(config_.fc_hidden, 1));
}

torch::Tensor DiscriminatorImpl::forward(const torch::Tensor& yuv) {
  if (yuv.dim() != 4 || yuv.size(1) != 3 || yuv.size(2) != config_.image_size || yuv.size(3) != config_.image_size) {
    throw std::invalid_argument("discriminator: input must be [N,3," + std::to_string(config_.image_size) + "," +
                                std::to_string(config_.image_size) + "]");
  }
  namespace F = torch::nn::functional;
  const auto leaky = F::LeakyReLUFuncOptions().negative_slope(config_.leaky_slope);
  torch::Tensor x = yuv;
  for (size_t i = 0; i < convs_->size(); ++i) {
    x = convs_[i]->as<torch::nn::Conv2d>()->forward(x);
    if (config_.batch_norm) x = batch_norm(*norms_[i]->as<torch::nn::BatchNorm2d>(), x);
    x = F::leaky_relu(x, leaky);
  }
  x = F::leaky_relu(fc1_->forward(x.flatten(1)), leaky);
  return fc2_->forward(x).squeeze(1);
}

FoldedGenerator::FoldedGenerator(GeneratorImpl& generator) : config_(generator.config()) {
  torch::NoGradGuard no_grad;
  auto params = generator.named_parameters();
  auto modules = generator.named_modules();
  const size_t convs = config_.kind == GeneratorKind::Seed ? config_.hidden.size()
                                                           : config_.encoder_decoder_blocks().size();
  // Per conv (then the output conv): the folded weight and bias.
  std::vector<torch::Tensor> weights, biases;
  for (size_t i = 0; i < convs; ++i) {
    auto [weight, bias] = fold_batch_norm(params["convs." + std::to_string(i) + ".weight"],
                                          *modules["norms." + std::to_string(i)]->as<torch::nn::BatchNorm2d>());
    weights.push_back(weight);
    biases.push_back(bias);
  }
  if (config_.kind != GeneratorKind::Seed) {
    const auto specs = config_.encoder_decoder_blocks();
    for (size_t i = 0; i < convs; ++i) {
      blocks_.push_back({weights[i].contiguous(torch::MemoryFormat::ChannelsLast), biases[i], specs[i].stride, 1,
                         specs[i].kernel / 2});
    }
    // A chroma-class head's 1 / temperature goes into its last layer: softmax(conv(x) / T) = softmax((conv / T)(x)).
    const double scale = config_.chroma_classes > 0 ? 1.0 / config_.temperature : 1.0;
    const double output_scale = config_.head_rank > 0 ? 1.0 : scale;
    blocks_.push_back({(params["output.weight"] * output_scale).contiguous(torch::MemoryFormat::ChannelsLast),
                       params["output.bias"] * output_scale, 1, 1, config_.output_kernel / 2});
    if (config_.chroma_classes > 0) class_centres_ = chroma_class_centres(config_.chroma_classes);
    if (config_.head_rank > 0) {
      class_cells_weight_ = params["cells.weight"].flatten(1) * scale;
      class_cells_bias_ = params["cells.bias"] * scale;
    }
    context_weight_ = params["context.weight"].clone();
    context_bias_ = params["context.bias"].clone();
    if (config_.kind == GeneratorKind::PretrainedEncoder) fold_pretrained_encoder(*generator.encoder());
    return;
  }
  weights.push_back(params["output.weight"]);
  biases.push_back(params["output.bias"]);

  int64_t previous = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    const torch::Tensor& w = weights[i];
    const bool noisy = config_.is_noisy(i);
    auto side = torch::zeros({w.size(0), 2, w.size(2), w.size(3)});
    side.narrow(1, 0, noisy ? 2 : 1).copy_(w.narrow(1, previous, noisy ? 2 : 1));
    Layer layer;
    if (previous > 0) layer.weight = w.narrow(1, 0, previous).contiguous(torch::MemoryFormat::ChannelsLast);
    layer.side_weight = side.contiguous(torch::MemoryFormat::ChannelsLast);
    layer.bias = biases[i].clone();
    layer.padding = w.size(2) / 2;
    layers_.push_back(layer);
    previous = w.size(0);
  }
  if (config_.noise_input == NoiseInput::ProjectedVector) {
    projection_weight_ = params["projection.weight"].clone();
    projection_bias_ = params["projection.bias"].clone();
  }
  group_side_convs();
}

void FoldedGenerator::fold_pretrained_encoder(const MobileNetV2Impl& net) {
  auto fold = [](const torch::nn::Conv2d& conv, const torch::nn::BatchNorm2d& norm, bool over_y = false) {
    auto [weight, bias] = fold_batch_norm(conv->weight, *norm);
    if (over_y) weight = weight.sum(1, true);  // conv(RGB = (Y, Y, Y)) = conv_summed(Y)
    Conv c{weight.contiguous(torch::MemoryFormat::ChannelsLast), bias, conv->options.stride()->at(0),
           conv->options.groups()};
    c.pad_for_stride_2 = c.stride == 2;
    c.padding = c.stride == 2 ? 0 : weight.size(2) / 2;
    return c;
  };
  encoder_conv1_ = fold(net.conv1(), net.conv1_bn(), true);
  for (const auto& b : net.blocks()) {
    InvertedResidual folded{{}, fold(b.depthwise, b.depthwise_bn), fold(b.project, b.project_bn), b.residual};
    if (b.expand) folded.expand = fold(b.expand, b.expand_bn);
    encoder_blocks_.push_back(folded);
  }
}

torch::Tensor FoldedGenerator::Conv::operator()(const torch::Tensor& x) const {
  return torch::conv2d(pad_for_stride_2 ? colorgan::pad_for_stride_2(x) : x, weight, bias, stride, padding, 1, groups);
}

std::vector<torch::Tensor> FoldedGenerator::run_pretrained_encoder(const torch::Tensor& y) const {
  auto taps = run_inverted_residuals(
      encoder_conv1_(y.to(encoder_conv1_.weight.scalar_type())).clamp_(0, 6), encoder_blocks_,
      [](const Conv& c, const torch::Tensor& x) { return c(x); },
      [](torch::Tensor x) { return x.clamp_(0, 6); },  // every value here is fresh: in place is safe
      [](torch::Tensor a, const torch::Tensor& b) { return a.add_(b); });
  for (auto& t : taps) t = t.to(y.scalar_type());  // the decoder's dtype
  return taps;
}

void FoldedGenerator::group_side_convs() {
  side_groups_.clear();
  output_hi_lo_ = torch::Tensor();
  if (layers_.empty()) return;
  // bf16: the output conv's side stays on its own in fp32, its main conv gets hi/lo halves.
  const bool split_output = layers_.front().side_weight.scalar_type() == torch::kBFloat16;
  std::vector<std::vector<size_t>> groups;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& layer = layers_[i];
    const bool alone = split_output && i + 1 == layers_.size();
    if (i == 0 || alone || layer.padding != layers_[i - 1].padding ||
        layer.side_weight.scalar_type() != layers_[i - 1].side_weight.scalar_type()) {
      groups.emplace_back();
    }
    groups.back().push_back(i);
  }
  for (const auto& group : groups) {
    std::vector<torch::Tensor> weights, biases;
    int64_t offset = 0;
    for (size_t i : group) {
      layers_[i].side_group = side_groups_.size();
      layers_[i].side_offset = offset;
      offset += layers_[i].side_weight.size(0);
      weights.push_back(layers_[i].side_weight);
      biases.push_back(layers_[i].bias);
    }
    side_groups_.push_back({torch::cat(weights).contiguous(torch::MemoryFormat::ChannelsLast), torch::cat(biases),
                            layers_[group.front()].padding});
  }
  if (split_output) {
    const torch::Tensor weight = layers_.back().weight.to(torch::kFloat);
    const torch::Tensor hi = weight.to(torch::kBFloat16);
    output_hi_lo_ = torch::cat({hi, (weight - hi.to(torch::kFloat)).to(torch::kBFloat16)})
                        .contiguous(torch::MemoryFormat::ChannelsLast);
  }
}

void FoldedGenerator::to(const torch::Device& device, torch::ScalarType dtype) {
  // The output conv stays in float whatever the dtype: in bf16 it alone moved
  // the chroma of a real photo by up to 2 8-bit levels (test_training_data: Precision.*).
  auto move = [&](torch::Tensor& t, bool keep_float) { t = t.to(device, keep_float ? torch::kFloat : dtype); };
  for (size_t i = 0; i < blocks_.size(); ++i) {  // .to keeps channels_last
    move(blocks_[i].weight, i + 1 == blocks_.size());
    move(blocks_[i].bias, i + 1 == blocks_.size());
  }
  for (auto* t : {&class_centres_, &class_cells_weight_, &class_cells_bias_}) {
    if (t->defined()) move(*t, true);
  }
  if (context_weight_.defined()) {
    move(context_weight_, false);
    move(context_bias_, false);
  }
  // The pretrained encoder stays in float too: 13 blocks of bf16 rounding moved a real
  // photo's chroma by up to 8 levels (test_training_data: Precision.*); its decoder does not.
  auto move_conv = [&](Conv& c) {
    if (!c.weight.defined()) return;
    move(c.weight, true);
    move(c.bias, true);
  };
  move_conv(encoder_conv1_);
  for (auto& b : encoder_blocks_) {
    move_conv(b.expand);
    move_conv(b.depthwise);
    move_conv(b.project);
  }
  for (size_t i = 0; i < layers_.size(); ++i) {
    if (layers_[i].weight.defined()) move(layers_[i].weight, i + 1 == layers_.size());
    move(layers_[i].side_weight, i + 1 == layers_.size());
    move(layers_[i].bias, i + 1 == layers_.size());
  }
  if (projection_weight_.defined()) {
    move(projection_weight_, false);
    move(projection_bias_, false);
  }
  group_side_convs();
}

torch::Tensor FoldedGenerator::forward_encoder_decoder(const torch::Tensor& y_in, const torch::Tensor& noise) const {
  const auto dtype = blocks_.front().weight.scalar_type();
  const auto y = y_in.to(dtype).contiguous(torch::MemoryFormat::ChannelsLast);
  return run_encoder_decoder(
             config_, y, noise.to(dtype).contiguous(torch::MemoryFormat::ChannelsLast),
             [&](size_t i, const torch::Tensor& x) { return blocks_[i](x).relu_(); },
             [&](const torch::Tensor& v) { return torch::addmm(context_bias_, v, context_weight_.t()).relu_(); },
             [&](const torch::Tensor& x, at::IntArrayRef head_size) {
               auto out = blocks_.back()(x.to(torch::kFloat));
               if (!class_centres_.defined()) return out.sigmoid_();
               if (config_.head_stride > 1) out = average_to(out, head_size);
               // Over the cells as the last dimension (NHWC): LibTorch 1.13's softmax along dim 1 of a
               // channels_last tensor took 23 ms at 64x114, along the last 1.1 ms.
               const auto nhwc = out.permute({0, 2, 3, 1}).contiguous();
               torch::Tensor uv;
               if (nhwc.is_cpu()) {
                 uv = softmax_centres(nhwc.view({-1, nhwc.size(3)}), class_centres_, class_cells_weight_,
                                      class_cells_bias_)
                          .view({nhwc.size(0), nhwc.size(1), nhwc.size(2), 2});
               } else {
                 const auto logits = class_cells_weight_.defined()
                                         ? torch::linear(nhwc, class_cells_weight_, class_cells_bias_)
                                         : nhwc;
                 uv = torch::matmul(logits.softmax(-1), class_centres_);
               }
               uv = uv.permute({0, 3, 1, 2});
               return config_.head_stride == 1 ? uv : upsample_chroma(uv, {x.size(2), x.size(3)});
             },
             [&](const torch::Tensor& luma) { return run_pretrained_encoder(luma); }, true)
      .to(torch::kFloat)
      .contiguous();
}

torch::Tensor FoldedGenerator::forward(const torch::Tensor& y_in, const torch::Tensor& noise) const {
  check_generator_inputs(config_, y_in, noise);
  if (config_.kind != GeneratorKind::Seed) return forward_encoder_decoder(y_in, noise);
  const auto dtype = layers_.front().side_weight.scalar_type();
  const auto y = y_in.to(dtype);
  const torch::Tensor noise_plane =
      config_.noise_input == NoiseInput::ProjectedVector
          ? torch::addmm(projection_bias_, noise.to(dtype), projection_weight_.t())
                .view({-1, 1, config_.projected_size, config_.projected_size})
          : noise;
  const auto inputs = torch::cat({y, noise_plane.to(dtype)}, 1).contiguous(torch::MemoryFormat::ChannelsLast);
  std::vector<torch::Tensor> sides;
  for (const SideGroup& group : side_groups_) {
    sides.push_back(torch::conv2d(inputs.to(group.weight.scalar_type()), group.weight, group.bias, 1, group.padding));
  }
  torch::Tensor x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& layer = layers_[i];
    const auto side = sides[layer.side_group].narrow(1, layer.side_offset, layer.side_weight.size(0));
    const bool output = i + 1 == layers_.size();
    if (!layer.weight.defined()) {
      x = side.contiguous(torch::MemoryFormat::ChannelsLast);  // a copy only where the group holds more
    } else if (output && output_hi_lo_.defined()) {
      const auto halves = torch::conv2d(x, output_hi_lo_, {}, 1, layer.padding).to(torch::kFloat);
      const int64_t channels = layer.weight.size(0);
      x = halves.narrow(1, 0, channels).add(halves.narrow(1, channels, channels)).add_(side);
    } else {
      x = torch::conv2d(x.to(layer.weight.scalar_type()), layer.weight, {}, 1, layer.padding).add_(side);
    }
    x = output ? torch::sigmoid_(x) : torch::relu_(x);
  }
  return x.to(torch::kFloat).contiguous();
}

std::string FoldedGenerator::write_graph(GraphWriter& w) const {
  auto cpu = [](const torch::Tensor& t) { return t.defined() ? t.to(torch::kCPU, torch::kFloat).contiguous() : t; };
  const auto conv = [&](const Conv& c, std::string x) {
    if (c.pad_for_stride_2) x = w.pad_for_stride_2(x);
    return w.conv(x, cpu(c.weight), cpu(c.bias), c.stride, c.groups, c.padding);
  };
  if (config_.kind != GeneratorKind::Seed) {
    // run_encoder_decoder's wiring, step for step.
    auto block = [&](size_t b, const std::string& x) { return w.relu(conv(blocks_[b], x)); };
    const size_t scales = config_.scale_channels.size();
    size_t b = 0;
    std::vector<std::string> skips;
    std::string x = w.cat({"y", "noise"});
    while (b < config_.own_encoder_blocks()) {
      x = block(b++, x);
      x = block(b++, x);
      skips.push_back(x);
    }
    if (config_.kind == GeneratorKind::PretrainedEncoder) {  // run_pretrained_encoder's steps
      for (auto& maps : run_inverted_residuals(
               w.relu6(conv(encoder_conv1_, "y")), encoder_blocks_, conv,
               [&](const std::string& v) { return w.relu6(v); },
               [&](const std::string& a, const std::string& b) { return w.add(a, b); })) {
        skips.push_back(maps);
      }
      x = skips.back();
    }
    x = block(b++, w.cat({x, w.global_context(x, cpu(context_weight_), cpu(context_bias_))}));
    for (size_t s = scales - 1; s-- > 0;) {
      x = w.upsample_to(x, skips[s], 2);
      const std::string y_here = s == 0 ? "y" : w.pool_to("y", skips[s], int64_t{1} << s);
      x = block(b++, w.cat({x, skips[s], y_here}));
      x = block(b++, x);
    }
    std::string out = conv(blocks_.back(), w.cat({x, "y"}));
    if (!class_centres_.defined()) return w.sigmoid(out);
    const int64_t stride = config_.head_stride;
    if (stride > 1) out = w.pool_to(out, skips[config_.head_scale()], stride);
    if (class_cells_weight_.defined()) {
      out = w.conv(out, cpu(class_cells_weight_).unsqueeze(-1).unsqueeze(-1), cpu(class_cells_bias_), 1, 1, 0);
    }
    const int64_t classes = class_centres_.size(0);
    const std::string uv =
        w.conv(w.softmax(out), cpu(class_centres_).t().reshape({2, classes, 1, 1}), torch::Tensor(), 1, 1, 0);
    return stride == 1 ? uv : w.upsample_to(uv, "y", stride);
  }
  std::string noise = "noise";
  if (config_.noise_input == NoiseInput::ProjectedVector) {
    noise = w.project_noise(noise, cpu(projection_weight_), cpu(projection_bias_), config_.projected_size);
  }
  const std::string inputs = w.cat({"y", noise});
  std::string x;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const Layer& layer = layers_[i];
    const int64_t pad = layer.padding;
    const std::string side = w.conv(inputs, cpu(layer.side_weight), cpu(layer.bias), 1, 1, pad);
    x = layer.weight.defined() ? w.add(w.conv(x, cpu(layer.weight), torch::Tensor(), 1, 1, pad), side) : side;
    x = i + 1 < layers_.size() ? w.relu(x) : w.sigmoid(x);
  }
  return x;
}

namespace {

// Writes TorchScript source, one statement per call; the weights become the module's parameters.
class TorchScriptWriter : public GraphWriter {
 public:
  explicit TorchScriptWriter(torch::jit::Module& module) : module_(module) {}
  std::string source(const std::string& output) const {
    return "def forward(self, y: Tensor, noise: Tensor) -> Tensor:\n" + body_.str() + "    return " + output + "\n";
  }

  std::string conv(const std::string& x, const torch::Tensor& weight, const torch::Tensor& bias, int64_t stride,
                   int64_t groups, int64_t pad) override {
    return let("torch.conv2d(" + x + ", " + param(weight) + ", " + (bias.defined() ? param(bias) : "None") + ", [" +
               std::to_string(stride) + ", " + std::to_string(stride) + "], [" + std::to_string(pad) + ", " +
               std::to_string(pad) + "], [1, 1], " + std::to_string(groups) + ")");
  }
  std::string pad_for_stride_2(const std::string& x) override {
    return let("torch.constant_pad_nd(" + x + ", [" + x + ".size(3) % 2, 1, " + x + ".size(2) % 2, 1], 0.0)");
  }
  std::string add(const std::string& a, const std::string& b) override { return let(a + " + " + b); }
  std::string relu(const std::string& x) override { return let("torch.relu(" + x + ")"); }
  std::string relu6(const std::string& x) override { return let("torch.clamp(" + x + ", 0.0, 6.0)"); }
  std::string sigmoid(const std::string& x) override { return let("torch.sigmoid(" + x + ")"); }
  std::string softmax(const std::string& x) override { return let("torch.softmax(" + x + ", 1)"); }
  std::string cat(const std::vector<std::string>& xs) override {
    std::string list;
    for (const auto& x : xs) list += (list.empty() ? "" : ", ") + x;
    return let("torch.cat([" + list + "], 1)");
  }
  std::string project_noise(const std::string& noise, const torch::Tensor& weight, const torch::Tensor& bias,
                            int64_t size) override {
    return let("torch.addmm(" + param(bias) + ", " + noise + ", " + param(weight) + ".t()).view([-1, 1, " +
               std::to_string(size) + ", " + std::to_string(size) + "])");
  }
  std::string global_context(const std::string& x, const torch::Tensor& weight, const torch::Tensor& bias) override {
    return let("torch.relu(torch.addmm(" + param(bias) + ", torch.mean(" + x + ", [2, 3]), " + param(weight) +
               ".t())).unsqueeze(2).unsqueeze(3).expand_as(" + x + ")");
  }
  std::string upsample_to(const std::string& x, const std::string& like, int64_t) override {
    return let("torch.upsample_bilinear2d(" + x + ", [" + like + ".size(2), " + like + ".size(3)], False, None, None)");
  }
  std::string pool_to(const std::string& y, const std::string& like, int64_t) override {
    return let("torch.adaptive_avg_pool2d(" + y + ", [" + like + ".size(2), " + like + ".size(3)])");
  }

 private:
  std::string let(const std::string& expression) {
    const std::string name = "v" + std::to_string(values_++);
    body_ << "    " << name << " = " << expression << "\n";
    return name;
  }
  std::string param(const torch::Tensor& t) {
    const std::string name = "p" + std::to_string(params_++);
    module_.register_parameter(name, t, false);
    return "self." + name;
  }
  torch::jit::Module& module_;
  std::ostringstream body_;
  int values_ = 0, params_ = 0;
};

}  // namespace

torch::jit::Module FoldedGenerator::to_torchscript() const {
  // aten ops only: the module loads without colorgan.
  torch::jit::Module module("colorgan_generator");
  TorchScriptWriter writer(module);
  const std::string output = write_graph(writer);
  module.define(writer.source(output));
  module.eval();
  return module;
}

void copy_weights(const GeneratorImpl& from, GeneratorImpl& to) {
  torch::NoGradGuard no_grad;
  auto source = from.named_parameters();
  for (auto& p : to.named_parameters()) p.value().copy_(source[p.key()]);
  auto source_buffers = from.named_buffers();
  for (auto& b : to.named_buffers()) b.value().copy_(source_buffers[b.key()]);
}

void shift_chroma_class_logits(GeneratorImpl& generator, const at::Tensor& shift) {
  const GeneratorConfig& c = generator.config();
  if (c.chroma_classes == 0) throw std::invalid_argument("shift_chroma_class_logits: the generator regresses U,V");
  if (shift.dim() != 1 || shift.size(0) != c.class_count()) {
    throw std::invalid_argument("shift_chroma_class_logits: needs " + std::to_string(c.class_count()) + " shifts");
  }
  torch::NoGradGuard no_grad;
  auto params = generator.named_parameters();
  auto& bias = params[c.head_rank > 0 ? "cells.bias" : "output.bias"];
  bias.add_(shift.to(bias.options()));
}

void copy_weights_across_heads(const GeneratorImpl& from, GeneratorImpl& to) {
  const GeneratorConfig& source = from.config();
  const GeneratorConfig& target = to.config();
  GeneratorConfig same_head = target;  // `from`'s head on `to`'s other layers
  same_head.chroma_classes = source.chroma_classes;
  same_head.temperature = source.temperature;
  same_head.head_rank = source.head_rank;
  same_head.head_stride = source.head_stride;
  if (!(same_head == source)) throw std::invalid_argument("copy_weights_across_heads: the generators differ outside their heads");
  if (source.chroma_classes == target.chroma_classes && source.head_rank == target.head_rank) {
    return copy_weights(from, to);  // the same layers (the temperature and stride aside)
  }
  if (target.chroma_classes == 0) throw std::invalid_argument("copy_weights_across_heads: a chroma-class head cannot become U,V");
  if (source.chroma_classes != 0 && source.chroma_classes != target.chroma_classes) {
    throw std::invalid_argument("copy_weights_across_heads: " + std::to_string(source.chroma_classes) + " and " +
                                std::to_string(target.chroma_classes) + " chroma classes per side");
  }
  torch::NoGradGuard no_grad;
  auto weights = from.named_parameters();
  auto params = to.named_parameters();
  for (auto& p : params) {
    if (p.key().rfind("output.", 0) != 0 && p.key().rfind("cells.", 0) != 0) p.value().copy_(weights[p.key()]);
  }
  auto buffers = from.named_buffers();  // batch norm's, none in the head
  for (auto& b : to.named_buffers()) b.value().copy_(buffers[b.key()]);
  // `from`'s head as one conv to the logits.
  at::Tensor weight = weights["output.weight"], bias = weights["output.bias"];
  if (source.chroma_classes == 0) {
    std::tie(weight, bias) = chroma_class_head_like(weight, bias, target.chroma_classes);
  } else if (source.head_rank > 0) {
    const auto cells = weights["cells.weight"].flatten(1);
    weight = cells.matmul(weight.flatten(1)).view({cells.size(0), weight.size(1), weight.size(2), weight.size(3)});
    bias = cells.matmul(bias) + weights["cells.bias"];
  }
  if (target.head_rank == 0) {
    params["output.weight"].copy_(weight);
    params["output.bias"].copy_(bias);
    return;
  }
  const FactoredClassHead head = factor_chroma_class_head(weight, bias, target.head_rank);
  params["output.weight"].copy_(head.weight);
  params["output.bias"].copy_(head.bias);
  params["cells.weight"].copy_(head.cells_weight);
  params["cells.bias"].copy_(head.cells_bias);
}

int64_t parameter_count(const torch::nn::Module& module) {
  int64_t count = 0;
  for (const auto& p : module.parameters()) count += p.numel();
  return count;
}

torch::OrderedDict<std::string, torch::Tensor> floating_weights(const torch::nn::Module& module) {
  auto weights = module.named_parameters();
  for (const auto& buffer : module.named_buffers()) {
    if (buffer.value().is_floating_point()) weights.insert(buffer.key(), buffer.value());
  }
  return weights;
}

}  // namespace colorgan
