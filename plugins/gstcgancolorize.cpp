/**
 * SECTION:element-cgancolorize
 * @title: cgancolorize
 *
 * Colorizes colorgan's planar frames with the conditional GAN's generator
 * (LibTorch). Takes Y, Y,N, Y,U,V or Y,U,V,N planes; outputs Y,U,V with the
 * input's Y untouched and U,V predicted from Y and the noise plane N. The
 * model runs at `inference-size` (default: its training size) and its chroma
 * is upsampled to the frame's size. Without
 * an N plane it draws its own noise from `seed`. The model is loaded once,
 * when the element starts; a missing or corrupt model file is an error that
 * names the file.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=in.webm ! decodebin ! videoconvert ! cganrgb2yuv ! cgannoise seed=1 ! cgancolorize model=model.cgan device=cpu ! cganyuv2rgb ! videoconvert ! autovideosink
 * ]|
 */
#include "gstcgancolorize.h"
#include "gstcgannoise.h"

#include "cganplanar.h"
#include "colorgan/default_model.h"
#include "colorgan/errors.h"
#include "colorgan/frames.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <deque>
#include <memory>
#include <vector>

GST_DEBUG_CATEGORY_STATIC(gst_cgan_colorize_debug);
#define GST_CAT_DEFAULT gst_cgan_colorize_debug

struct CganColorizeState {
  bool raw = false;                   // raw video in and out (else planar frames)
  CganPlanarInfo in_info;             // planar
  GstVideoInfo raw_in, raw_out;       // raw
  colorgan::RawFormat raw_in_format, raw_out_format;
  std::unique_ptr<colorgan::PlaneColorizer> colorizer;  // loaded in start(), dropped in stop()
  bool live = false;                  // upstream is live: frame by frame, no batching
  std::deque<GstBuffer*> pending;     // input frames waiting for a full batch
  std::deque<GstBuffer*> ready;       // colorized frames waiting to be pushed
  // Measurements (object lock): per-call processing time and frames per second of processing.
  GstClockTime latency = 0;           // mean of recent calls
  GstClockTime max_latency = 0;       // the most one frame took: what the LATENCY query reports
  GstClockTime reported_latency = 0;  // what the last LATENCY query answered
  double throughput = 0;
  guint64 dropped = 0;

  void clear_queues() {
    for (GstBuffer* b : pending) gst_buffer_unref(b);
    for (GstBuffer* b : ready) gst_buffer_unref(b);
    pending.clear();
    ready.clear();
  }
};

enum {
  PROP_0,
  PROP_MODEL,
  PROP_DEVICE,
  PROP_NUM_THREADS,
  PROP_SEED,
  PROP_INFERENCE_SIZE,
  PROP_UPSAMPLING,
  PROP_PRECISION,
  PROP_TEMPORAL_SMOOTHING,
  PROP_BATCH_SIZE,
  PROP_NOISE_MODE,
  PROP_DRIFT_RATE,
  PROP_INFERENCE_INTERVAL,
  PROP_LATENCY,
  PROP_THROUGHPUT,
  PROP_FRAMES_DROPPED,
};

#define DEFAULT_DEVICE "auto"
#define DEFAULT_NUM_THREADS 0
#define DEFAULT_SEED 0
#define DEFAULT_UPSAMPLING static_cast<gint>(colorgan::ChromaUpsampling::Guided)
#define DEFAULT_PRECISION static_cast<gint>(colorgan::Precision::Auto)
#define DEFAULT_TEMPORAL_SMOOTHING 0.5
#define DEFAULT_BATCH_SIZE 1
#define DEFAULT_NOISE_MODE static_cast<gint>(colorgan::NoiseMode::Fixed)
#define DEFAULT_DRIFT_RATE 0.05
#define DEFAULT_INFERENCE_INTERVAL 1

GType gst_cgan_upsampling_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(colorgan::ChromaUpsampling::Guided), "Guided filter: colour edges follow the full-resolution luma",
       colorgan::to_string(colorgan::ChromaUpsampling::Guided)},
      {static_cast<gint>(colorgan::ChromaUpsampling::Bicubic), "Bicubic interpolation of the chroma alone",
       colorgan::to_string(colorgan::ChromaUpsampling::Bicubic)},
      {0, nullptr, nullptr}};
  return cgan_enum_type(&type, "GstCganUpsampling", values);
}

GType gst_cgan_precision_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(colorgan::Precision::Fp32), "32-bit float", colorgan::to_string(colorgan::Precision::Fp32)},
      {static_cast<gint>(colorgan::Precision::Bf16), "bfloat16 convolutions (about 2x faster on CPUs with AVX512-BF16)",
       colorgan::to_string(colorgan::Precision::Bf16)},
      {static_cast<gint>(colorgan::Precision::Auto),
       "bf16 on CPUs with AVX512-BF16 or AMX-BF16 and on CUDA, fp32 elsewhere (within one 8-bit chroma level)",
       colorgan::to_string(colorgan::Precision::Auto)},
      {0, nullptr, nullptr}};
  return cgan_enum_type(&type, "GstCganPrecision", values);
}

G_DEFINE_TYPE(GstCganColorize, gst_cgan_colorize, GST_TYPE_BASE_TRANSFORM)
GST_ELEMENT_REGISTER_DEFINE(cgancolorize, "cgancolorize", GST_RANK_NONE, GST_TYPE_CGAN_COLORIZE);

