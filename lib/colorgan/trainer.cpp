#include "colorgan/trainer.h"

#include "colorgan/backbone.h"
#include "colorgan/colorspace.h"
#include "colorgan/engine.h"
#include "colorgan/errors.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/autocast_mode.h>
#include <torch/autograd.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/functional/pooling.h>
#include <torch/optim/adam.h>
#include <torch/optim/rmsprop.h>
#include <torch/serialize.h>
#include <torch/utils.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>
#include <sstream>

namespace colorgan {
namespace {

// The chroma cell of every pixel, u * kChromaBins + v: long [N,1,H,W].
torch::Tensor chroma_cells(const torch::Tensor& uv) {
  const auto cell = (uv * kChromaBins).floor().clamp(0, kChromaBins - 1).to(torch::kLong);
  return cell.narrow(1, 0, 1) * kChromaBins + cell.narrow(1, 1, 1);
}

// Noise and penalty samples of step s come from their own generator, seeded from (seed, s).
uint64_t step_seed(uint64_t seed, int64_t step, uint64_t salt) {
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + static_cast<uint64_t>(step) * 0xBF58476D1CE4E5B9ull + salt;
  x ^= x >> 31;
  return x * 0x94D049BB133111EBull;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainOptions& o, std::vector<torch::Tensor> params,
                                                        double lr) {
  if (o.optimizer == OptimizerKind::Adam) {
    return std::make_unique<torch::optim::Adam>(params,
                                                torch::optim::AdamOptions(lr).betas({o.beta1, o.beta2}));
  }
  return std::make_unique<torch::optim::RMSprop>(params, torch::optim::RMSpropOptions(lr).alpha(o.rms_alpha));
}

// bf16 autocast on the trainer's device for the guard's lifetime (no-op when off).
class AutocastGuard {
 public:
  AutocastGuard(bool on, const torch::Device& device) : on_(on), cuda_(device.is_cuda()) {
    if (!on_) return;
    if (cuda_) {
      at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
      at::autocast::set_enabled(true);
    } else {
      at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
      at::autocast::set_cpu_enabled(true);
    }
  }
  ~AutocastGuard() {
    if (!on_) return;
    if (cuda_) {
      at::autocast::set_enabled(false);
    } else {
      at::autocast::set_cpu_enabled(false);
    }
    at::autocast::clear_cache();
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool on_, cuda_;
};

}  // namespace

const char* to_string(GanLoss loss) { return loss == GanLoss::CrossEntropy ? "gan" : "wgan-gp"; }
const char* to_string(OptimizerKind optimizer) { return optimizer == OptimizerKind::Adam ? "adam" : "rmsprop"; }

GanLoss parse_gan_loss(const std::string& name) {
  if (name == "gan") return GanLoss::CrossEntropy;
  if (name == "wgan-gp") return GanLoss::WganGp;
  throw std::invalid_argument("unknown loss '" + name + "' (expected gan or wgan-gp)");
}

OptimizerKind parse_optimizer(const std::string& name) {
  if (name == "adam") return OptimizerKind::Adam;
  if (name == "rmsprop") return OptimizerKind::RMSprop;
  throw std::invalid_argument("unknown optimizer '" + name + "' (expected adam or rmsprop)");
}

TrainOptions TrainOptions::preset(const std::string& name) {
  TrainOptions o;
  if (name == "default") return o;
  if (name == "seed") {
    o.loss = GanLoss::CrossEntropy;
    o.optimizer = OptimizerKind::RMSprop;
    o.lr_g = o.lr_d = 0.01;
    o.rms_alpha = 0.9;
    o.batch = 128;
    o.size = 64;
    o.steps = 5000;
    o.l1_weight = 0.0;
    o.real_label = 1.0;
    return o;
  }
  throw std::invalid_argument("unknown training preset '" + name + "' (expected default or seed)");
}

std::string TrainOptions::to_json() const {
  nlohmann::ordered_json j;
  j["generator_preset"] = generator_preset;
  j["loss"] = to_string(loss);
  j["optimizer"] = to_string(optimizer);
  j["lr_g"] = lr_g;
  j["lr_d"] = lr_d;
  j["beta1"] = beta1;
  j["beta2"] = beta2;
  j["rms_alpha"] = rms_alpha;
  j["batch"] = batch;
  j["steps"] = steps;
  j["size"] = size;
  j["l1_weight"] = l1_weight;
  j["real_label"] = real_label;
  j["critic_steps"] = critic_steps;
  j["gp_weight"] = gp_weight;
  j["fc_hidden"] = fc_hidden;
  j["noise"] = colorgan::to_string(noise);
  j["seed"] = seed;
  j["device"] = device;
  j["amp"] = amp;
  j["ema"] = ema;
  j["lr_decay_from"] = lr_decay_from;
  j["feature_weight"] = feature_weight;
  j["stability_weight"] = stability_weight;
  j["stability_noise"] = stability_noise;
  j["rebalance"] = rebalance;
  j["class_weight"] = class_weight;
  j["encoder_lr"] = encoder_lr;
  j["backbone"] = backbone;
  j["init_from"] = init_from;
  return j.dump(2) + "\n";
}

TrainOptions TrainOptions::from_json(const std::string& json) {
  try {
    const auto j = nlohmann::json::parse(json);
    TrainOptions o;
    o.generator_preset = j.at("generator_preset").get<std::string>();
    o.loss = parse_gan_loss(j.at("loss").get<std::string>());
    o.optimizer = parse_optimizer(j.at("optimizer").get<std::string>());
    j.at("lr_g").get_to(o.lr_g);
    j.at("lr_d").get_to(o.lr_d);
    j.at("beta1").get_to(o.beta1);
    j.at("beta2").get_to(o.beta2);
    j.at("rms_alpha").get_to(o.rms_alpha);
    j.at("batch").get_to(o.batch);
    j.at("steps").get_to(o.steps);
    j.at("size").get_to(o.size);
    j.at("l1_weight").get_to(o.l1_weight);
    j.at("real_label").get_to(o.real_label);
    j.at("critic_steps").get_to(o.critic_steps);
    j.at("gp_weight").get_to(o.gp_weight);
    j.at("fc_hidden").get_to(o.fc_hidden);
    o.noise = parse_noise_distribution(j.at("noise").get<std::string>());
    j.at("seed").get_to(o.seed);
    j.at("device").get_to(o.device);
    const auto& amp = j.at("amp");  // runs before this writer stored 0 or 1
    o.amp = amp.is_boolean() ? amp.get<bool>() : amp.get<int>() != 0;
    // Added later: runs written before them had them off.
    o.ema = j.value("ema", 0.0);
    o.lr_decay_from = j.value("lr_decay_from", int64_t{0});
    o.feature_weight = j.value("feature_weight", 0.0);
    o.stability_weight = j.value("stability_weight", 0.0);
    o.stability_noise = j.value("stability_noise", 0.02);
    o.rebalance = j.value("rebalance", 0.0);
    o.class_weight = j.value("class_weight", 1.0);
    o.encoder_lr = j.value("encoder_lr", 0.0);
    o.backbone = j.value("backbone", std::string());
    o.init_from = j.value("init_from", std::string());
    return o;
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(std::string("training config: ") + e.what());
  }
}

struct Trainer::Impl {
  TrainOptions options;
  torch::Device device;
  std::shared_ptr<Collectives> group;  // null or world size 1: one process
  Generator generator{nullptr};
  Generator average{nullptr};  // moving average of generator's weights (options.ema > 0)
  Discriminator discriminator{nullptr};
  MobileNetV2 backbone{nullptr};  // options.feature_weight > 0: frozen, eval mode
  std::unique_ptr<torch::optim::Optimizer> g_optimizer, d_optimizer;
  int64_t step = 0;
  torch::Tensor chroma_weights;  // options.rebalance > 0: per chroma cell, flat

