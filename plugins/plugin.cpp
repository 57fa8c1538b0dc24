// The colorgan GStreamer plugin: registers its elements.
#include "gstcganrgb2yuv.h"
#include "gstcgancolorize.h"
#include "gstcgancolorizebin.h"
#include "gstcgannoise.h"
#include "gstcganyuv2rgb.h"

static gboolean plugin_init(GstPlugin* plugin) {
  // The bin's class looks up the inner elements' types: register them first.
  return gst_element_register(plugin, "cganrgb2yuv", GST_RANK_NONE, GST_TYPE_CGAN_RGB2YUV) &&
         gst_element_register(plugin, "cgannoise", GST_RANK_NONE, GST_TYPE_CGAN_NOISE) &&
         gst_element_register(plugin, "cgancolorize", GST_RANK_NONE, GST_TYPE_CGAN_COLORIZE) &&
         gst_element_register(plugin, "cganyuv2rgb", GST_RANK_NONE, GST_TYPE_CGAN_YUV2RGB) &&
         gst_element_register(plugin, "cgancolorizebin", GST_RANK_NONE, GST_TYPE_CGAN_COLORIZE_BIN);
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, colorgan,
                  "Conditional-GAN video colorization (LibTorch)", plugin_init, COLORGAN_VERSION, "MIT",
                  "colorgan", "https://example.invalid/colorgan")
