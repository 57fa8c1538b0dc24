#include "colorgan/frames.h"

#include "colorgan/colorize_image.h"
#include "colorgan/colorspace.h"
#include "colorgan/engine.h"
#include "colorgan/noise.h"
#include "colorgan/raw_frames.h"
#include "colorgan/video.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace colorgan {
namespace {

at::Tensor view_planes(const float* planes, int64_t count, int64_t height, int64_t width) {
  return at::from_blob(const_cast<float*>(planes), {count, height, width}, at::kFloat);
}

// Frames [1,H,W] as a batch [N,1,H,W], without a copy for one frame.
at::Tensor batch_of(const std::vector<at::Tensor>& frames) {
  return frames.size() == 1 ? frames[0].unsqueeze(0) : at::stack(frames);
}

at::Tensor to_byte(const at::Tensor& unit) { return unit.mul(255.0).round_().clamp_(0, 255).to(at::kByte); }

}  // namespace

void packed_to_yuv_planes(const PackedImage& in, float* planes) {
  const PackedLayout info = packed_layout(in.layout);
  const int64_t n = int64_t{in.width} * in.height, bpp = info.bytes_per_pixel;
  // One pass, rows in parallel (as yuv_planes_to_packed); the formulas are rgb_to_yuv's.
  at::parallel_for(0, in.height, 16, [&](int64_t first, int64_t last) {
    for (int64_t row = first; row < last; ++row) {
      const uint8_t* pixel = in.data + row * in.stride;
      float* y = planes + row * in.width;
      if (in.layout == RawFormat::GRAY8) {
        for (int64_t x = 0; x < in.width; ++x) y[x] = pixel[x] / 255.0f;
        continue;
      }
      float* u = y + n;
      float* v = u + n;
      for (int64_t x = 0; x < in.width; ++x, pixel += bpp) {
        rgb_to_yuv_pixel(pixel[info.rgb_offsets[0]] / 255.0f, pixel[info.rgb_offsets[1]] / 255.0f,
                         pixel[info.rgb_offsets[2]] / 255.0f, y[x], u[x], v[x]);
      }
    }
  });
}

void yuv_planes_to_packed(const float* planes, const PackedImage& out) {
  const PackedLayout layout = packed_layout(out.layout);
  const int64_t n = int64_t{out.width} * out.height;
  // One pass over the frame, rows in parallel: a chain of whole-frame tensor ops
  // took 57 ms for a 1920x1080 frame here.
  at::parallel_for(0, out.height, 16, [&](int64_t first, int64_t last) {
    std::vector<uint8_t> scratch(3 * out.width);
    for (int64_t row = first; row < last; ++row) {
      const float* y = planes + row * out.width;
      uint8_t* pixel = out.data + row * out.stride;
      if (out.layout == RawFormat::GRAY8) {
        for (int64_t x = 0; x < out.width; ++x) pixel[x] = unit_to_byte(y[x]);
        continue;
      }
      pack_rgb_row(y, y + n, y + 2 * n, out.width, layout, scratch.data(), pixel);
    }
  });
}

void yuv_planes_to_i420(const float* planes, int width, int height, const I420Image& out) {
  const at::Tensor rgb = yuv_to_rgb_keep_luma(view_planes(planes, 3, height, width));
  const at::Tensor r = rgb[0], b = rgb[2];
  const at::Tensor y = rgb_to_luma(rgb);
  // BT.601 limited range: Y' in [16,235], Cb/Cr in [16,240].
  const at::Tensor cb = (b - y) / 1.772 * (224.0 / 255.0) + 128.0 / 255.0;
  const at::Tensor cr = (r - y) / 1.402 * (224.0 / 255.0) + 128.0 / 255.0;
  const int64_t cw = (width + 1) / 2, ch = (height + 1) / 2;
  auto write = [](const at::Tensor& plane, uint8_t* data, int64_t stride) {
    at::from_blob(data, {plane.size(0), plane.size(1)}, {stride, 1}, at::kByte).copy_(to_byte(plane));
  };
  write(y * (219.0 / 255.0) + 16.0 / 255.0, out.y, out.y_stride);
  // Average 2x2 blocks; replicate the last row/column so odd sizes average what exists.
  auto subsample = [&](const at::Tensor& plane) {
    const at::Tensor padded =
        at::replication_pad2d(plane.unsqueeze(0), {0, cw * 2 - width, 0, ch * 2 - height});
    return at::avg_pool2d(padded, {2, 2})[0];
  };
  write(subsample(cb), out.u, out.u_stride);
  write(subsample(cr), out.v, out.v_stride);
}

struct NoiseFiller::Impl {
  NoiseSource source;
};

NoiseFiller::NoiseFiller(uint64_t seed, NoiseDistribution distribution)
    : impl_(new Impl{NoiseSource(seed, distribution)}) {}
NoiseFiller::~NoiseFiller() = default;

void NoiseFiller::fill(float* out, int64_t count, float amplitude) {
  impl_->source.fill(out, count);
  if (amplitude != 1.0f) at::from_blob(out, {count}, at::kFloat).mul_(amplitude);
}