  Impl(const TrainOptions& o, std::shared_ptr<Collectives> g)
      : options(o), device(resolve_device(o.device)), group(g && g->world_size() > 1 ? std::move(g) : nullptr) {
    if (o.batch < 1 || o.size < 1 || o.critic_steps < 1) {
      throw std::invalid_argument("batch, size and critic steps must be positive");
    }
    if (o.ema < 0 || o.ema >= 1) throw std::invalid_argument("the EMA decay must be in [0, 1)");
    torch::manual_seed(o.seed);
    generator = Generator(GeneratorConfig::preset(o.generator_preset));
    if (o.feature_weight < 0) throw std::invalid_argument("the feature-loss weight must not be negative");
    if (o.stability_weight < 0 || o.stability_noise < 0) {
      throw std::invalid_argument("the stability loss's weight and noise must not be negative");
    }
    if (!(o.rebalance >= 0 && o.rebalance < 1)) throw std::invalid_argument("the rebalancing must be in [0, 1)");
    if (!(o.class_weight >= 0)) throw std::invalid_argument("the chroma-class weight must not be negative");
    const bool pretrained_encoder = generator->config().kind == GeneratorKind::PretrainedEncoder;
    if (!(o.encoder_lr >= 0)) throw std::invalid_argument("the encoder's learning rate must not be negative");
    if (o.encoder_lr > 0 && !pretrained_encoder) {
      throw std::invalid_argument("an encoder learning rate needs a generator with a pretrained encoder");
    }
    if ((o.feature_weight > 0 || pretrained_encoder) && o.backbone.empty()) {
      throw std::invalid_argument(std::string(o.feature_weight > 0 ? "a feature loss" : "the pretrained-encoder generator") +
                                  " needs a backbone file (--backbone; tools/fetch-backbone.sh writes one)");
    }
    if (o.feature_weight > 0 || pretrained_encoder) {
      MobileNetV2 pretrained = load_backbone(o.backbone);
      if (pretrained_encoder) generator->load_encoder(*pretrained);
      if (o.feature_weight > 0) {
        backbone = pretrained;
        for (auto& p : backbone->parameters()) p.requires_grad_(false);
        backbone->to(device);
      }
    }
    DiscriminatorConfig dc;
    dc.image_size = o.size;
    dc.fc_hidden = o.fc_hidden;
    dc.batch_norm = o.loss != GanLoss::WganGp;
    discriminator = Discriminator(dc);
    generator->to(device);
    discriminator->to(device);
    if (o.ema > 0) {
      average = Generator(generator->config());
      average->to(device);
      average->eval();
      copy_weights(*generator, *average);
    }
    // A fine-tuned encoder's weights go in a group of their own, at their own rate.
    std::vector<torch::Tensor> encoder, rest;
    if (o.encoder_lr > 0) encoder = generator->encoder()->parameters();
    for (const auto& p : generator->parameters()) {
      if (std::none_of(encoder.begin(), encoder.end(), [&](const torch::Tensor& e) { return e.is_same(p); })) {
        rest.push_back(p);
      }
    }
    g_optimizer = make_optimizer(o, rest, o.lr_g);
    if (!encoder.empty()) {
      for (auto& p : encoder) p.requires_grad_(true);
      auto encoder_options = g_optimizer->defaults().clone();
      encoder_options->set_lr(o.encoder_lr);
      g_optimizer->add_param_group(torch::optim::OptimizerParamGroup(encoder, std::move(encoder_options)));
    }
    d_optimizer = make_optimizer(o, discriminator->parameters(), o.lr_d);
  }

