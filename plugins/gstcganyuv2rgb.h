#pragma once

#include "cganplanar.h"

#include <gst/base/gstbasetransform.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_CGAN_YUV2RGB (gst_cgan_yuv2rgb_get_type())
G_DECLARE_FINAL_TYPE(GstCganYuv2Rgb, gst_cgan_yuv2rgb, GST, CGAN_YUV2RGB, GstBaseTransform)

GST_ELEMENT_REGISTER_DECLARE(cganyuv2rgb);

G_END_DECLS

struct _GstCganYuv2Rgb {
  GstBaseTransform parent;
  GstVideoInfo out_info;
  CganPlanarInfo *in_info;  // C++ object: GObject instances are calloc'ed
};
