// The project's planar-frame media type (docs/PLANAR-CAPS.md) and the caps
// helpers every colorgan element shares.
#pragma once

#include "colorgan/frames.h"

#include <gst/base/gstbasetransform.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <string>
#include <utility>
#include <vector>

#define CGAN_PLANAR_MEDIA_TYPE "video/x-cgan-planar"
#define CGAN_PLANAR_FORMAT "F32LE"

// Template caps for planar frames carrying the given plane lists, e.g. "{ Y, \"Y,U,V\" }".
#define CGAN_PLANAR_CAPS(planes)                                                            \
  CGAN_PLANAR_MEDIA_TYPE ", format=(string)" CGAN_PLANAR_FORMAT ", planes=(string)" planes \
                         ", width=(int)[1,2147483647], height=(int)[1,2147483647], "        \
                         "framerate=(fraction)[0/1,2147483647/1]"

struct CganPlanarInfo {
  std::vector<std::string> planes;  // e.g. {"Y","U","V","N"}
  int width = 0;
  int height = 0;

  gsize plane_size() const { return static_cast<gsize>(width) * height; }  // floats per plane
  gsize size() const { return plane_size() * planes.size() * sizeof(float); }
  int index_of(const char* plane) const;  // -1 if absent
};

// Frames larger than this are refused at caps time, so that plane and frame
// sizes stay far from overflowing (4 planes of floats: 4 GiB at most).
constexpr gsize CGAN_MAX_FRAME_PIXELS = gsize{1} << 28;

// Parses fixed planar caps. Returns FALSE for anything else, and for frames
// over CGAN_MAX_FRAME_PIXELS.
gboolean cgan_planar_info_from_caps(const GstCaps* caps, CganPlanarInfo* info);

// Checks that `buffer` holds at least `needed` bytes before it is mapped: caps
// do not prove anything about the buffers that follow them. Otherwise posts a
// stream error naming both sizes and returns FALSE.
gboolean cgan_buffer_holds(GstElement* element, GstBuffer* buffer, gsize needed, const char* which);

// GstBaseTransform::get_unit_size for planar frames and raw video alike.
gboolean cgan_get_unit_size(GstBaseTransform* trans, GstCaps* caps, gsize* size);

// One row of a caps translation: a value of the source field and what it becomes.
using CganCapsMap = std::vector<std::pair<std::string, std::string>>;

// Translates caps across an element: every structure becomes `to_media_type`,
// keeps width, height and framerate, and gets `to_field` from `from_field`
// through `map` (a missing field stands for every value the map knows).
// Structures whose values the map does not know are dropped, so impossible
// links come out empty and fail as not-negotiated. Planar results get the
// format field. The result is intersected with `filter` when given.
GstCaps* cgan_caps_translate(GstCaps* caps, const char* to_media_type, const char* from_field, const char* to_field,
                             const CganCapsMap& map, GstCaps* filter);

// `caps` intersected with `filter` (filter's order first) when there is one; takes `caps`.
GstCaps* cgan_caps_filtered(GstCaps* caps, GstCaps* filter);

// The same map read in the other direction.
CganCapsMap cgan_caps_map_reversed(const CganCapsMap& map);

// The enum type `name` with `values` (ending in {0, nullptr, nullptr}),
// registered on first use, thread-safe; `type` is the caller's static storage.
GType cgan_enum_type(GType* type, const char* name, const GEnumValue* values);

// Translates raw video caps across an element: each structure becomes one per
// format `map` makes of its format (a missing field stands for every format
// the map knows), every other field kept (PAR, interlacing, multiview...);
// colorimetry and chroma-site only where the family (RGB, YUV) is the same.
// Intersected with `filter` when given.
GstCaps* cgan_raw_caps_translate(GstCaps* caps, const CganCapsMap& map, GstCaps* filter);

// The structures of `caps` with the media type `media_type` (a new reference).
GstCaps* cgan_caps_of_type(GstCaps* caps, const char* media_type);

// colorgan's name of a raw video format; FALSE for formats it does not know.
gboolean cgan_raw_format(GstVideoFormat format, colorgan::RawFormat* out);

// The Y'CbCr matrix and range that `info`'s colorimetry declares.
colorgan::YuvMatrix cgan_yuv_matrix(const GstVideoInfo* info);

// The packed layout of a raw video format the elements accept (GRAY8 for anything else).
colorgan::RawFormat cgan_packed_format(GstVideoFormat format);
