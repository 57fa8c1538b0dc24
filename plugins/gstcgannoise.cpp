/**
 * SECTION:element-cgannoise
 * @title: cgannoise
 *
 * Appends a noise plane (N) to colorgan's planar frames: Y becomes Y,N and
 * Y,U,V becomes Y,U,V,N. The noise is seeded and reproducible; by default one
 * plane is drawn per stream and reused for every frame, so colours stay
 * stable over time. A different seed gives a different plausible colouring.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc ! videoconvert ! cganrgb2yuv ! cgannoise seed=7 ! cgancolorize model=model.cgan ! cganyuv2rgb ! videoconvert ! autovideosink
 * ]|
 */
#include "gstcgannoise.h"

#include "cganplanar.h"
#include "colorgan/frames.h"

#include <cstring>
#include <memory>

GST_DEBUG_CATEGORY_STATIC(gst_cgan_noise_debug);
#define GST_CAT_DEFAULT gst_cgan_noise_debug

struct CganNoiseState {
  CganPlanarInfo in_info;
  std::unique_ptr<colorgan::NoiseStream> stream;  // null: (re)create from the properties
};

enum { PROP_0, PROP_SEED, PROP_DISTRIBUTION, PROP_AMPLITUDE, PROP_MODE, PROP_DRIFT_RATE };

#define DEFAULT_SEED 0
#define DEFAULT_DISTRIBUTION static_cast<gint>(colorgan::NoiseDistribution::Gaussian)
#define DEFAULT_AMPLITUDE 1.0f
#define DEFAULT_MODE static_cast<gint>(colorgan::NoiseMode::Fixed)
#define DEFAULT_DRIFT_RATE 0.05

static GType gst_cgan_noise_distribution_get_type() {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(colorgan::NoiseDistribution::Gaussian), "Gaussian N(0,1)",
       colorgan::to_string(colorgan::NoiseDistribution::Gaussian)},
      {static_cast<gint>(colorgan::NoiseDistribution::Uniform), "Uniform U(-1,1)",
       colorgan::to_string(colorgan::NoiseDistribution::Uniform)},
      {0, nullptr, nullptr},
  };
  return cgan_enum_type(&type, "GstCganNoiseDistribution", values);
}

GType gst_cgan_noise_mode_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {static_cast<gint>(colorgan::NoiseMode::Fixed), "One noise plane per stream (stable colours)", "fixed"},
      {static_cast<gint>(colorgan::NoiseMode::PerFrame), "A new noise plane for every frame", "per-frame"},
      {static_cast<gint>(colorgan::NoiseMode::Drift), "One plane per stream that drifts slowly (drift-rate per frame)",
       "drift"},
      {0, nullptr, nullptr},
  };
  return cgan_enum_type(&type, "GstCganNoiseMode", values);
}

G_DEFINE_TYPE(GstCganNoise, gst_cgan_noise, GST_TYPE_BASE_TRANSFORM)
GST_ELEMENT_REGISTER_DEFINE(cgannoise, "cgannoise", GST_RANK_NONE, GST_TYPE_CGAN_NOISE);

static const CganCapsMap kAppendNoise = {{"Y", "Y,N"}, {"Y,U,V", "Y,U,V,N"}};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(CGAN_PLANAR_CAPS("{ Y, \"Y,U,V\" }")));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(CGAN_PLANAR_CAPS("{ \"Y,N\", \"Y,U,V,N\" }")));

static GstCaps* gst_cgan_noise_transform_caps(GstBaseTransform*, GstPadDirection direction, GstCaps* caps,
                                              GstCaps* filter) {
  const CganCapsMap& map = direction == GST_PAD_SINK ? kAppendNoise : cgan_caps_map_reversed(kAppendNoise);
  return cgan_caps_translate(caps, CGAN_PLANAR_MEDIA_TYPE, "planes", "planes", map, filter);
}