  // Blocks 2, 5 and 12 of MobileNetV2: 1/4, 1/8 and 1/16 of the crop, from edges and
  // textures to parts of objects (the classifier's view of what colours belong where).
  torch::Tensor feature_loss(const torch::Tensor& rgb_fake, const torch::Tensor& rgb_real) {
    static const std::vector<int> kTaps = {2, 5, 12};
    std::vector<torch::Tensor> real;
    {
      torch::NoGradGuard no_grad;
      real = backbone->features(rgb_real, kTaps);
    }
    const auto fake = backbone->features(rgb_fake, kTaps);
    torch::Tensor loss = torch::zeros({}, rgb_fake.options());
    for (size_t i = 0; i < kTaps.size(); ++i) loss = loss + (fake[i] - real[i]).abs().mean();
    return loss / static_cast<double>(kTaps.size());
  }

  // The weights samples and model files come from.
  const Generator& published() const { return average ? average : generator; }

  // average = d * average + (1 - d) * generator; d ramps up over the first steps so
  // a fresh run's average is not dominated by its random start. Buffers (batch norm
  // statistics) are copied as they are.
  void update_average() {
    torch::NoGradGuard no_grad;
    const double d = std::min(options.ema, (1.0 + step) / (10.0 + step));
    auto live = generator->named_parameters();
    for (auto& p : average->named_parameters()) p.value().mul_(d).add_(live[p.key()], 1 - d);
    auto live_buffers = generator->named_buffers();
    for (auto& b : average->named_buffers()) b.value().copy_(live_buffers[b.key()]);
  }

