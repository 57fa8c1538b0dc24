// Fuzz target: caps strings through the planar caps parser and the caps
// translations every colorgan element does (planar and raw video).
#include "cganplanar.h"

#include <gst/gst.h>

#include <algorithm>
#include <cstdint>
#include <string>

// A GLib critical (an API misuse) raised by our code is a crash; GStreamer's own
// caps parser raises some on odd strings, which are not ours to fix.
static bool in_our_code = false;

static void on_log(const gchar* domain, GLogLevelFlags level, const gchar* message, gpointer) {
  if (in_our_code && (level & G_LOG_LEVEL_CRITICAL) != 0) {
    g_printerr("critical in colorgan code: %s: %s\n", domain, message);
    __builtin_trap();
  }
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool initialised = [] {
    gst_init(nullptr, nullptr);
    g_log_set_default_handler(on_log, nullptr);
    return true;
  }();
  (void)initialised;
  const std::string text(reinterpret_cast<const char*>(data), size);
  // GStreamer's own caps parser backtracks exponentially on deeply nested
  // ranges and lists ("[[[[...": 20 s for 600 bytes); no caps a user writes nest like that.
  if (std::count_if(text.begin(), text.end(), [](char c) { return c == '[' || c == '{' || c == '<'; }) > 8) return 0;
  GstCaps* caps = gst_caps_from_string(text.c_str());
  if (caps == nullptr) return 0;
  in_our_code = true;
  CganPlanarInfo info;
  if (cgan_planar_info_from_caps(caps, &info)) {
    // What the elements compute from parsed caps must not overflow.
    if (info.size() / sizeof(float) / info.planes.size() != info.plane_size()) __builtin_trap();
  }
  gsize unit = 0;
  cgan_get_unit_size(nullptr, caps, &unit);
  const CganCapsMap map = {{"Y", "Y,U,V"}, {"Y,N", "Y,U,V"}, {"RGB", "Y,U,V"}, {"GRAY8", "Y"}};
  for (const auto& m : {map, cgan_caps_map_reversed(map)}) {
    gst_caps_unref(cgan_caps_translate(caps, "video/x-cgan-planar", "planes", "planes", m, nullptr));
    gst_caps_unref(cgan_caps_translate(caps, "video/x-raw", "planes", "format", m, caps));
  }
  // Raw video across cgancolorize: format routes, the other fields carried, and what it maps.
  const CganCapsMap routes = {{"GRAY8", "RGBx"}, {"GRAY8", "I420"}, {"I420", "I420"}, {"GRAY16_LE", "Y444_16LE"}};
  for (const auto& m : {routes, cgan_caps_map_reversed(routes)}) {
    gst_caps_unref(cgan_raw_caps_translate(caps, m, caps));
  }
  GstCaps* raw = cgan_caps_of_type(caps, "video/x-raw");
  GstVideoInfo video;
  colorgan::RawFormat format;
  if (gst_caps_is_fixed(raw) && gst_video_info_from_caps(&video, raw)) {
    cgan_raw_format(GST_VIDEO_INFO_FORMAT(&video), &format);
    cgan_yuv_matrix(&video);
  }
  gst_caps_unref(raw);
  in_our_code = false;
  gst_caps_unref(caps);
  return 0;
}