static const CganCapsMap kToColour = {{"Y", "Y,U,V"}, {"Y,N", "Y,U,V"}, {"Y,U,V", "Y,U,V"}, {"Y,U,V,N", "Y,U,V"}};

#define RGB_FORMATS "RGB, BGR, RGBx, BGRx, RGBA, BGRA"
#define YUV_FORMATS "I420, NV12, Y444, I420_10LE, P010_10LE"
#define RAW_CAPS(formats) \
  "video/x-raw, format=(string){ " formats " }, width=(int)[1,2147483647], height=(int)[1,2147483647], " \
  "framerate=(fraction)[0/1,2147483647/1]"

// What each raw input format becomes: YUV keeps its layout and depth; 8-bit
// gray and RGB become any 8-bit colour format (their own first); 16-bit gray, 16-bit Y444.
static const CganCapsMap& raw_routes() {
  static const CganCapsMap routes = [] {
    CganCapsMap map;
    const char* colour8[] = {"RGBx", "BGRx", "RGB", "BGR", "RGBA", "BGRA", "I420", "NV12", "Y444"};
    for (const char* in : {"GRAY8", "RGB", "BGR", "RGBx", "BGRx", "RGBA", "BGRA"}) {
      for (const char* out : colour8) {
        if (g_strcmp0(in, out) == 0) map.emplace_back(in, out);
      }
      for (const char* out : colour8) {
        if (g_strcmp0(in, out) != 0) map.emplace_back(in, out);
      }
    }
    for (const char* yuv : {"I420", "NV12", "Y444", "I420_10LE", "P010_10LE"}) map.emplace_back(yuv, yuv);
    map.emplace_back("GRAY16_LE", "Y444_16LE");
    return map;
  }();
  return routes;
}

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS(CGAN_PLANAR_CAPS("{ Y, \"Y,N\", \"Y,U,V\", \"Y,U,V,N\" }") "; " RAW_CAPS(
        "GRAY8, GRAY16_LE, " RGB_FORMATS ", " YUV_FORMATS)));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS(CGAN_PLANAR_CAPS("\"Y,U,V\"") "; " RAW_CAPS(RGB_FORMATS ", " YUV_FORMATS ", Y444_16LE")));

static GstCaps* gst_cgan_colorize_transform_caps(GstBaseTransform*, GstPadDirection direction, GstCaps* caps,
                                                 GstCaps* filter) {
  const bool forward = direction == GST_PAD_SINK;
  const CganCapsMap& planes = forward ? kToColour : cgan_caps_map_reversed(kToColour);
  GstCaps* planar = cgan_caps_of_type(caps, CGAN_PLANAR_MEDIA_TYPE);
  GstCaps* result = cgan_caps_translate(planar, CGAN_PLANAR_MEDIA_TYPE, "planes", "planes", planes, nullptr);
  gst_caps_unref(planar);
  const CganCapsMap& formats = forward ? raw_routes() : cgan_caps_map_reversed(raw_routes());
  result = gst_caps_merge(result, cgan_raw_caps_translate(caps, formats, nullptr));
  return cgan_caps_filtered(result, filter);
}

// YUV made from gray or RGB says which colorimetry it was written in: BT.601
// video range, the colour convention's own matrix, at every size (GStreamer
// would assume BT.709 above 576 lines), unless downstream asks for another.
static GstCaps* gst_cgan_colorize_fixate_caps(GstBaseTransform* trans, GstPadDirection direction, GstCaps* caps,
                                              GstCaps* othercaps) {
  othercaps = GST_BASE_TRANSFORM_CLASS(gst_cgan_colorize_parent_class)->fixate_caps(trans, direction, caps, othercaps);
  if (direction != GST_PAD_SINK || gst_caps_is_empty(othercaps)) return othercaps;
  GstStructure* s = gst_caps_get_structure(othercaps, 0);
  GstVideoInfo info;
  if (!gst_structure_has_name(s, "video/x-raw") || gst_structure_has_field(s, "colorimetry") ||
      !gst_video_info_from_caps(&info, othercaps) || !GST_VIDEO_INFO_IS_YUV(&info)) {
    return othercaps;
  }
  othercaps = gst_caps_make_writable(othercaps);
  gst_caps_set_simple(othercaps, "colorimetry", G_TYPE_STRING, GST_VIDEO_COLORIMETRY_BT601, nullptr);
  return othercaps;
}

static GstClockTime since(std::chrono::steady_clock::time_point start) {
  return static_cast<GstClockTime>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count());
}

static bool upstream_is_live(GstBaseTransform* trans) {
  GstQuery* query = gst_query_new_latency();
  gboolean live = FALSE;
  if (gst_pad_peer_query(trans->sinkpad, query)) gst_query_parse_latency(query, &live, nullptr, nullptr);
  gst_query_unref(query);
  return live;
}

// Records one colorize call of `frames` frames that took `took`; returns TRUE when
// a frame took longer than the latency last reported (the pipeline must re-query).
static bool record_timing(GstCganColorize* self, GstClockTime took, guint frames) {
  CganColorizeState& s = *self->state;
  GST_OBJECT_LOCK(self);
  const GstClockTime per_frame = took / std::max(frames, 1u);
  s.latency = s.latency == 0 ? took : (s.latency * 7 + took) / 8;
  const double rate = took > 0 ? frames * static_cast<double>(GST_SECOND) / took : 0;
  s.throughput = s.throughput == 0 ? rate : (s.throughput * 7 + rate) / 8;
  s.max_latency = std::max(s.max_latency, per_frame);
  const bool grew = s.live && s.reported_latency > 0 && s.max_latency > s.reported_latency;
  GST_OBJECT_UNLOCK(self);
  return grew;
}

