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

#include "cganplanar.h"
#include "colorgan/default_model.h"
#include "colorgan/errors.h"
#include "colorgan/frames.h"

#include <cstring>
#include <memory>

GST_DEBUG_CATEGORY_STATIC(gst_cgan_colorize_debug);
#define GST_CAT_DEFAULT gst_cgan_colorize_debug

struct CganColorizeState {
  CganPlanarInfo in_info;
  std::unique_ptr<colorgan::PlaneColorizer> colorizer;  // loaded in start(), dropped in stop()
};

enum { PROP_0, PROP_MODEL, PROP_DEVICE, PROP_NUM_THREADS, PROP_SEED, PROP_INFERENCE_SIZE };

#define DEFAULT_DEVICE "auto"
#define DEFAULT_NUM_THREADS 0
#define DEFAULT_SEED 0

G_DEFINE_TYPE(GstCganColorize, gst_cgan_colorize, GST_TYPE_BASE_TRANSFORM)

static const CganCapsMap kToColour = {{"Y", "Y,U,V"}, {"Y,N", "Y,U,V"}, {"Y,U,V", "Y,U,V"}, {"Y,U,V,N", "Y,U,V"}};

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
                            GST_STATIC_CAPS(CGAN_PLANAR_CAPS("{ Y, \"Y,N\", \"Y,U,V\", \"Y,U,V,N\" }")));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(CGAN_PLANAR_CAPS("\"Y,U,V\"")));

static GstCaps* gst_cgan_colorize_transform_caps(GstBaseTransform*, GstPadDirection direction, GstCaps* caps,
                                                 GstCaps* filter) {
  const CganCapsMap& map = direction == GST_PAD_SINK ? kToColour : cgan_caps_map_reversed(kToColour);
  return cgan_caps_translate(caps, CGAN_PLANAR_MEDIA_TYPE, "planes", "planes", map, filter);
}

static gboolean gst_cgan_colorize_set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps*) {
  GstCganColorize* self = GST_CGAN_COLORIZE(trans);
  if (!cgan_planar_info_from_caps(incaps, &self->state->in_info)) {
    GST_ERROR_OBJECT(self, "cannot parse input caps %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  return TRUE;
}

static gboolean gst_cgan_colorize_start(GstBaseTransform* trans) {
  GstCganColorize* self = GST_CGAN_COLORIZE(trans);
  GST_OBJECT_LOCK(self);
  const std::string model = self->model != nullptr ? self->model : "";
  const std::string device = self->device;
  const int threads = self->num_threads;
  const guint64 seed = self->seed;
  const std::string inference_size = self->inference_size != nullptr ? self->inference_size : "";
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
    self->state->colorizer = std::make_unique<colorgan::PlaneColorizer>(path, device, threads, seed, inference_size);
  } catch (const std::invalid_argument& e) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", e.what()), ("inference-size=%s", inference_size.c_str()));
    return FALSE;
  } catch (const colorgan::DeviceError& e) {
    GST_ELEMENT_ERROR(self, RESOURCE, SETTINGS, ("%s", e.what()), ("device=%s", device.c_str()));
    return FALSE;
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, RESOURCE, OPEN_READ, ("%s", e.what()), ("model=%s", path.c_str()));
    return FALSE;
  }
  GST_INFO_OBJECT(self, "loaded model %s on %s", path.c_str(), self->state->colorizer->device_name().c_str());
  return TRUE;
}

static gboolean gst_cgan_colorize_stop(GstBaseTransform* trans) {
  GST_CGAN_COLORIZE(trans)->state->colorizer.reset();
  return TRUE;
}