NoiseStream::NoiseStream(uint64_t seed, NoiseDistribution distribution, NoiseMode mode, double drift_rate,
                         float amplitude)
    : seed_(seed),
      distribution_(distribution),
      filler_(std::make_unique<NoiseFiller>(seed, distribution)),
      mode_(mode),
      drift_rate_(static_cast<float>(drift_rate)),
      amplitude_(amplitude) {}

void NoiseStream::restart() {
  filler_ = std::make_unique<NoiseFiller>(seed_, distribution_);
  plane_.clear();
}

const float* NoiseStream::next(int64_t count) {
  if (mode_ == NoiseMode::PerFrame || static_cast<int64_t>(plane_.size()) != count) {
    plane_.resize(count);
    filler_->fill(plane_.data(), count, amplitude_);
  } else if (mode_ == NoiseMode::Drift) {
    fresh_.resize(count);
    filler_->fill(fresh_.data(), count, amplitude_);
    const float keep = std::sqrt(1.0f - drift_rate_ * drift_rate_);
    for (int64_t i = 0; i < count; ++i) plane_[i] = keep * plane_[i] + drift_rate_ * fresh_[i];
  }
  return plane_.data();
}

struct PlaneColorizer::Impl {
  InferenceEngine engine;
  WorkingSize size;
  ChromaUpsampling upsampling;
  ChromaStabilizer stabilizer;
  NoiseMode noise_mode;
  NoiseStream noise_stream;                // at the working size (or the model's noise vector)
  std::vector<std::vector<float>> luma;    // raw frames' luma at full size, reused frame after frame
  // inference_interval: the model's last frame and what came out since.
  int interval;
  double cut_threshold;
  int64_t since_model = -1;  // frames since the model last ran (-1: not yet in this stream)
  at::Tensor model_y;        // [1,h,w] the luma the model last saw
  at::Tensor carried_uv;     // [2,h,w] the last frame's stabilised chroma

  Impl(const PlaneColorizerOptions& o, EngineOptions engine_options)
      : engine(o.model_path, std::move(engine_options)),
        size(working_size_for(o.inference_size, engine.metadata())),
        upsampling(o.upsampling),
        stabilizer(StabilizerOptions{o.temporal_smoothing}),
        noise_mode(o.noise_mode),
        noise_stream(o.seed, engine.metadata().noise_distribution, o.noise_mode, o.drift_rate),
        interval(o.inference_interval),
        cut_threshold(StabilizerOptions{}.cut_threshold) {}

  void restart() {
    stabilizer.reset();
    noise_stream.restart();
    since_model = -1;
    model_y = carried_uv = at::Tensor();
  }

  // Whether the model runs on this frame (working-size luma [1,h,w]): on every
  // interval-th frame, and whenever the picture moved or cut far from the one
  // it last saw (its colours would belong elsewhere). Advances the count.
  bool model_runs_on(const at::Tensor& y_frame) {
    const bool same_size = model_y.defined() && model_y.sizes() == y_frame.sizes();
    const bool due = interval <= 1 || since_model < 0 || since_model >= interval - 1 || !same_size ||
                     (y_frame - model_y).abs().mean().item<double>() > cut_threshold;
    if (due) {
      model_y = y_frame;
      since_model = 0;
    } else {
      ++since_model;
    }
    return due;
  }

  // The stream's noise for `count` frames at the working size h x w: [N,1,h,w] (or [N,dim]).
  at::Tensor noise_for(int64_t count, int64_t h, int64_t w) {
    const GeneratorConfig& config = engine.config();
    const bool planes = config.noise_input == NoiseInput::Plane;
    const int64_t per_frame = planes ? h * w : config.noise_dim;
    at::Tensor noise;
    if (noise_mode == NoiseMode::Fixed) {
      // One plane for the whole stream: every frame of the batch reads the
      // stream's own buffer (it stays put until the next call), nothing copied.
      noise = at::from_blob(const_cast<float*>(noise_stream.next(per_frame)), {1, per_frame}, at::kFloat)
                  .expand({count, per_frame});
    } else {
      noise = at::empty({count, per_frame});
      for (int64_t i = 0; i < count; ++i) {
        std::memcpy(noise[i].data_ptr<float>(), noise_stream.next(per_frame), per_frame * sizeof(float));
      }
    }
    return planes ? noise.reshape({count, 1, h, w}) : noise;
  }

