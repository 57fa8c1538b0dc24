// Raw-buffer entry points for code that maps frames (the GStreamer elements):
// no LibTorch types here, so including this header costs nothing to compile.
// Planar frames are contiguous float planes [planes][height][width].
#pragma once

#include "colorgan/options.h"

#include <cstdint>
#include <memory>
#include <string>

namespace colorgan {

enum class PixelLayout { RGB, BGR, RGBx, BGRx, RGBA, BGRA, GRAY8 };

// An 8-bit interleaved image in caller-owned memory; stride in bytes.
struct PackedImage {
  uint8_t* data;
  int width;
  int height;
  int stride;
  PixelLayout layout;
};

// RGB-family -> Y,U,V planes (3 planes); GRAY8 -> the Y plane alone.
void packed_to_yuv_planes(const PackedImage& in, float* planes);

// Y,U,V planes (or Y alone for GRAY8 output) -> packed; padding/alpha bytes set to 255.
void yuv_planes_to_packed(const float* planes, const PackedImage& out);

// Y,U,V planes -> I420 (BT.601 limited range, chroma averaged over 2x2 blocks;
// odd sizes round the chroma planes up).
struct I420Image {
  uint8_t* y;
  uint8_t* u;
  uint8_t* v;
  int y_stride;
  int u_stride;
  int v_stride;
};
void yuv_planes_to_i420(const float* planes, int width, int height, const I420Image& out);

// Seeded noise into caller memory (see NoiseSource).
class NoiseFiller {
 public:
  NoiseFiller(uint64_t seed, NoiseDistribution distribution);
  ~NoiseFiller();
  void fill(float* out, int64_t count, float amplitude);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct PlaneColorizerOptions {
  std::string model_path;
  std::string device = "auto";
  // 0: one less than the cores available (at least 1). A pipeline's decoder,
  // converters and encoder run beside the model: an OpenMP pool on every core
  // spin-waits against them (measured: 2 threads on 2 busy cores, 16x slower).
  int threads = 0;
  uint64_t seed = 0;                   // noise drawn when frames carry none: fixed per stream
  std::string inference_size;          // "" (the model's training size, aspect kept), "native", "WxH", short side
  ChromaUpsampling upsampling = ChromaUpsampling::Guided;  // chroma back to the frame's size
  double temporal_smoothing = 0.0;     // ChromaStabilizer strength, 0 = off
  Precision precision = Precision::Auto;                   // see EngineOptions
};

// One frame's planes: width*height floats each; noise may be nullptr.
struct PlaneFrame {
  const float* y;
  const float* noise;
  float* u;
  float* v;
};

// The inference engine over raw planes, with what video needs: a fixed noise
// plane per stream, batched forward passes, guided chroma upsampling and
// temporal chroma stabilisation.
class PlaneColorizer {
 public:
  // Throws ModelFileError / DeviceError (colorgan/errors.h) with a clear message,
  // std::invalid_argument for a bad inference size.
  explicit PlaneColorizer(const PlaneColorizerOptions& options);
  ~PlaneColorizer();

  // Colorizes frames of one size in one forward pass, in order (the stabiliser
  // sees them one after another). Frames with noise == nullptr use the stream's
  // fixed noise (models that project a noise vector always use their own).
  // The model runs at the inference size; writes U and V at the frame's size.
  void colorize(const PlaneFrame* frames, int count, int width, int height);
  void colorize(const float* y, const float* noise, float* u, float* v, int width, int height);

  void reset_history();  // a new scene/stream: no blending with earlier frames
  int64_t scene_cuts() const;
  std::string device_name() const;
  Precision precision() const;  // what runs (Auto resolved)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace colorgan
