/**
 * SECTION:element-cgancolorizebin
 * @title: cgancolorizebin
 *
 * The colorizer for raw video in one element: cgancolorize taking the frames
 * as decoders and cameras give them (GRAY8, GRAY16_LE, the RGB family, I420,
 * NV12, Y444, I420_10LE, P010_10LE) and drawing its own noise at the model's
 * working size, so that only the luma in and the colour out are touched at full
 * resolution. YUV comes out in its own layout and depth with its Y untouched;
 * gray and RGB as any 8-bit RGB or YUV format downstream asks for.
 * Its properties are cgancolorize's (model, device, num-threads, inference-size,
 * upsampling, precision, temporal-smoothing, batch-size, seed, noise-mode,
 * drift-rate, inference-interval and the read-only latency, throughput and frames-dropped).
 * For the planar chain element by element (e.g. to inject noise or inspect the
 * planes), link cganrgb2yuv ! cgannoise ! cgancolorize ! cganyuv2rgb yourself.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=gray.webm ! decodebin ! cgancolorizebin model=model.cgan ! videoconvert ! autovideosink
 * ]|
 */
#include "gstcgancolorizebin.h"

#include "gstcgancolorize.h"

GST_DEBUG_CATEGORY_STATIC(gst_cgan_colorize_bin_debug);
#define GST_CAT_DEFAULT gst_cgan_colorize_bin_debug

G_DEFINE_TYPE(GstCganColorizeBin, gst_cgan_colorize_bin, GST_TYPE_BIN)
GST_ELEMENT_REGISTER_DEFINE(cgancolorizebin, "cgancolorizebin", GST_RANK_NONE, GST_TYPE_CGAN_COLORIZE_BIN);

// The inner element's raw pads (the planar ones stay inside colorgan's chain).
static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("video/x-raw, format=(string){ GRAY8, GRAY16_LE, RGB, BGR, RGBx, BGRx, RGBA, BGRA, I420, NV12, "
                    "Y444, I420_10LE, P010_10LE }"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("video/x-raw, format=(string){ RGB, BGR, RGBx, BGRx, RGBA, BGRA, I420, NV12, Y444, I420_10LE, "
                    "P010_10LE, Y444_16LE }"));

// The bin's properties: the inner cgancolorize's, under the same names.
static const char* const kProperties[] = {
    "model",      "device",         "num-threads", "inference-size", "upsampling", "precision",
    "temporal-smoothing", "batch-size", "seed", "noise-mode", "drift-rate", "inference-interval", "latency", "throughput", "frames-dropped",
};

static void gst_cgan_colorize_bin_set_property(GObject* object, guint prop_id, const GValue* value,
                                               GParamSpec* pspec) {
  GstCganColorizeBin* self = GST_CGAN_COLORIZE_BIN(object);
  if (prop_id == 0 || prop_id > G_N_ELEMENTS(kProperties)) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    return;
  }
  g_object_set_property(G_OBJECT(self->colorize), kProperties[prop_id - 1], value);
}

static void gst_cgan_colorize_bin_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  GstCganColorizeBin* self = GST_CGAN_COLORIZE_BIN(object);
  if (prop_id == 0 || prop_id > G_N_ELEMENTS(kProperties)) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    return;
  }
  g_object_get_property(G_OBJECT(self->colorize), kProperties[prop_id - 1], value);
}

// A copy of an inner element's property spec under the bin's name.
static GParamSpec* copy_spec(const char* name, GParamSpec* inner) {
  const char* nick = g_param_spec_get_nick(inner);
  const char* blurb = g_param_spec_get_blurb(inner);
  const auto flags = static_cast<GParamFlags>(inner->flags | G_PARAM_STATIC_STRINGS);
  if (G_IS_PARAM_SPEC_STRING(inner)) {
    return g_param_spec_string(name, nick, blurb, G_PARAM_SPEC_STRING(inner)->default_value, flags);
  }
  if (G_IS_PARAM_SPEC_INT(inner)) {
    auto* p = G_PARAM_SPEC_INT(inner);
    return g_param_spec_int(name, nick, blurb, p->minimum, p->maximum, p->default_value, flags);
  }
  if (G_IS_PARAM_SPEC_UINT(inner)) {
    auto* p = G_PARAM_SPEC_UINT(inner);
    return g_param_spec_uint(name, nick, blurb, p->minimum, p->maximum, p->default_value, flags);
  }
  if (G_IS_PARAM_SPEC_UINT64(inner)) {
    auto* p = G_PARAM_SPEC_UINT64(inner);
    return g_param_spec_uint64(name, nick, blurb, p->minimum, p->maximum, p->default_value, flags);
  }
  if (G_IS_PARAM_SPEC_DOUBLE(inner)) {
    auto* p = G_PARAM_SPEC_DOUBLE(inner);
    return g_param_spec_double(name, nick, blurb, p->minimum, p->maximum, p->default_value, flags);
  }
  if (G_IS_PARAM_SPEC_ENUM(inner)) {
    auto* p = G_PARAM_SPEC_ENUM(inner);
    return g_param_spec_enum(name, nick, blurb, G_PARAM_SPEC_VALUE_TYPE(inner), p->default_value, flags);
  }
  if (G_IS_PARAM_SPEC_BOOLEAN(inner)) {
    return g_param_spec_boolean(name, nick, blurb, G_PARAM_SPEC_BOOLEAN(inner)->default_value, flags);
  }
  // A new proxied property of another type must be added above: say so at class init, in every build.
  g_error("cgancolorizebin: cannot proxy property '%s' of type %s", name, G_PARAM_SPEC_TYPE_NAME(inner));
}

static void gst_cgan_colorize_bin_class_init(GstCganColorizeBinClass* klass) {
  GObjectClass* object_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);

  object_class->set_property = gst_cgan_colorize_bin_set_property;
  object_class->get_property = gst_cgan_colorize_bin_get_property;

  auto* colorize = static_cast<GObjectClass*>(g_type_class_ref(GST_TYPE_CGAN_COLORIZE));
  for (guint i = 0; i < G_N_ELEMENTS(kProperties); ++i) {
    GParamSpec* inner = g_object_class_find_property(colorize, kProperties[i]);
    g_object_class_install_property(object_class, i + 1, copy_spec(kProperties[i], inner));
  }
  g_type_class_unref(colorize);

  gst_element_class_set_static_metadata(element_class, "colorgan colorizer bin", "Filter/Effect/Video/Bin",
                                        "Colorizes raw video (gray, RGB or YUV) with colorgan's cgancolorize",
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
  // By type, not by registry name: the bin works wherever its own type does.
  self->colorize = GST_ELEMENT(g_object_new(GST_TYPE_CGAN_COLORIZE, "name", "colorize", nullptr));
  gst_bin_add(GST_BIN(self), self->colorize);
  add_ghost_pad(self, self->colorize, "sink");
  add_ghost_pad(self, self->colorize, "src");
}
