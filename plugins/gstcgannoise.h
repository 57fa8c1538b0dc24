#pragma once

#include <gst/base/gstbasetransform.h>

G_BEGIN_DECLS

#define GST_TYPE_CGAN_NOISE (gst_cgan_noise_get_type())
G_DECLARE_FINAL_TYPE(GstCganNoise, gst_cgan_noise, GST, CGAN_NOISE, GstBaseTransform)

// The mode property's enum (colorgan::NoiseMode's values), shared with cgancolorize.
#define GST_TYPE_CGAN_NOISE_MODE (gst_cgan_noise_mode_get_type())
GType gst_cgan_noise_mode_get_type(void);

GST_ELEMENT_REGISTER_DECLARE(cgannoise);

G_END_DECLS

struct CganNoiseState;

struct _GstCganNoise {
  GstBaseTransform parent;
  guint64 seed;
  gint distribution;  // colorgan::NoiseDistribution
  gfloat amplitude;
  gint mode;  // colorgan::NoiseMode
  gdouble drift_rate;
  CganNoiseState *state;  // C++ object: GObject instances are calloc'ed
};