static gboolean gst_cgan_noise_set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps*) {
  GstCganNoise* self = GST_CGAN_NOISE(trans);
  if (!cgan_planar_info_from_caps(incaps, &self->state->in_info)) {
    GST_ERROR_OBJECT(self, "cannot parse input caps %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  return TRUE;
}

static gboolean gst_cgan_noise_start(GstBaseTransform* trans) {
  GstCganNoise* self = GST_CGAN_NOISE(trans);
  GST_OBJECT_LOCK(self);
  self->state->stream.reset();  // every run starts the seeded sequence afresh
  GST_OBJECT_UNLOCK(self);
  return TRUE;
}

static GstFlowReturn gst_cgan_noise_transform(GstBaseTransform* trans, GstBuffer* inbuf, GstBuffer* outbuf) {
  GstCganNoise* self = GST_CGAN_NOISE(trans);
  CganNoiseState* state = self->state;
  const gsize frame = state->in_info.size();
  const gsize count = state->in_info.plane_size();
  if (!cgan_buffer_holds(GST_ELEMENT(self), inbuf, frame, "input") ||
      !cgan_buffer_holds(GST_ELEMENT(self), outbuf, frame + count * sizeof(float), "output")) {
    return GST_FLOW_ERROR;
  }
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
  std::memcpy(out.data, in.data, frame);
  float* noise = reinterpret_cast<float*>(out.data + frame);

  GST_OBJECT_LOCK(self);
  if (!state->stream) {
    state->stream = std::make_unique<colorgan::NoiseStream>(
        self->seed, static_cast<colorgan::NoiseDistribution>(self->distribution),
        static_cast<colorgan::NoiseMode>(self->mode), self->drift_rate, self->amplitude);
  }
  std::memcpy(noise, state->stream->next(count), count * sizeof(float));  // a new size starts a new plane
  GST_OBJECT_UNLOCK(self);

  gst_buffer_unmap(outbuf, &out);
  gst_buffer_unmap(inbuf, &in);
  return GST_FLOW_OK;
}

static void gst_cgan_noise_set_property(GObject* object, guint prop_id, const GValue* value, GParamSpec* pspec) {
  GstCganNoise* self = GST_CGAN_NOISE(object);
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_SEED: self->seed = g_value_get_uint64(value); break;
    case PROP_DISTRIBUTION: self->distribution = g_value_get_enum(value); break;
    case PROP_AMPLITUDE: self->amplitude = g_value_get_float(value); break;
    case PROP_MODE: self->mode = g_value_get_enum(value); break;
    case PROP_DRIFT_RATE: self->drift_rate = g_value_get_double(value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  self->state->stream.reset();  // any change restarts the seeded sequence
  GST_OBJECT_UNLOCK(self);
}

static void gst_cgan_noise_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  GstCganNoise* self = GST_CGAN_NOISE(object);
  GST_OBJECT_LOCK(self);
  switch (prop_id) {
    case PROP_SEED: g_value_set_uint64(value, self->seed); break;
    case PROP_DISTRIBUTION: g_value_set_enum(value, self->distribution); break;
    case PROP_AMPLITUDE: g_value_set_float(value, self->amplitude); break;
    case PROP_MODE: g_value_set_enum(value, self->mode); break;
    case PROP_DRIFT_RATE: g_value_set_double(value, self->drift_rate); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_cgan_noise_finalize(GObject* object) {
  delete GST_CGAN_NOISE(object)->state;
  G_OBJECT_CLASS(gst_cgan_noise_parent_class)->finalize(object);
}

static void gst_cgan_noise_class_init(GstCganNoiseClass* klass) {
  GObjectClass* object_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass* trans_class = GST_BASE_TRANSFORM_CLASS(klass);

  object_class->set_property = gst_cgan_noise_set_property;
  object_class->get_property = gst_cgan_noise_get_property;
  object_class->finalize = gst_cgan_noise_finalize;

  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  /**
   * GstCganNoise:seed:
   *
   * Seed of the noise generator: the same seed gives the same noise.
   */
  g_object_class_install_property(object_class, PROP_SEED,
      g_param_spec_uint64("seed", "Seed", "Seed of the noise generator: the same seed gives the same noise",
                          0, G_MAXUINT64, DEFAULT_SEED, flags));
  /**
   * GstCganNoise:distribution:
   *
   * Distribution the noise is drawn from.
   */
  g_object_class_install_property(object_class, PROP_DISTRIBUTION,
      g_param_spec_enum("distribution", "Distribution", "Distribution the noise is drawn from",
                        gst_cgan_noise_distribution_get_type(), DEFAULT_DISTRIBUTION, flags));
  /**
   * GstCganNoise:amplitude:
   *
   * Factor applied to the noise.
   */
  g_object_class_install_property(object_class, PROP_AMPLITUDE,
      g_param_spec_float("amplitude", "Amplitude", "Factor applied to the noise", 0.0f, 100.0f, DEFAULT_AMPLITUDE,
                         flags));
  /**
   * GstCganNoise:mode:
   *
   * Whether the noise is fixed per stream, drawn anew per frame or drifting.
   */
  g_object_class_install_property(object_class, PROP_MODE,
      g_param_spec_enum("mode", "Mode", "Whether the noise is fixed per stream, drawn anew per frame or drifting",
                        GST_TYPE_CGAN_NOISE_MODE, DEFAULT_MODE, flags));
  /**
   * GstCganNoise:drift-rate:
   *
   * With mode=drift, how far the noise plane wanders each frame (0 = not at all).
   */
  g_object_class_install_property(object_class, PROP_DRIFT_RATE,
      g_param_spec_double("drift-rate", "Drift rate",
                          "mode=drift: share of fresh noise mixed in per frame (n = sqrt(1-r^2) n + r fresh), "
                          "so colours wander slowly instead of flickering",
                          0.0, 1.0, DEFAULT_DRIFT_RATE, flags));

  gst_element_class_set_static_metadata(element_class, "colorgan noise injection", "Filter/Video",
                                        "Appends a seeded noise plane to colorgan's planar frames",
                                        "colorgan developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->start = GST_DEBUG_FUNCPTR(gst_cgan_noise_start);
  trans_class->transform_caps = GST_DEBUG_FUNCPTR(gst_cgan_noise_transform_caps);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_cgan_noise_set_caps);
  trans_class->get_unit_size = GST_DEBUG_FUNCPTR(cgan_get_unit_size);
  trans_class->transform = GST_DEBUG_FUNCPTR(gst_cgan_noise_transform);
  trans_class->passthrough_on_same_caps = FALSE;

  gst_type_mark_as_plugin_api(gst_cgan_noise_distribution_get_type(), static_cast<GstPluginAPIFlags>(0));
  gst_type_mark_as_plugin_api(gst_cgan_noise_mode_get_type(), static_cast<GstPluginAPIFlags>(0));
  GST_DEBUG_CATEGORY_INIT(gst_cgan_noise_debug, "cgannoise", 0, "colorgan noise injection");
}

static void gst_cgan_noise_init(GstCganNoise* self) {
  self->seed = DEFAULT_SEED;
  self->distribution = DEFAULT_DISTRIBUTION;
  self->amplitude = DEFAULT_AMPLITUDE;
  self->mode = DEFAULT_MODE;
  self->drift_rate = DEFAULT_DRIFT_RATE;
  self->state = new CganNoiseState();
}