  // Learning rates at the current step: constant, then linearly down to 0 at options.steps.
  void schedule_learning_rates() {
    if (options.lr_decay_from <= 0 || step < options.lr_decay_from) return;
    const double span = static_cast<double>(std::max<int64_t>(1, options.steps - options.lr_decay_from));
    const double factor = std::clamp((options.steps - step) / span, 0.0, 1.0);
    auto& groups = g_optimizer->param_groups();
    for (size_t i = 0; i < groups.size(); ++i) groups[i].options().set_lr((i == 0 ? options.lr_g : options.encoder_lr) * factor);
    for (auto& group : d_optimizer->param_groups()) group.options().set_lr(options.lr_d * factor);
  }

  int64_t world_size() const { return group ? group->world_size() : 1; }

  // Rows of this rank's share of something drawn for the whole group's batch of world_size() x n.
  torch::Tensor own_share(const torch::Tensor& global, int64_t n) const {
    return group ? global.narrow(0, group->rank() * n, n) : global;
  }

  torch::Tensor noise_for(int64_t n, int64_t s, uint64_t salt,
                          std::optional<NoiseDistribution> distribution = std::nullopt) {
    const auto global = NoiseSource(step_seed(options.seed, step, salt), distribution.value_or(options.noise))
                            .planes(n * world_size(), s, s);
    return own_share(global, n).to(device);
  }

  // Gradients of `module` summed over the group and divided by its size: one all-reduce
  // per bucket of about 4 M values (about one for the seed generator, one for its critic).
  void average_gradients(torch::nn::Module& module) {
    if (!group) return;
    torch::NoGradGuard no_grad;
    constexpr int64_t bucket_values = int64_t{1} << 22;
    std::vector<torch::Tensor> bucket;
    int64_t values = 0;
    auto flush = [&] {
      if (bucket.empty()) return;
      std::vector<torch::Tensor> flat;
      for (const auto& g : bucket) flat.push_back(g.reshape(-1));
      torch::Tensor sum = torch::cat(flat);
      group->all_reduce_sum(sum);
      sum.div_(static_cast<double>(world_size()));
      int64_t at = 0;
      for (auto& g : bucket) {
        g.copy_(sum.narrow(0, at, g.numel()).view_as(g));
        at += g.numel();
      }
      bucket.clear();
      values = 0;
    };
    for (auto& p : module.parameters()) {
      if (!p.requires_grad()) continue;  // frozen (a pretrained encoder): the same on every rank
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);  // every rank sends the same layout
      bucket.push_back(p.grad());
      values += p.numel();
      if (values >= bucket_values) flush();
    }
    flush();
  }

  // The group's mean of each rank's losses.
  void average_losses(StepLosses& l) {
    if (!group) return;
    torch::Tensor t = torch::tensor({l.d_loss, l.g_loss, l.g_adv, l.g_l1, l.g_feature, l.g_stability, l.g_class},
                                    torch::kDouble);
    group->all_reduce_sum(t);
    t.div_(static_cast<double>(world_size()));
    l = {t[0].item<double>(), t[1].item<double>(), t[2].item<double>(), t[3].item<double>(),
         t[4].item<double>(), t[5].item<double>(), t[6].item<double>()};
  }

  void write_state(torch::serialize::OutputArchive& archive) const {
    torch::serialize::OutputArchive g, d, g_opt, d_opt;
    generator->save(g);
    discriminator->save(d);
    g_optimizer->save(g_opt);
    d_optimizer->save(d_opt);
    archive.write("step", c10::IValue(step));
    archive.write("options", c10::IValue(options.to_json()));
    archive.write("generator", g);
    archive.write("discriminator", d);
    archive.write("generator_optimizer", g_opt);
    archive.write("discriminator_optimizer", d_opt);
    if (average) {
      torch::serialize::OutputArchive a;
      average->save(a);
      archive.write("generator_average", a);
    }
  }

  void read_state(torch::serialize::InputArchive& archive) {
    torch::serialize::InputArchive g, d, g_opt, d_opt;
    c10::IValue saved_step;
    archive.read("step", saved_step);
    archive.read("generator", g);
    archive.read("discriminator", d);
    archive.read("generator_optimizer", g_opt);
    archive.read("discriminator_optimizer", d_opt);
    generator->load(g);
    discriminator->load(d);
    g_optimizer->load(g_opt);
    d_optimizer->load(d_opt);
    step = saved_step.toInt();
    if (average) {
      // A run that turns the average on later starts it from the current weights.
      torch::serialize::InputArchive a;
      if (archive.try_read("generator_average", a)) {
        average->load(a);
      } else {
        copy_weights(*generator, *average);
      }
    }
  }

