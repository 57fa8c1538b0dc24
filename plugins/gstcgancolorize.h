#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_CGAN_COLORIZE (gst_cgan_colorize_get_type())
G_DECLARE_FINAL_TYPE(GstCganColorize, gst_cgan_colorize, GST, CGAN_COLORIZE, GstBaseTransform)

// The enum properties take colorgan's own values (colorgan/options.h).
#define GST_TYPE_CGAN_UPSAMPLING (gst_cgan_upsampling_get_type())
GType gst_cgan_upsampling_get_type(void);

#define GST_TYPE_CGAN_PRECISION (gst_cgan_precision_get_type())
GType gst_cgan_precision_get_type(void);

GST_ELEMENT_REGISTER_DECLARE(cgancolorize);

G_END_DECLS

struct CganColorizeState;

struct _GstCganColorize {
  GstBaseTransform parent;
  gchar *model;
  gchar *device;
  gchar *inference_size;
  gint num_threads;
  guint64 seed;
  gint upsampling;              // colorgan::ChromaUpsampling
  gint precision;               // colorgan::Precision
  gdouble temporal_smoothing;
  guint batch_size;
  gint noise_mode;              // colorgan::NoiseMode
  gdouble drift_rate;
  guint inference_interval;
  CganColorizeState *state;  // C++ object: GObject instances are calloc'ed
};
