#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_CGAN_COLORIZE_BIN (gst_cgan_colorize_bin_get_type())
G_DECLARE_FINAL_TYPE(GstCganColorizeBin, gst_cgan_colorize_bin, GST, CGAN_COLORIZE_BIN, GstBin)

struct _GstCganColorizeBin {
  GstBin parent;
  GstElement *colorize;
};

GST_ELEMENT_REGISTER_DECLARE(cgancolorizebin);

G_END_DECLS
