/**
 * SECTION:element-cgancolorizebin
 * @title: cgancolorizebin
 *
 * The whole colorgan chain in one element, raw video on both sides:
 * cganrgb2yuv ! cgannoise ! cgancolorize ! cganyuv2rgb. Its properties are
 * those of the inner cgancolorize (model, device, num-threads, inference-size) and cgannoise
 * (seed, which also seeds cgancolorize).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=gray.webm ! decodebin ! videoconvert ! cgancolorizebin model=model.cgan ! videoconvert ! autovideosink
 * ]|
 */
#include "gstcgancolorizebin.h"

GST_DEBUG_CATEGORY_STATIC(gst_cgan_colorize_bin_debug);
#define GST_CAT_DEFAULT gst_cgan_colorize_bin_debug

enum { PROP_0, PROP_MODEL, PROP_DEVICE, PROP_NUM_THREADS, PROP_SEED, PROP_INFERENCE_SIZE };

G_DEFINE_TYPE(GstCganColorizeBin, gst_cgan_colorize_bin, GST_TYPE_BIN)

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
                            GST_STATIC_CAPS("video/x-raw, format=(string){ RGB, BGR, RGBx, BGRx, RGBA, BGRA, GRAY8 }"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-raw, format=(string){ RGB, RGBx, BGRx, RGBA, I420 }"));

static void gst_cgan_colorize_bin_set_property(GObject* object, guint prop_id, const GValue* value,
                                               GParamSpec* pspec) {
  GstCganColorizeBin* self = GST_CGAN_COLORIZE_BIN(object);
  switch (prop_id) {
    case PROP_MODEL: g_object_set_property(G_OBJECT(self->colorize), "model", value); break;
    case PROP_DEVICE: g_object_set_property(G_OBJECT(self->colorize), "device", value); break;
    case PROP_NUM_THREADS: g_object_set_property(G_OBJECT(self->colorize), "num-threads", value); break;
    case PROP_INFERENCE_SIZE: g_object_set_property(G_OBJECT(self->colorize), "inference-size", value); break;
    case PROP_SEED:
      g_object_set_property(G_OBJECT(self->noise), "seed", value);
      g_object_set_property(G_OBJECT(self->colorize), "seed", value);
      break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

static void gst_cgan_colorize_bin_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  GstCganColorizeBin* self = GST_CGAN_COLORIZE_BIN(object);
  switch (prop_id) {
    case PROP_MODEL: g_object_get_property(G_OBJECT(self->colorize), "model", value); break;
    case PROP_DEVICE: g_object_get_property(G_OBJECT(self->colorize), "device", value); break;
    case PROP_NUM_THREADS: g_object_get_property(G_OBJECT(self->colorize), "num-threads", value); break;
    case PROP_INFERENCE_SIZE: g_object_get_property(G_OBJECT(self->colorize), "inference-size", value); break;
    case PROP_SEED: g_object_get_property(G_OBJECT(self->noise), "seed", value); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec); break;
  }
}

// Installs a property on the bin with the same spec as the inner element's.
static void proxy_property(GObjectClass* bin_class, guint prop_id, GType inner_type, const char* name) {
  GObjectClass* inner_class = G_OBJECT_CLASS(g_type_class_ref(inner_type));
  GParamSpec* inner = g_object_class_find_property(inner_class, name);
  GParamSpec* spec = nullptr;
  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY);
  if (G_IS_PARAM_SPEC_STRING(inner)) {
    spec = g_param_spec_string(name, g_param_spec_get_nick(inner), g_param_spec_get_blurb(inner),
                               G_PARAM_SPEC_STRING(inner)->default_value, flags);
  } else if (G_IS_PARAM_SPEC_INT(inner)) {
    auto* p = G_PARAM_SPEC_INT(inner);
    spec = g_param_spec_int(name, g_param_spec_get_nick(inner), g_param_spec_get_blurb(inner), p->minimum, p->maximum,
                            p->default_value, flags);
  } else {
    auto* p = G_PARAM_SPEC_UINT64(inner);
    spec = g_param_spec_uint64(name, g_param_spec_get_nick(inner), g_param_spec_get_blurb(inner), p->minimum,
                               p->maximum, p->default_value, flags);
  }
  g_object_class_install_property(bin_class, prop_id, spec);
  g_type_class_unref(inner_class);
}

static void gst_cgan_colorize_bin_class_init(GstCganColorizeBinClass* klass) {
  GObjectClass* object_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);

  object_class->set_property = gst_cgan_colorize_bin_set_property;
  object_class->get_property = gst_cgan_colorize_bin_get_property;

  const GType colorize = g_type_from_name("GstCganColorize");
  proxy_property(object_class, PROP_MODEL, colorize, "model");
  proxy_property(object_class, PROP_DEVICE, colorize, "device");
  proxy_property(object_class, PROP_NUM_THREADS, colorize, "num-threads");
  proxy_property(object_class, PROP_INFERENCE_SIZE, colorize, "inference-size");
  proxy_property(object_class, PROP_SEED, g_type_from_name("GstCganNoise"), "seed");

  gst_element_class_set_static_metadata(element_class, "colorgan colorizer bin", "Filter/Effect/Video/Bin",
                                        "Colorizes raw video: cganrgb2yuv ! cgannoise ! cgancolorize ! cganyuv2rgb",
                                        "colorgan developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  GST_DEBUG_CATEGORY_INIT(gst_cgan_colorize_bin_debug, "cgancolorizebin", 0, "colorgan colorizer bin");
}

static void add_ghost_pad(GstCganColorizeBin* self, GstElement* element, const char* name) {
  GstPad* target = gst_element_get_static_pad(element, name);
  GstPadTemplate* templ = gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), name);
  gst_element_add_pad(GST_ELEMENT(self), gst_ghost_pad_new_from_template(name, target, templ));
  gst_object_unref(target);
}

static void gst_cgan_colorize_bin_init(GstCganColorizeBin* self) {
  GstElement* rgb2yuv = gst_element_factory_make("cganrgb2yuv", "rgb2yuv");
  self->noise = gst_element_factory_make("cgannoise", "noise");
  self->colorize = gst_element_factory_make("cgancolorize", "colorize");
  GstElement* yuv2rgb = gst_element_factory_make("cganyuv2rgb", "yuv2rgb");
  gst_bin_add_many(GST_BIN(self), rgb2yuv, self->noise, self->colorize, yuv2rgb, nullptr);
  gst_element_link_many(rgb2yuv, self->noise, self->colorize, yuv2rgb, nullptr);
  add_ghost_pad(self, rgb2yuv, "sink");
  add_ghost_pad(self, yuv2rgb, "src");
}
