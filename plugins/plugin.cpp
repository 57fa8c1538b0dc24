// The colorgan GStreamer plugin: registers its elements.
#include "gstcganrgb2yuv.h"
#include "gstcgancolorize.h"
#include "gstcgancolorizebin.h"
#include "gstcgannoise.h"
#include "gstcganyuv2rgb.h"

static gboolean plugin_init(GstPlugin* plugin) {
  gboolean ret = FALSE;
  ret |= GST_ELEMENT_REGISTER(cganrgb2yuv, plugin);
  ret |= GST_ELEMENT_REGISTER(cgannoise, plugin);
  ret |= GST_ELEMENT_REGISTER(cgancolorize, plugin);
  ret |= GST_ELEMENT_REGISTER(cganyuv2rgb, plugin);
  ret |= GST_ELEMENT_REGISTER(cgancolorizebin, plugin);
  return ret;
}

// MIT/X11 is how GStreamer spells the MIT licence (plain "MIT" logs "unknown license").
GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, colorgan,
                  "Conditional-GAN video colorization (LibTorch)", plugin_init, COLORGAN_VERSION, "MIT/X11",
                  "colorgan", "Unknown package origin")