  // Luma [N,1,H,W] at the frame's size and noise planes (or none) -> the working
  // size's luma [N,1,h,w] and its stabilised chroma [N,2,h,w].
  std::pair<at::Tensor, at::Tensor> predict(const at::Tensor& y, const std::vector<at::Tensor>& noises) {
    const int64_t count = y.size(0);
    const auto dims = working_dims(size, y.size(2), y.size(3));
    const at::Tensor y_work = resize_luma(y, dims);
    const bool plane_noise = engine.config().noise_input == NoiseInput::Plane;
    const at::Tensor noise = plane_noise && static_cast<int64_t>(noises.size()) == count
                                 ? resize_noise(batch_of(noises), dims)
                                 : noise_for(count, dims.first, dims.second);
    // The frames the model runs on, in one forward pass; the others carry the
    // previous frame's chroma, which the stabiliser and the guided filter then
    // fit to their own luma.
    std::vector<int64_t> fresh;
    for (int64_t i = 0; i < count; ++i) {
      if (model_runs_on(y_work[i])) fresh.push_back(i);
    }
    at::Tensor uv_fresh;
    if (!fresh.empty()) {
      const at::Tensor index = at::tensor(fresh, at::kLong);
      const bool all = static_cast<int64_t>(fresh.size()) == count;
      uv_fresh = engine.colorize(all ? y_work : y_work.index_select(0, index),
                                 all || !noise.defined() ? noise : noise.index_select(0, index));
    }
    std::vector<at::Tensor> stable;
    for (int64_t i = 0, next = 0; i < count; ++i) {
      const bool is_fresh = next < static_cast<int64_t>(fresh.size()) && fresh[next] == i;
      const at::Tensor uv = is_fresh ? uv_fresh[next++] : carried_uv;
      carried_uv = stabilizer.apply(y_work[i], uv);
      stable.push_back(carried_uv);
    }
    return {y_work, at::stack(stable)};
  }

  // How frame i's chroma reaches a height x width frame: the guided filter's
  // fit, or the chroma itself where it already has that size or is upsampled bicubically.
  GuidedFit fit(const at::Tensor& y_work, const at::Tensor& uv, int64_t i, int64_t height, int64_t width) const {
    const at::Tensor frame_uv = uv[i].unsqueeze(0);
    if (frame_uv.size(2) == height && frame_uv.size(3) == width) return constant_fit(frame_uv);
    if (upsampling == ChromaUpsampling::Guided) return fit_guided(frame_uv, y_work[i].unsqueeze(0));
    return constant_fit(at::upsample_bicubic2d(frame_uv, {height, width}, false).clamp_(0.0, 1.0));
  }
};

PlaneColorizer::PlaneColorizer(const PlaneColorizerOptions& options) {
  if (options.temporal_smoothing < 0 || options.temporal_smoothing > 1) {
    throw std::invalid_argument("temporal smoothing must be in [0, 1]");
  }
  if (options.inference_interval < 1) throw std::invalid_argument("the inference interval must be at least 1");
  EngineOptions engine_options;
  engine_options.device = options.device;
  engine_options.threads = options.threads > 0 ? options.threads : std::max(1, available_cores() - 1);
  engine_options.seed = options.seed;
  engine_options.precision = options.precision;
  impl_ = std::make_unique<Impl>(options, engine_options);
}
PlaneColorizer::~PlaneColorizer() = default;

void PlaneColorizer::colorize(const PlaneFrame* frames, int count, int width, int height) {
  Impl& m = *impl_;
  std::vector<at::Tensor> ys, noises;
  for (int i = 0; i < count; ++i) {
    ys.push_back(view_planes(frames[i].y, 1, height, width));
    if (frames[i].noise != nullptr) noises.push_back(view_planes(frames[i].noise, 1, height, width));
  }
  const auto [y_work, uv] = m.predict(batch_of(ys), noises);
  for (int i = 0; i < count; ++i) {
    // Straight into the output planes: full-size tensor temporaries cost ~4x as much at 1080p.
    write_guided_chroma(m.fit(y_work, uv, i, height, width), frames[i].y, frames[i].u, frames[i].v, width, height);
  }
}

void PlaneColorizer::colorize(const RawImage* in, const RawImage* out, int count) {
  Impl& m = *impl_;
  if (count < 1) return;
  const int width = in[0].width, height = in[0].height;
  const int64_t pixels = int64_t{width} * height;
  std::vector<at::Tensor> ys;
  m.luma.resize(std::max<size_t>(m.luma.size(), count));
  for (int i = 0; i < count; ++i) {
    if (in[i].width != width || in[i].height != height) throw std::invalid_argument("the frames of a batch differ in size");
    m.luma[i].resize(pixels);
    raw_luma(in[i], m.luma[i].data());
    ys.push_back(at::from_blob(m.luma[i].data(), {1, height, width}, at::kFloat));
  }
  const auto [y_work, uv] = m.predict(batch_of(ys), {});
  for (int i = 0; i < count; ++i) write_colour(in[i], m.luma[i].data(), m.fit(y_work, uv, i, height, width), out[i]);
}

void PlaneColorizer::colorize(const float* y, const float* noise, float* u, float* v, int width, int height) {
  const PlaneFrame frame{y, noise, u, v};
  colorize(&frame, 1, width, height);
}

void PlaneColorizer::reset_history() { impl_->restart(); }
int64_t PlaneColorizer::scene_cuts() const { return impl_->stabilizer.scene_cuts(); }
std::string PlaneColorizer::device_name() const { return impl_->engine.device().str(); }
Precision PlaneColorizer::precision() const { return impl_->engine.precision(); }

}  // namespace colorgan