static gboolean parse_caps(CganColorizeState& s, GstCaps* incaps, GstCaps* outcaps) {
  if (cgan_planar_info_from_caps(incaps, &s.in_info)) {
    s.raw = false;
    return TRUE;
  }
  s.raw = gst_video_info_from_caps(&s.raw_in, incaps) && gst_video_info_from_caps(&s.raw_out, outcaps) &&
          cgan_raw_format(GST_VIDEO_INFO_FORMAT(&s.raw_in), &s.raw_in_format) &&
          cgan_raw_format(GST_VIDEO_INFO_FORMAT(&s.raw_out), &s.raw_out_format) &&
          s.raw_in.width == s.raw_out.width && s.raw_in.height == s.raw_out.height &&
          static_cast<gsize>(GST_VIDEO_INFO_WIDTH(&s.raw_in)) * GST_VIDEO_INFO_HEIGHT(&s.raw_in) <= CGAN_MAX_FRAME_PIXELS;
  return s.raw;
}

static gboolean gst_cgan_colorize_set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps* outcaps) {
  GstCganColorize* self = GST_CGAN_COLORIZE(trans);
  CganColorizeState& s = *self->state;
  if (!parse_caps(s, incaps, outcaps)) {
    GST_ERROR_OBJECT(self, "cannot colorize %" GST_PTR_FORMAT " into %" GST_PTR_FORMAT, incaps, outcaps);
    return FALSE;
  }
  s.live = upstream_is_live(trans);
  if (!s.live) return TRUE;  // only a live pipeline needs the latency before the first frame
  // Blank frames at the new size: the first warms the model up for it (memory,
  // kernels), the second measures the processing time the LATENCY query answers.
  const int width = s.raw ? GST_VIDEO_INFO_WIDTH(&s.raw_in) : s.in_info.width;
  const int height = s.raw ? GST_VIDEO_INFO_HEIGHT(&s.raw_in) : s.in_info.height;
  const gsize plane = gsize{static_cast<guint>(width)} * static_cast<guint>(height);
  std::vector<float> y(plane, 0.5f), u(plane), v(plane);
  auto blank = [&] { s.colorizer->colorize(y.data(), nullptr, u.data(), v.data(), width, height); };
  GstClockTime took = 0;
  try {
    blank();
    const auto start = std::chrono::steady_clock::now();
    blank();
    took = since(start);
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Colorization failed: %s", colorgan::first_line(e.what()).c_str()), ("%s", e.what()));
    return FALSE;
  }
  s.colorizer->reset_history();
  GST_OBJECT_LOCK(self);
  s.max_latency = took;
  GST_OBJECT_UNLOCK(self);
  gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
  GST_INFO_OBJECT(self, "%dx%d frames from a live source, a blank frame took %" GST_TIME_FORMAT, width, height,
                  GST_TIME_ARGS(took));
  return TRUE;
}

static gboolean gst_cgan_colorize_start(GstBaseTransform* trans) {
  GstCganColorize* self = GST_CGAN_COLORIZE(trans);
  GST_OBJECT_LOCK(self);
  const std::string model = self->model != nullptr ? self->model : "";
  const std::string device = self->device;
  const std::string inference_size = self->inference_size != nullptr ? self->inference_size : "";
  colorgan::PlaneColorizerOptions options;
  options.device = device;
  options.threads = self->num_threads;
  options.seed = self->seed;
  options.noise_mode = static_cast<colorgan::NoiseMode>(self->noise_mode);
  options.drift_rate = self->drift_rate;
  options.inference_interval = static_cast<int>(self->inference_interval);
  options.inference_size = inference_size;
  options.upsampling = static_cast<colorgan::ChromaUpsampling>(self->upsampling);
  options.temporal_smoothing = self->temporal_smoothing;
  options.precision = static_cast<colorgan::Precision>(self->precision);
  self->state->latency = self->state->max_latency = self->state->reported_latency = 0;
  self->state->throughput = 0;
  self->state->dropped = 0;
  GST_OBJECT_UNLOCK(self);

  const std::string path = model.empty() ? colorgan::default_model_path() : model;
  if (path.empty()) {
    const auto places = colorgan::default_model_locations();
    GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND,
                      ("No model given and no default model found (looked for %s and %s)", places[0].c_str(),
                       places[1].c_str()),
                      ("set the 'model' property"));
    return FALSE;
  }
  try {
    options.model_path = path;
    self->state->colorizer = std::make_unique<colorgan::PlaneColorizer>(options);
  } catch (const std::invalid_argument& e) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", e.what()), ("inference-size=%s", inference_size.c_str()));
    return FALSE;
  } catch (const colorgan::DeviceError& e) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", e.what()), ("device=%s", device.c_str()));
    return FALSE;
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("%s", colorgan::first_line(e.what()).c_str()), ("model=%s: %s", path.c_str(), e.what()));
    return FALSE;
  }
  GST_INFO_OBJECT(self, "loaded model %s on %s, %s", path.c_str(), self->state->colorizer->device_name().c_str(),
                  colorgan::to_string(self->state->colorizer->precision()));
  return TRUE;
}

