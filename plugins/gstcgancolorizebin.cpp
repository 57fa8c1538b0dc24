/**
 * SECTION:element-cgancolorizebin
 * @title: cgancolorizebin
 *
 * The whole colorgan chain in one element, raw video on both sides:
 * cganrgb2yuv ! cgannoise ! cgancolorize ! cganyuv2rgb. Its properties are
 * those of the inner cgancolorize (model, device, num-threads, inference-size,
 * upsampling, precision, temporal-smoothing, batch-size and the read-only latency,
 * throughput and frames-dropped) and cgannoise (seed, which also seeds
 * cgancolorize; noise-mode and drift-rate are its mode and drift-rate).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 filesrc location=gray.webm ! decodebin ! videoconvert ! cgancolorizebin model=model.cgan ! videoconvert ! autovideosink
 * ]|
 */
#include "gstcgancolorizebin.h"

#include "gstcgancolorize.h"
#include "gstcgannoise.h"
#include "gstcganrgb2yuv.h"
#include "gstcganyuv2rgb.h"

GST_DEBUG_CATEGORY_STATIC(gst_cgan_colorize_bin_debug);
#define GST_CAT_DEFAULT gst_cgan_colorize_bin_debug

G_DEFINE_TYPE(GstCganColorizeBin, gst_cgan_colorize_bin, GST_TYPE_BIN)
GST_ELEMENT_REGISTER_DEFINE(cgancolorizebin, "cgancolorizebin", GST_RANK_NONE, GST_TYPE_CGAN_COLORIZE_BIN);

static GstStaticPadTemplate sink_template =
    GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
                            GST_STATIC_CAPS("video/x-raw, format=(string){ RGB, BGR, RGBx, BGRx, RGBA, BGRA, GRAY8 }"));
static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS("video/x-raw, format=(string){ RGB, RGBx, BGRx, RGBA, I420 }"));

// The bin's properties: each is an inner element's, under the same name unless
// `bin_name` says otherwise. seed goes to both (cgancolorize draws with it when
// no noise plane arrives).
enum class Inner { Colorize, Noise, Both };
struct ProxiedProperty {
  const char* bin_name;
  Inner inner;
  const char* inner_name;
};
static const ProxiedProperty kProperties[] = {
    {"model", Inner::Colorize, "model"},
    {"device", Inner::Colorize, "device"},
    {"num-threads", Inner::Colorize, "num-threads"},
    {"inference-size", Inner::Colorize, "inference-size"},
    {"upsampling", Inner::Colorize, "upsampling"},
    {"precision", Inner::Colorize, "precision"},
    {"temporal-smoothing", Inner::Colorize, "temporal-smoothing"},
    {"batch-size", Inner::Colorize, "batch-size"},
    {"latency", Inner::Colorize, "latency"},
    {"throughput", Inner::Colorize, "throughput"},
    {"frames-dropped", Inner::Colorize, "frames-dropped"},
    {"seed", Inner::Both, "seed"},
    {"noise-mode", Inner::Noise, "mode"},
    {"drift-rate", Inner::Noise, "drift-rate"},
};

static const ProxiedProperty& proxied(guint prop_id) { return kProperties[prop_id - 1]; }

static void gst_cgan_colorize_bin_set_property(GObject* object, guint prop_id, const GValue* value,
                                               GParamSpec* pspec) {
  GstCganColorizeBin* self = GST_CGAN_COLORIZE_BIN(object);
  if (prop_id == 0 || prop_id > G_N_ELEMENTS(kProperties)) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    return;
  }
  const ProxiedProperty& p = proxied(prop_id);
  if (p.inner != Inner::Noise) g_object_set_property(G_OBJECT(self->colorize), p.inner_name, value);
  if (p.inner != Inner::Colorize) g_object_set_property(G_OBJECT(self->noise), p.inner_name, value);
}

static void gst_cgan_colorize_bin_get_property(GObject* object, guint prop_id, GValue* value, GParamSpec* pspec) {
  GstCganColorizeBin* self = GST_CGAN_COLORIZE_BIN(object);
  if (prop_id == 0 || prop_id > G_N_ELEMENTS(kProperties)) {
    G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
    return;
  }
  const ProxiedProperty& p = proxied(prop_id);
  g_object_get_property(G_OBJECT(p.inner == Inner::Colorize ? self->colorize : self->noise), p.inner_name, value);
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
  auto* noise = static_cast<GObjectClass*>(g_type_class_ref(GST_TYPE_CGAN_NOISE));
  for (guint i = 0; i < G_N_ELEMENTS(kProperties); ++i) {
    const ProxiedProperty& p = kProperties[i];
    GParamSpec* inner = g_object_class_find_property(p.inner == Inner::Noise ? noise : colorize, p.inner_name);
    g_object_class_install_property(object_class, i + 1, copy_spec(p.bin_name, inner));
  }
  g_type_class_unref(noise);
  g_type_class_unref(colorize);

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
  // By type, not by registry name: the bin works wherever its own type does.
  auto make = [](GType type, const char* name) { return GST_ELEMENT(g_object_new(type, "name", name, nullptr)); };
  GstElement* rgb2yuv = make(GST_TYPE_CGAN_RGB2YUV, "rgb2yuv");
  self->noise = make(GST_TYPE_CGAN_NOISE, "noise");
  self->colorize = make(GST_TYPE_CGAN_COLORIZE, "colorize");
  GstElement* yuv2rgb = make(GST_TYPE_CGAN_YUV2RGB, "yuv2rgb");
  gst_bin_add_many(GST_BIN(self), rgb2yuv, self->noise, self->colorize, yuv2rgb, nullptr);
  gst_element_link_many(rgb2yuv, self->noise, self->colorize, yuv2rgb, nullptr);
  add_ghost_pad(self, rgb2yuv, "sink");
  add_ghost_pad(self, yuv2rgb, "src");
}
