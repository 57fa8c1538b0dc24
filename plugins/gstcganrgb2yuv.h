#pragma once

#include <gst/base/gstbasetransform.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_CGAN_RGB2YUV (gst_cgan_rgb2yuv_get_type())
G_DECLARE_FINAL_TYPE(GstCganRgb2Yuv, gst_cgan_rgb2yuv, GST, CGAN_RGB2YUV, GstBaseTransform)

struct _GstCganRgb2Yuv {
  GstBaseTransform parent;
  GstVideoInfo in_info;
};

GST_ELEMENT_REGISTER_DECLARE(cganrgb2yuv);

G_END_DECLS