static gboolean gst_cgan_colorize_stop(GstBaseTransform* trans) {
  GstCganColorize* self = GST_CGAN_COLORIZE(trans);
  self->state->clear_queues();
  self->state->colorizer.reset();  // the counters stay readable until the next start
  return TRUE;
}

// An output buffer of `size` bytes: from the negotiated pool (no per-frame
// allocation of whole frames), else a new one. Never waits on the pool: a
// batch may need more buffers than a downstream pool holds.
static GstBuffer* new_output(GstBaseTransform* trans, gsize size) {
  GstBuffer* buffer = nullptr;
  GstBufferPool* pool = gst_base_transform_get_buffer_pool(trans);
  if (pool != nullptr) {
    GstBufferPoolAcquireParams params{};
    params.flags = GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT;
    if (!gst_buffer_pool_is_active(pool) || gst_buffer_pool_acquire_buffer(pool, &buffer, &params) != GST_FLOW_OK) {
      buffer = nullptr;
    }
    gst_object_unref(pool);
  }
  if (buffer != nullptr && gst_buffer_get_size(buffer) < size) gst_clear_buffer(&buffer);
  return buffer != nullptr ? buffer : gst_buffer_new_allocate(nullptr, size, nullptr);
}

// One frame of a batch, mapped for colorizing: planar frames or raw video.
struct MappedFrame {
  GstBuffer* output = nullptr;
  bool mapped = false;
  GstMapInfo in{}, out{};                    // planar
  GstVideoFrame raw_in{}, raw_out{};         // raw
};

static colorgan::RawImage raw_image(GstVideoFrame* frame, colorgan::RawFormat format) {
  colorgan::RawImage image{format, GST_VIDEO_FRAME_WIDTH(frame), GST_VIDEO_FRAME_HEIGHT(frame), {}, {},
                           cgan_yuv_matrix(&frame->info)};
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(frame) && p < 3; ++p) {
    image.planes[p] = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(frame, p));
    image.strides[p] = GST_VIDEO_FRAME_PLANE_STRIDE(frame, p);
  }
  return image;
}