static GstFlowReturn gst_cgan_colorize_transform(GstBaseTransform* trans, GstBuffer* inbuf, GstBuffer* outbuf) {
  GstCganColorize* self = GST_CGAN_COLORIZE(trans);
  const CganPlanarInfo& info = self->state->in_info;
  GstMapInfo in, out;
  if (!gst_buffer_map(inbuf, &in, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map the input buffer"), (nullptr));
    return GST_FLOW_ERROR;
  }
  if (!gst_buffer_map(outbuf, &out, GST_MAP_WRITE)) {
    gst_buffer_unmap(inbuf, &in);
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map the output buffer"), (nullptr));
    return GST_FLOW_ERROR;
  }
  const gsize plane = info.plane_size();
  const float* y_in = reinterpret_cast<const float*>(in.data);
  const int noise_index = info.index_of("N");
  const float* noise = noise_index < 0 ? nullptr : y_in + noise_index * plane;
  float* y_out = reinterpret_cast<float*>(out.data);
  std::memcpy(y_out, y_in, plane * sizeof(float));

  GstFlowReturn ret = GST_FLOW_OK;
  try {
    self->state->colorizer->colorize(y_in, noise, y_out + plane, y_out + 2 * plane, info.width, info.height);
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Colorization failed: %s", e.what()), (nullptr));
    ret = GST_FLOW_ERROR;
  }
  gst_buffer_unmap(outbuf, &out);
  gst_buffer_unmap(inbuf, &in);
  return ret;
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
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_cgan_colorize_finalize(GObject* object) {
  GstCganColorize* self = GST_CGAN_COLORIZE(object);
  g_free(self->model);
  g_free(self->device);
  g_free(self->inference_size);
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
  g_object_class_install_property(object_class, PROP_MODEL,
      g_param_spec_string("model", "Model",
                          "Model file (.cgan) to load; unset = the project's default model "
                          "(installed share/colorgan/models/default.cgan, else the source tree's models/default.cgan)",
                          nullptr, flags));
  g_object_class_install_property(object_class, PROP_DEVICE,
      g_param_spec_string("device", "Device",
                          "Where the model runs: auto (CUDA if available), cpu, cuda or cuda:N. "
                          "CUDA requested without CUDA is an error",
                          DEFAULT_DEVICE, flags));
  g_object_class_install_property(object_class, PROP_NUM_THREADS,
      g_param_spec_int("num-threads", "Number of threads",
                       "LibTorch CPU threads (process-wide); 0 = the cores available to the process", 0, 1024,
                       DEFAULT_NUM_THREADS, flags));
  g_object_class_install_property(object_class, PROP_SEED,
      g_param_spec_uint64("seed", "Seed", "Seed of the noise drawn when no noise plane arrives", 0, G_MAXUINT64,
                          DEFAULT_SEED, flags));

  g_object_class_install_property(object_class, PROP_INFERENCE_SIZE,
      g_param_spec_string("inference-size", "Inference size",
                          "Size the model runs at: unset = the model's training size (short side, aspect kept), "
                          "native, WxH, or a short-side length. Chroma is upsampled to the frame; Y is kept",
                          nullptr, flags));

  gst_element_class_set_static_metadata(element_class, "colorgan colorizer", "Filter/Effect/Video",
                                        "Predicts colour (U,V) from luma and noise with a LibTorch conditional GAN",
                                        "colorgan developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_cgan_colorize_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_cgan_colorize_stop);
  trans_class->transform_caps = GST_DEBUG_FUNCPTR(gst_cgan_colorize_transform_caps);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_cgan_colorize_set_caps);
  trans_class->get_unit_size = GST_DEBUG_FUNCPTR(cgan_get_unit_size);
  trans_class->transform = GST_DEBUG_FUNCPTR(gst_cgan_colorize_transform);
  trans_class->passthrough_on_same_caps = FALSE;

  GST_DEBUG_CATEGORY_INIT(gst_cgan_colorize_debug, "cgancolorize", 0, "colorgan colorizer");
}

static void gst_cgan_colorize_init(GstCganColorize* self) {
  self->model = nullptr;
  self->device = g_strdup(DEFAULT_DEVICE);
  self->num_threads = DEFAULT_NUM_THREADS;
  self->seed = DEFAULT_SEED;
  self->state = new CganColorizeState();
}
