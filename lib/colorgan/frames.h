// Raw-buffer entry points for code that maps frames (the GStreamer elements):
// no LibTorch types here, so including this header costs nothing to compile.
// Planar frames are contiguous float planes [planes][height][width].
#pragma once

#include "colorgan/options.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace colorgan {

// Raw video as decoders hand it over (GStreamer's names). YUV formats carry
// video-range or full-range codes as their YuvMatrix says; 10-bit I420 sits in
// the low bits of 16-bit words, P010 in the high bits; Y444_16LE is 16-bit.
enum class RawFormat {
  GRAY8, GRAY16_LE,                      // luma alone
  RGB, BGR, RGBx, BGRx, RGBA, BGRA,      // packed 8-bit RGB
  I420, NV12, Y444,                      // 8-bit YUV
  I420_10LE, P010_10LE, Y444_16LE,       // deep YUV
};

// An 8-bit interleaved image in caller-owned memory; stride in bytes.
struct PackedImage {
  uint8_t* data;
  int width;
  int height;
  int stride;
  RawFormat layout;  // GRAY8 or a packed RGB format
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

// The Y'CbCr encoding of a YUV frame: the matrix's luma weights of red and blue
// (BT.601 0.299/0.114, BT.709 0.2126/0.0722, BT.2020 0.2627/0.0593) and the range.
struct YuvMatrix {
  float kr = 0.299f;
  float kb = 0.114f;
  bool full_range = false;
};

// One frame in caller-owned memory: planes in the format's order (Y,U,V;
// NV12 and P010: Y,UV; packed formats and GRAY: one), strides in bytes.
struct RawImage {
  RawFormat format;
  int width;
  int height;
  uint8_t* planes[3];
  int strides[3];
  YuvMatrix matrix;  // YUV formats only
};

// The luma of a raw frame in the colour convention (Y in [0,1]; RGB: its
// BT.601 luma; YUV: Y' decoded from its range, whatever its matrix), into
// width*height floats.
void raw_luma(const RawImage& in, float* y);

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

// The noise a stream feeds the generator, frame after frame (NoiseMode): the
// same plane, a fresh one, or one that drifts: n = sqrt(1 - r^2) n + r fresh,
// which keeps a Gaussian plane Gaussian with the same spread.
class NoiseStream {
 public:
  NoiseStream(uint64_t seed, NoiseDistribution distribution, NoiseMode mode, double drift_rate, float amplitude = 1.0f);
  // This frame's noise, `count` floats (valid until the next call). A new
  // count starts the stream's plane afresh.
  const float* next(int64_t count);
  void restart();  // from the seed's first plane again (a new stream)

 private:
  uint64_t seed_;
  NoiseDistribution distribution_;
  std::unique_ptr<NoiseFiller> filler_;
  NoiseMode mode_;
  float drift_rate_, amplitude_;
  std::vector<float> plane_, fresh_;
};

struct PlaneColorizerOptions {
  std::string model_path;
  std::string device = "auto";
  // 0: one less than the cores available (at least 1). A pipeline's decoder,
  // converters and encoder run beside the model: an OpenMP pool on every core
  // spin-waits against them (measured: 2 threads on 2 busy cores, 16x slower).
  int threads = 0;
  uint64_t seed = 0;                   // noise drawn when frames carry none, at the working size
  NoiseMode noise_mode = NoiseMode::Fixed;  // ... and how it changes from frame to frame
  double drift_rate = 0.05;                 // NoiseMode::Drift: share of fresh noise per frame
  std::string inference_size;          // "" (the model's training size, aspect kept), "native", "WxH", short side
  ChromaUpsampling upsampling = ChromaUpsampling::Guided;  // chroma back to the frame's size
  double temporal_smoothing = 0.0;     // ChromaStabilizer strength, 0 = off
  // The model runs on every inference_interval-th frame (1: every frame) and on
  // any frame whose luma moved or cut far from the last one it saw (mean
  // |change| > StabilizerOptions::cut_threshold); the frames between carry the
  // previous chroma through the stabiliser, refitted to their own luma.
  int inference_interval = 1;
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

  // Raw frames of one size and format in, raw frames of that size out: in[i]'s
  // luma is colorized into out[i], in any format that holds colour, in
  // out[i].matrix (YUV). Where in and out are the same YUV format and range, Y is
  // copied bit for bit; otherwise it is written from the luma. U,V are sampled
  // at the output's chroma sites. Throws std::invalid_argument for mismatched
  // sizes or an output without colour (GRAY).
  void colorize(const RawImage* in, const RawImage* out, int count);

  void reset_history();  // a new scene/stream: no blending with earlier frames, the noise from its start
  int64_t scene_cuts() const;
  std::string device_name() const;
  Precision precision() const;  // what runs (Auto resolved)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace colorgan