  torch::Tensor gradient_penalty(const torch::Tensor& real, const torch::Tensor& fake, uint64_t salt) {
    auto generator_state = at::make_generator<at::CPUGeneratorImpl>(step_seed(options.seed, step, salt));
    const int64_t n = real.size(0);
    auto eps = own_share(torch::rand({n * world_size(), 1, 1, 1}, generator_state), n).to(device);
    auto mixed = (eps * real + (1 - eps) * fake).requires_grad_(true);
    auto scores = discriminator->forward(mixed);
    auto grads = torch::autograd::grad({scores.sum()}, {mixed}, {}, /*retain_graph=*/true, /*create_graph=*/true)[0];
    return (grads.flatten(1).norm(2, 1) - 1).pow(2).mean();
  }
};

Trainer::Trainer(const TrainOptions& options, std::shared_ptr<Collectives> group) {
  keep_all_freed_memory();
  impl_ = std::make_unique<Impl>(options, std::move(group));
}

void Trainer::broadcast_state() {
  Impl& m = *impl_;
  if (!m.group) return;
  std::string bytes;
  if (m.group->rank() == 0) {
    torch::serialize::OutputArchive archive;
    m.write_state(archive);
    std::ostringstream out;
    archive.save_to(out);
    bytes = out.str();
  }
  torch::Tensor size = torch::tensor({static_cast<int64_t>(bytes.size())}, torch::kLong);
  m.group->broadcast(size);
  const int64_t n = size.item<int64_t>();
  torch::Tensor data = m.group->rank() == 0
                           ? torch::from_blob(bytes.data(), {n}, torch::kByte).clone()
                           : torch::empty({n}, torch::kByte);
  m.group->broadcast(data);
  if (m.group->rank() != 0) {
    torch::serialize::InputArchive archive;
    archive.load_from(static_cast<const char*>(data.data_ptr()), static_cast<size_t>(n), m.device);
    m.read_state(archive);
  }
}
Trainer::~Trainer() = default;

void Trainer::start_from(const std::string& model_file) {
  Impl& m = *impl_;
  if (m.step != 0) throw std::logic_error("start_from: the run has already trained");
  ModelFile start = load_model(model_file);
  start.generator->to(m.device);
  // The same generator, or the same with another head: a chroma-class head starts where the
  // file's U,V head or chroma-class head of another rank is (copy_weights_across_heads).
  try {
    copy_weights_across_heads(*start.generator, *m.generator);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument("'" + model_file + "' holds another generator than --generator " +
                                m.options.generator_preset + " (" + e.what() + ")");
  }
  if (m.average) copy_weights(*m.generator, *m.average);
}

at::Tensor chroma_histogram(const at::Tensor& uv) {
  if (uv.dim() != 4 || uv.size(1) != 2) throw std::invalid_argument("chroma_histogram: uv must be [N,2,H,W]");
  const auto cells = chroma_cells(uv.to(torch::kCPU));
  return torch::bincount(cells.flatten(), {}, kChromaBins * kChromaBins)
      .to(torch::kDouble)
      .view({kChromaBins, kChromaBins});
}

at::Tensor chroma_class_histogram(const at::Tensor& uv, int64_t n) {
  if (uv.dim() != 4 || uv.size(1) != 2) throw std::invalid_argument("chroma_class_histogram: uv must be [N,2,H,W]");
  return chroma_class_targets(uv.to(torch::kCPU), n).sum({0, 2, 3}).to(torch::kDouble).view({n, n});
}

at::Tensor rebalancing_weights(const at::Tensor& histogram, double r) {
  if (histogram.dim() != 2 || histogram.size(0) != histogram.size(1) || histogram.numel() == 0 ||
      !(histogram.min().item<double>() >= 0) ||
      !(histogram.sum().item<double>() > 0)) {
    throw std::invalid_argument("rebalancing_weights: needs a non-empty chroma_histogram");
  }
  if (!(r >= 0 && r < 1)) throw std::invalid_argument("rebalancing_weights: r must be in [0, 1)");
  const auto counts = histogram.to(torch::kDouble);
  const auto p = counts / counts.sum();
  // Gaussian smoothing, sigma one cell, 5 x 5 taps, zero outside.
  const auto taps = torch::exp(-0.5 * torch::arange(-2, 3, torch::kDouble).pow(2));
  auto kernel = torch::outer(taps, taps);
  kernel = (kernel / kernel.sum()).view({1, 1, 5, 5});
  auto smooth = torch::conv2d(p.unsqueeze(0).unsqueeze(0), kernel, {}, 1, 2).view_as(p);
  smooth = smooth / smooth.sum();
  const double reached = (counts > 0).sum().item<double>();
  const auto weights = 1.0 / (r * smooth + (1 - r) / reached);
  return (weights / (p * weights).sum()).to(torch::kFloat);
}

at::Tensor Trainer::set_chroma_histogram(const at::Tensor& histogram) {
  Impl& m = *impl_;
  const auto weights = rebalancing_weights(histogram, m.options.rebalance);
  m.chroma_weights = weights.flatten().to(m.device);
  return weights;
}

StepLosses Trainer::train_step(const std::vector<at::Tensor>& rgb_batches) {
  Impl& m = *impl_;
  const auto& o = m.options;
  if (static_cast<int64_t>(rgb_batches.size()) != o.critic_steps) {
    throw std::invalid_argument("train_step needs one batch per critic step");
  }
  namespace F = torch::nn::functional;
  SyncBatchNormScope synchronized(m.group.get());  // forward and backward
  m.generator->train();
  m.discriminator->train();
  m.schedule_learning_rates();
  StepLosses losses;
  torch::Tensor real, y, uv_real, head, fake_uv, noise;
  for (int64_t k = 0; k < o.critic_steps; ++k) {
    const auto& batch = rgb_batches[k];
    if (batch.dim() != 4 || batch.size(1) != 3 || batch.size(2) != o.size || batch.size(3) != o.size) {
      throw std::invalid_argument("train_step: batches must be [N,3," + std::to_string(o.size) + "," +
                                  std::to_string(o.size) + "]");
    }
    real = rgb_to_yuv(batch.to(m.device));
    y = real.narrow(1, 0, 1);
    uv_real = real.narrow(1, 1, 2);
    torch::Tensor real_scores, fake_scores, fake;
    {
      AutocastGuard autocast(o.amp, m.device);
      noise = m.noise_for(batch.size(0), o.size, 2 * k);
      head = m.generator->head(y, noise).to(torch::kFloat);
      fake_uv = m.generator->decode_head(head, {y.size(2), y.size(3)});
      fake = torch::cat({y, fake_uv.detach()}, 1);
      m.d_optimizer->zero_grad();
      real_scores = m.discriminator->forward(real).to(torch::kFloat);
      fake_scores = m.discriminator->forward(fake).to(torch::kFloat);
    }
    torch::Tensor d_loss;
    if (o.loss == GanLoss::CrossEntropy) {
      d_loss = F::binary_cross_entropy_with_logits(real_scores, torch::full_like(real_scores, o.real_label)) +
               F::binary_cross_entropy_with_logits(fake_scores, torch::zeros_like(fake_scores));
    } else {
      d_loss = fake_scores.mean() - real_scores.mean() + o.gp_weight * m.gradient_penalty(real, fake, 2 * k + 1);
    }
    d_loss.backward();
    m.average_gradients(*m.discriminator);
    m.d_optimizer->step();
    losses.d_loss = d_loss.item<double>();
  }

  m.g_optimizer->zero_grad();
  torch::Tensor scores;
  {
    AutocastGuard autocast(o.amp, m.device);
    scores = m.discriminator->forward(torch::cat({y, fake_uv}, 1)).to(torch::kFloat);
  }
  const auto adversarial = o.loss == GanLoss::CrossEntropy
                               ? F::binary_cross_entropy_with_logits(scores, torch::ones_like(scores))
                               : -scores.mean();
  auto chroma_error = (fake_uv - uv_real).abs();
  torch::Tensor rarity;  // [N,1,H,W]: each pixel's rebalancing weight
  if (o.rebalance > 0) {
    if (!m.chroma_weights.defined()) {
      throw std::logic_error("rebalancing needs the training data's chroma histogram (set_chroma_histogram)");
    }
    const auto cells = chroma_cells(uv_real);
    rarity = m.chroma_weights.index_select(0, cells.flatten()).view_as(cells);
    chroma_error = chroma_error * rarity;
  }
  const auto l1 = chroma_error.mean();
  auto g_loss = adversarial + o.l1_weight * l1;
  const int64_t classes = m.generator->config().chroma_classes;
  if (classes > 0) {
    auto targets = chroma_class_targets(uv_real, classes);
    if (head.size(2) != y.size(2) || head.size(3) != y.size(3)) {
      // A head at a stride predicts each block's cells: its pixels' targets and weights averaged.
      const auto to_head = F::AdaptiveAvgPool2dFuncOptions(std::vector<int64_t>{head.size(2), head.size(3)});
      targets = F::adaptive_avg_pool2d(targets, to_head);
      if (rarity.defined()) rarity = F::adaptive_avg_pool2d(rarity, to_head);
    }
    auto cross_entropy = -(targets * torch::log_softmax(head, 1)).sum(1, true);
    if (rarity.defined()) cross_entropy = cross_entropy * rarity;
    const auto class_loss = cross_entropy.mean();
    g_loss = g_loss + o.class_weight * class_loss;
    losses.g_class = class_loss.item<double>();
  }
  if (m.backbone) {
    const auto feature = m.feature_loss(yuv_to_rgb(torch::cat({y, fake_uv}, 1)), rgb_batches.back().to(m.device));
    g_loss = g_loss + o.feature_weight * feature;
    losses.g_feature = feature.item<double>();
  }
  if (o.stability_weight > 0) {
    constexpr uint64_t kSalt = 1000;  // beyond the critic steps' 2k, 2k + 1
    const auto jitter = m.noise_for(y.size(0), o.size, kSalt, NoiseDistribution::Gaussian) * o.stability_noise;
    torch::Tensor shaken;
    {
      AutocastGuard autocast(o.amp, m.device);
      shaken = m.generator->forward((y + jitter).clamp(0, 1), noise).to(torch::kFloat);
    }
    const auto stability = (shaken - fake_uv).abs().mean();
    g_loss = g_loss + o.stability_weight * stability;
    losses.g_stability = stability.item<double>();
  }
  g_loss.backward();
  m.average_gradients(*m.generator);
  m.g_optimizer->step();
  losses.g_loss = g_loss.item<double>();
  losses.g_adv = adversarial.item<double>();
  losses.g_l1 = l1.item<double>();
  m.average_losses(losses);
  ++m.step;
  if (m.average) m.update_average();
  return losses;
}

int64_t Trainer::step() const { return impl_->step; }
const TrainOptions& Trainer::options() const { return impl_->options; }
Generator& Trainer::generator() { return impl_->generator; }
Discriminator& Trainer::discriminator() { return impl_->discriminator; }

at::Tensor Trainer::colorize(const at::Tensor& rgb) {
  Impl& m = *impl_;
  torch::NoGradGuard no_grad;
  Generator g = m.published();
  g->eval();
  const auto yuv = rgb_to_yuv(rgb.to(m.device));
  const auto y = yuv.narrow(1, 0, 1);
  const auto noise = NoiseSource(m.options.seed, m.options.noise).planes(y.size(0), y.size(2), y.size(3));
  const auto uv = g->forward(y, noise.to(m.device));
  m.generator->train();
  return yuv_to_rgb_keep_luma(torch::cat({y, uv}, 1)).cpu();
}

void Trainer::save_checkpoint(const std::string& path) const {
  torch::serialize::OutputArchive archive;
  impl_->write_state(archive);
  save_archive_atomically(archive, path, "checkpoint");
}

void Trainer::load_checkpoint(const std::string& path) {
  Impl& m = *impl_;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path, m.device);
    m.read_state(archive);
  } catch (const c10::Error& e) {
    throw std::runtime_error("cannot load checkpoint '" + path + "': " + first_line(e.what()));
  }
}

void Trainer::export_model(const std::string& path, const std::string& provenance) const {
  const Impl& m = *impl_;
  // Model files hold CPU weights: copy the generator so training can go on on its device.
  Generator copy(m.generator->config());
  copy_weights(*m.published(), *copy);
  ModelMetadata meta;
  meta.training_width = meta.training_height = m.options.size;
  meta.noise_distribution = m.options.noise;
  meta.provenance = provenance;
  save_model(path, copy, meta);
}

}  // namespace colorgan