// Maps input and output of one frame; posts an error and returns FALSE if it cannot.
static gboolean map_frame(GstCganColorize* self, GstBuffer* input, MappedFrame& f) {
  CganColorizeState& s = *self->state;
  if (s.raw) {
    const bool has_meta = gst_buffer_get_video_meta(input) != nullptr;  // its own strides: mapping checks them
    if (!has_meta && !cgan_buffer_holds(GST_ELEMENT(self), input, GST_VIDEO_INFO_SIZE(&s.raw_in), "input")) {
      return FALSE;
    }
    if (!gst_video_frame_map(&f.raw_in, &s.raw_in, input, GST_MAP_READ)) {
      GST_ELEMENT_ERROR(self, STREAM, FORMAT, ("Could not map an input frame (smaller than its caps say?)"), (nullptr));
      return FALSE;
    }
    if (!gst_video_frame_map(&f.raw_out, &s.raw_out, f.output, GST_MAP_WRITE)) {
      gst_video_frame_unmap(&f.raw_in);
      GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map an output frame"), (nullptr));
      return FALSE;
    }
    return f.mapped = true;
  }
  if (!cgan_buffer_holds(GST_ELEMENT(self), input, s.in_info.size(), "input")) return FALSE;
  if (!gst_buffer_map(input, &f.in, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map a buffer"), (nullptr));
    return FALSE;
  }
  if (!gst_buffer_map(f.output, &f.out, GST_MAP_WRITE)) {
    gst_buffer_unmap(input, &f.in);
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map a buffer"), (nullptr));
    return FALSE;
  }
  return f.mapped = true;
}

static void unmap_frame(CganColorizeState& s, GstBuffer* input, MappedFrame& f) {
  if (!f.mapped) return;
  if (s.raw) {
    gst_video_frame_unmap(&f.raw_out);
    gst_video_frame_unmap(&f.raw_in);
  } else {
    gst_buffer_unmap(f.output, &f.out);
    gst_buffer_unmap(input, &f.in);
  }
}

// One forward pass over the mapped frames.
static void colorize_mapped(CganColorizeState& s, std::vector<MappedFrame>& frames) {
  const int count = static_cast<int>(frames.size());
  if (s.raw) {
    std::vector<colorgan::RawImage> in, out;
    for (MappedFrame& f : frames) {
      in.push_back(raw_image(&f.raw_in, s.raw_in_format));
      out.push_back(raw_image(&f.raw_out, s.raw_out_format));
    }
    s.colorizer->colorize(in.data(), out.data(), count);
    return;
  }
  const gsize plane = s.in_info.plane_size();
  const int noise_index = s.in_info.index_of("N");
  std::vector<colorgan::PlaneFrame> planes;
  for (MappedFrame& f : frames) {
    const float* y_in = reinterpret_cast<const float*>(f.in.data);
    float* y_out = reinterpret_cast<float*>(f.out.data);
    std::memcpy(y_out, y_in, plane * sizeof(float));  // Y passes bit for bit
    planes.push_back({y_in, noise_index < 0 ? nullptr : y_in + noise_index * plane, y_out + plane, y_out + 2 * plane});
  }
  s.colorizer->colorize(planes.data(), count, s.in_info.width, s.in_info.height);
}

// Colorizes the pending frames in one forward pass and queues them for pushing.
static GstFlowReturn colorize_pending(GstCganColorize* self) {
  CganColorizeState& s = *self->state;
  if (s.pending.empty()) return GST_FLOW_OK;
  const size_t count = s.pending.size();
  const gsize out_size = s.raw ? GST_VIDEO_INFO_SIZE(&s.raw_out) : 3 * s.in_info.plane_size() * sizeof(float);
  std::vector<MappedFrame> frames(count);
  GstFlowReturn ret = GST_FLOW_OK;
  for (size_t i = 0; i < count && ret == GST_FLOW_OK; ++i) {
    frames[i].output = new_output(GST_BASE_TRANSFORM(self), out_size);
    gst_buffer_copy_into(frames[i].output, s.pending[i], GST_BUFFER_COPY_METADATA, 0, -1);
    if (!map_frame(self, s.pending[i], frames[i])) ret = GST_FLOW_ERROR;
  }
  if (ret == GST_FLOW_OK) {
    const auto start = std::chrono::steady_clock::now();
    try {
      colorize_mapped(s, frames);
    } catch (const std::exception& e) {
      GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Colorization failed: %s", colorgan::first_line(e.what()).c_str()), ("%s", e.what()));
      ret = GST_FLOW_ERROR;
    }
    const GstClockTime took = since(start);
    GST_LOG_OBJECT(self, "colorized %zu frame(s) in %" GST_TIME_FORMAT, count, GST_TIME_ARGS(took));
    if (record_timing(self, took, static_cast<guint>(count))) {
      GST_INFO_OBJECT(self, "a frame took %" GST_TIME_FORMAT ", more than the latency reported: re-query",
                      GST_TIME_ARGS(took));
      gst_element_post_message(GST_ELEMENT(self), gst_message_new_latency(GST_OBJECT(self)));
    }
  }
  for (size_t i = 0; i < count; ++i) {
    unmap_frame(s, s.pending[i], frames[i]);
    gst_buffer_unref(s.pending[i]);
    if (frames[i].output == nullptr) continue;
    if (ret == GST_FLOW_OK) {
      s.ready.push_back(frames[i].output);
    } else {
      gst_buffer_unref(frames[i].output);
    }
  }
  s.pending.clear();
  return ret;
}

// Without a pool from downstream, one of our own: whole frames are not
// allocated and freed (and their pages faulted in) frame after frame.
static gboolean gst_cgan_colorize_decide_allocation(GstBaseTransform* trans, GstQuery* query) {
  if (gst_query_get_n_allocation_pools(query) == 0) {
    GstCaps* caps = nullptr;
    gst_query_parse_allocation(query, &caps, nullptr);
    gsize size = 0;
    if (caps != nullptr && cgan_get_unit_size(trans, caps, &size)) {
      gst_query_add_allocation_pool(query, nullptr, static_cast<guint>(size), 0, 0);
    }
  }
  return GST_BASE_TRANSFORM_CLASS(gst_cgan_colorize_parent_class)->decide_allocation(trans, query);
}

// Base class first: it drops frames QoS reports as late (qos=true). The rest
// wait for a full batch.
static GstFlowReturn gst_cgan_colorize_submit_input_buffer(GstBaseTransform* trans, gboolean is_discont,
                                                           GstBuffer* input) {
  GstCganColorize* self = GST_CGAN_COLORIZE(trans);
  CganColorizeState& s = *self->state;
  const GstClockTime pts = GST_BUFFER_PTS(input);
  GstFlowReturn ret =
      GST_BASE_TRANSFORM_CLASS(gst_cgan_colorize_parent_class)->submit_input_buffer(trans, is_discont, input);
  if (ret == GST_BASE_TRANSFORM_FLOW_DROPPED) {
    GST_OBJECT_LOCK(self);
    const guint64 dropped = ++s.dropped;
    GST_OBJECT_UNLOCK(self);
    GST_DEBUG_OBJECT(self, "dropped late frame %" GST_TIME_FORMAT " (%" G_GUINT64_FORMAT " so far)",
                     GST_TIME_ARGS(pts), dropped);
    return ret;
  }
  if (ret != GST_FLOW_OK || trans->queued_buf == nullptr) return ret;
  s.pending.push_back(trans->queued_buf);
  trans->queued_buf = nullptr;
  GST_OBJECT_LOCK(self);
  const guint batch = s.live ? 1 : std::max(1u, self->batch_size);
  GST_OBJECT_UNLOCK(self);
  return s.pending.size() >= batch ? colorize_pending(self) : GST_FLOW_OK;
}

static GstFlowReturn gst_cgan_colorize_generate_output(GstBaseTransform* trans, GstBuffer** output) {
  CganColorizeState& s = *GST_CGAN_COLORIZE(trans)->state;
  *output = nullptr;
  if (!s.ready.empty()) {
    *output = s.ready.front();
    s.ready.pop_front();
  }
  return GST_FLOW_OK;
}

// A partial batch is colorized and pushed before EOS, before a new format, and before gaps.
static GstFlowReturn drain(GstCganColorize* self) {
  GstFlowReturn ret = colorize_pending(self);
  CganColorizeState& s = *self->state;
  while (!s.ready.empty()) {
    GstBuffer* buffer = s.ready.front();
    s.ready.pop_front();
    if (ret == GST_FLOW_OK) {
      ret = gst_pad_push(GST_BASE_TRANSFORM_SRC_PAD(self), buffer);
    } else {
      gst_buffer_unref(buffer);
    }
  }
  return ret;
}

// drain() before an event: its frames are lost if downstream refused them, so
// a fatal refusal is an error the application hears of (a failed colorization
// and downstream's own errors are posted where they happen).
static void drain_before_event(GstCganColorize* self) {
  const GstFlowReturn ret = drain(self);
  if (ret == GST_FLOW_OK) return;
  GST_DEBUG_OBJECT(self, "draining the pending batch: %s", gst_flow_get_name(ret));
  if (ret == GST_FLOW_NOT_LINKED || ret == GST_FLOW_NOT_NEGOTIATED) GST_ELEMENT_FLOW_ERROR(self, ret);
}

static gboolean gst_cgan_colorize_sink_event(GstBaseTransform* trans, GstEvent* event) {
  GstCganColorize* self = GST_CGAN_COLORIZE(trans);
  CganColorizeState& s = *self->state;
  // A partial batch goes out before what follows; after a flush, seek or new
  // stream, earlier frames say nothing about the next ones.
  if (s.colorizer) {
    switch (GST_EVENT_TYPE(event)) {
      case GST_EVENT_EOS:
      case GST_EVENT_CAPS:
      case GST_EVENT_GAP: drain_before_event(self); break;
      case GST_EVENT_SEGMENT:
        drain_before_event(self);
        s.colorizer->reset_history();
        break;
      case GST_EVENT_FLUSH_STOP:
        s.clear_queues();
        s.colorizer->reset_history();
        break;
      case GST_EVENT_STREAM_START: s.colorizer->reset_history(); break;
      default: break;
    }
  }
  return GST_BASE_TRANSFORM_CLASS(gst_cgan_colorize_parent_class)->sink_event(trans, event);
}

// LATENCY: upstream's plus the most one frame has taken here, with a margin.
static gboolean gst_cgan_colorize_query(GstBaseTransform* trans, GstPadDirection direction, GstQuery* query) {
  GstCganColorize* self = GST_CGAN_COLORIZE(trans);
  if (direction != GST_PAD_SRC || GST_QUERY_TYPE(query) != GST_QUERY_LATENCY) {
    return GST_BASE_TRANSFORM_CLASS(gst_cgan_colorize_parent_class)->query(trans, direction, query);
  }
  GstQuery* upstream = gst_query_new_latency();
  const gboolean answered = gst_pad_peer_query(trans->sinkpad, upstream);
  if (answered) {
    gboolean live;
    GstClockTime min, max;
    gst_query_parse_latency(upstream, &live, &min, &max);
    GST_OBJECT_LOCK(self);
    const GstClockTime ours = self->state->max_latency + self->state->max_latency / 4;
    self->state->reported_latency = ours;
    GST_OBJECT_UNLOCK(self);
    GST_DEBUG_OBJECT(self, "latency: upstream %" GST_TIME_FORMAT " + ours %" GST_TIME_FORMAT, GST_TIME_ARGS(min),
                     GST_TIME_ARGS(ours));
    gst_query_set_latency(query, live, min + ours, GST_CLOCK_TIME_IS_VALID(max) ? max + ours : max);
  }
  gst_query_unref(upstream);
  return answered;
}

static void gst_cgan_colorize_set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) {
  GstCganColorize* self = GST_CGAN_COLORIZE(object);
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_MODEL:
      g_free(self->model);
      self->model = g_value_dup_string(value);
      break;
    case PROP_DEVICE:
      g_free(self->device);
      self->device = g_strdup(g_value_get_string(value) != nullptr ? g_value_get_string(value) : DEFAULT_DEVICE);
      break;
    case PROP_NUM_THREADS: self->num_threads = g_value_get_int(value); break;
    case PROP_SEED: self->seed = g_value_get_uint64(value); break;
    case PROP_INFERENCE_SIZE:
      g_free(self->inference_size);
      self->inference_size = g_value_dup_string(value);
      break;
    case PROP_UPSAMPLING: self->upsampling = g_value_get_enum(value); break;
    case PROP_PRECISION: self->precision = g_value_get_enum(value); break;
    case PROP_TEMPORAL_SMOOTHING: self->temporal_smoothing = g_value_get_double(value); break;
    case PROP_BATCH_SIZE: self->batch_size = g_value_get_uint(value); break;
    case PROP_NOISE_MODE: self->noise_mode = g_value_get_enum(value); break;
    case PROP_DRIFT_RATE: self->drift_rate = g_value_get_double(value); break;
    case PROP_INFERENCE_INTERVAL: self->inference_interval = g_value_get_uint(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_cgan_colorize_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  GstCganColorize* self = GST_CGAN_COLORIZE(object);
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_MODEL: g_value_set_string(value, self->model); break;
    case PROP_DEVICE: g_value_set_string(value, self->device); break;
    case PROP_NUM_THREADS: g_value_set_int(value, self->num_threads); break;
    case PROP_SEED: g_value_set_uint64(value, self->seed); break;
    case PROP_INFERENCE_SIZE: g_value_set_string(value, self->inference_size); break;
    case PROP_UPSAMPLING: g_value_set_enum(value, self->upsampling); break;
    case PROP_PRECISION: g_value_set_enum(value, self->precision); break;
    case PROP_TEMPORAL_SMOOTHING: g_value_set_double(value, self->temporal_smoothing); break;
    case PROP_BATCH_SIZE: g_value_set_uint(value, self->batch_size); break;
    case PROP_NOISE_MODE: g_value_set_enum(value, self->noise_mode); break;
    case PROP_DRIFT_RATE: g_value_set_double(value, self->drift_rate); break;
    case PROP_INFERENCE_INTERVAL: g_value_set_uint(value, self->inference_interval); break;
    case PROP_LATENCY: g_value_set_uint64(value, self->state->latency / GST_USECOND); break;
    case PROP_THROUGHPUT: g_value_set_double(value, self->state->throughput); break;
    case PROP_FRAMES_DROPPED: g_value_set_uint64(value, self->state->dropped); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_cgan_colorize_finalize(GObject* object) {
  GstCganColorize* self = GST_CGAN_COLORIZE(object);
  g_free(self->model);
  g_free(self->device);
  g_free(self->inference_size);
  self->state->clear_queues();
  delete self->state;
  G_OBJECT_CLASS(gst_cgan_colorize_parent_class)->finalize(object);
}

static void gst_cgan_colorize_class_init(GstCganColorizeClass* klass) {
  GObjectClass* object_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass* trans_class = GST_BASE_TRANSFORM_CLASS(klass);

  object_class->set_property = gst_cgan_colorize_set_property;
  object_class->get_property = gst_cgan_colorize_get_property;
  object_class->finalize = gst_cgan_colorize_finalize;

  const auto flags =
      static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  /**
   * GstCganColorize:model:
   *
   * Model file (.cgan) to load at start; unset loads the default model.
   */
  g_object_class_install_property(object_class, PROP_MODEL,
      g_param_spec_string("model", "Model",
                          "Model file (.cgan) to load; unset = the project's default model "
                          "(installed share/colorgan/models/default.cgan, else the source tree's models/default.cgan)",
                          nullptr, flags));
  /**
   * GstCganColorize:device:
   *
   * auto, cpu, cuda or cuda:N. CUDA asked for where there is none is an error, never a CPU fallback.
   */
  g_object_class_install_property(object_class, PROP_DEVICE,
      g_param_spec_string("device", "Device",
                          "Where the model runs: auto (CUDA if available), cpu, cuda or cuda:N. "
                          "CUDA requested without CUDA is an error",
                          DEFAULT_DEVICE, flags));
  /**
   * GstCganColorize:num-threads:
   *
   * LibTorch CPU threads, process-wide, capped at the cores available. 0 (the default) uses
   * one less than the cores available, at least 1: the rest of the pipeline keeps a core,
   * and the OpenMP pool does not spin-wait against the decoder and encoder.
   */
  g_object_class_install_property(object_class, PROP_NUM_THREADS,
      g_param_spec_int("num-threads", "Number of threads",
                       "LibTorch CPU threads (process-wide), at most the cores available to the process; "
                       "0 = one less than the cores available (at least 1)", 0, 1024,
                       DEFAULT_NUM_THREADS, flags));
  /**
   * GstCganColorize:seed:
   *
   * Seed of the noise plane drawn when frames carry none (fixed per stream).
   */
  g_object_class_install_property(object_class, PROP_SEED,
      g_param_spec_uint64("seed", "Seed", "Seed of the noise drawn when no noise plane arrives", 0, G_MAXUINT64,
                          DEFAULT_SEED, flags));

  /**
   * GstCganColorize:inference-size:
   *
   * Working size of the model: unset (its training size on the short side), native, WxH or N.
   */
  g_object_class_install_property(object_class, PROP_INFERENCE_SIZE,
      g_param_spec_string("inference-size", "Inference size",
                          "Size the model runs at: unset = the model's training size (short side, aspect kept), "
                          "native, WxH, or a short-side length. Chroma is upsampled to the frame; Y is kept",
                          nullptr, flags));

  /**
   * GstCganColorize:upsampling:
   *
   * How the chroma predicted at the working size reaches the frame's size.
   */
  g_object_class_install_property(object_class, PROP_UPSAMPLING,
      g_param_spec_enum("upsampling", "Chroma upsampling",
                        "How chroma predicted at the inference size is brought to the frame's size",
                        GST_TYPE_CGAN_UPSAMPLING, DEFAULT_UPSAMPLING, flags));
  /**
   * GstCganColorize:precision:
   *
   * Number format of the model's convolutions: bf16 is about 2x faster on CPUs with AVX512-BF16.
   * auto (the default) picks bf16 where the CPU has it natively (or on CUDA) and the model keeps
   * within one 8-bit chroma level of fp32 in it, fp32 elsewhere.
   */
  g_object_class_install_property(object_class, PROP_PRECISION,
      g_param_spec_enum("precision", "Precision", "Number format of the model's convolutions",
                        GST_TYPE_CGAN_PRECISION, DEFAULT_PRECISION, flags));
  /**
   * GstCganColorize:temporal-smoothing:
   *
   * Blends each frame's chroma with the previous frame's where the luma did not change.
   */
  g_object_class_install_property(object_class, PROP_TEMPORAL_SMOOTHING,
      g_param_spec_double("temporal-smoothing", "Temporal smoothing",
                          "Weight of the previous frame's chroma where the luma has not changed "
                          "(0 = off, frames colorized independently; reset on scene cuts and seeks)",
                          0.0, 1.0, DEFAULT_TEMPORAL_SMOOTHING, flags));
  /**
   * GstCganColorize:batch-size:
   *
   * Frames per forward pass for non-live sources; a partial batch is flushed at EOS and format changes.
   */
  g_object_class_install_property(object_class, PROP_BATCH_SIZE,
      g_param_spec_uint("batch-size", "Batch size",
                        "Frames per forward pass for non-live sources (live sources run frame by frame); "
                        "a partial batch is flushed at EOS and format changes",
                        1, 256, DEFAULT_BATCH_SIZE, flags));
  /**
   * GstCganColorize:noise-mode:
   *
   * How the noise it draws itself (when no N plane arrives) changes from frame to frame.
   */
  g_object_class_install_property(object_class, PROP_NOISE_MODE,
      g_param_spec_enum("noise-mode", "Noise mode",
                        "How the noise drawn here (frames without an N plane) changes from frame to frame",
                        GST_TYPE_CGAN_NOISE_MODE, DEFAULT_NOISE_MODE, flags));
  /**
   * GstCganColorize:drift-rate:
   *
   * With noise-mode=drift, the share of fresh noise mixed in per frame.
   */
  g_object_class_install_property(object_class, PROP_DRIFT_RATE,
      g_param_spec_double("drift-rate", "Drift rate",
                          "noise-mode=drift: share of fresh noise mixed in per frame (n = sqrt(1-r^2) n + r fresh)",
                          0.0, 1.0, DEFAULT_DRIFT_RATE, flags));
  /**
   * GstCganColorize:inference-interval:
   *
   * The model runs on every Nth frame, and on any frame that moved or cut far from
   * the last one it saw; the frames between carry its chroma through the stabiliser.
   */
  g_object_class_install_property(object_class, PROP_INFERENCE_INTERVAL,
      g_param_spec_uint("inference-interval", "Inference interval",
                        "Run the model on every Nth frame (1 = every frame) and on scene cuts or large motion; "
                        "the frames between carry the last chroma, refitted to their own luma",
                        1, 1000, DEFAULT_INFERENCE_INTERVAL, flags));
  const auto readable = static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * GstCganColorize:latency:
   *
   * Measured processing time of recent forward passes, in microseconds (read-only).
   */
  g_object_class_install_property(object_class, PROP_LATENCY,
      g_param_spec_uint64("latency", "Latency", "Measured processing time of recent forward passes, in microseconds",
                          0, G_MAXUINT64, 0, readable));
  /**
   * GstCganColorize:throughput:
   *
   * Measured frames per second of processing time (read-only).
   */
  g_object_class_install_property(object_class, PROP_THROUGHPUT,
      g_param_spec_double("throughput", "Throughput", "Measured frames per second of processing time (recent calls)",
                          0, G_MAXDOUBLE, 0, readable));
  /**
   * GstCganColorize:frames-dropped:
   *
   * Frames dropped because downstream reported them late (QoS; read-only).
   */
  g_object_class_install_property(object_class, PROP_FRAMES_DROPPED,
      g_param_spec_uint64("frames-dropped", "Frames dropped",
                          "Frames dropped because downstream reported them late (QoS)", 0, G_MAXUINT64, 0, readable));

  gst_element_class_set_static_metadata(element_class, "colorgan colorizer", "Filter/Effect/Video",
                                        "Predicts colour (U,V) from luma and noise with a LibTorch conditional GAN",
                                        "colorgan developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_cgan_colorize_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_cgan_colorize_stop);
  trans_class->transform_caps = GST_DEBUG_FUNCPTR(gst_cgan_colorize_transform_caps);
  trans_class->fixate_caps = GST_DEBUG_FUNCPTR(gst_cgan_colorize_fixate_caps);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_cgan_colorize_set_caps);
  trans_class->decide_allocation = GST_DEBUG_FUNCPTR(gst_cgan_colorize_decide_allocation);
  trans_class->get_unit_size = GST_DEBUG_FUNCPTR(cgan_get_unit_size);
  trans_class->submit_input_buffer = GST_DEBUG_FUNCPTR(gst_cgan_colorize_submit_input_buffer);
  trans_class->generate_output = GST_DEBUG_FUNCPTR(gst_cgan_colorize_generate_output);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_cgan_colorize_sink_event);
  trans_class->query = GST_DEBUG_FUNCPTR(gst_cgan_colorize_query);
  trans_class->passthrough_on_same_caps = FALSE;

  GST_DEBUG_CATEGORY_INIT(gst_cgan_colorize_debug, "cgancolorize", 0, "colorgan colorizer");
  gst_type_mark_as_plugin_api(GST_TYPE_CGAN_UPSAMPLING, static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(GST_TYPE_CGAN_PRECISION, static_cast<GstPluginAPIFlags>(0));
}

static void gst_cgan_colorize_init(GstCganColorize* self) {
  self->model = nullptr;
  self->device = g_strdup(DEFAULT_DEVICE);
  self->num_threads = DEFAULT_NUM_THREADS;
  self->seed = DEFAULT_SEED;
  self->upsampling = DEFAULT_UPSAMPLING;
  self->precision = DEFAULT_PRECISION;
  self->temporal_smoothing = DEFAULT_TEMPORAL_SMOOTHING;
  self->batch_size = DEFAULT_BATCH_SIZE;
  self->noise_mode = DEFAULT_NOISE_MODE;
  self->drift_rate = DEFAULT_DRIFT_RATE;
  self->inference_interval = DEFAULT_INFERENCE_INTERVAL;
  self->state = new CganColorizeState();
  gst_base_transform_set_qos_enabled(GST_BASE_TRANSFORM(self), TRUE);
}
