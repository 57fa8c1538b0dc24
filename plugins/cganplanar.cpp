#include "cganplanar.h"

#include <gst/base/gstbasetransform.h>
#include <gst/video/video.h>

#include <algorithm>
#include <sstream>

int CganPlanarInfo::index_of(const char* plane) const {
  auto it = std::find(planes.begin(), planes.end(), plane);
  return it == planes.end() ? -1 : static_cast<int>(it - planes.begin());
}

gboolean cgan_planar_info_from_caps(const GstCaps* caps, CganPlanarInfo* info) {
  if (caps == nullptr || !gst_caps_is_fixed(caps)) return FALSE;
  const GstStructure* s = gst_caps_get_structure(caps, 0);
  if (!gst_structure_has_name(s, CGAN_PLANAR_MEDIA_TYPE)) return FALSE;
  const char* planes = gst_structure_get_string(s, "planes");
  const char* format = gst_structure_get_string(s, "format");
  if (planes == nullptr || format == nullptr || g_strcmp0(format, CGAN_PLANAR_FORMAT) != 0) return FALSE;
  if (!gst_structure_get_int(s, "width", &info->width) || !gst_structure_get_int(s, "height", &info->height)) {
    return FALSE;
  }
  info->planes.clear();
  std::stringstream list(planes);
  for (std::string plane; std::getline(list, plane, ',');) info->planes.push_back(plane);
  return info->width > 0 && info->height > 0 && !info->planes.empty() &&
         info->plane_size() <= CGAN_MAX_FRAME_PIXELS;
}

gboolean cgan_buffer_holds(GstElement* element, GstBuffer* buffer, gsize needed, const char* which) {
  const gsize size = gst_buffer_get_size(buffer);
  if (size >= needed) return TRUE;
  GST_ELEMENT_ERROR(element, STREAM, FORMAT,
                    ("The %s buffer holds %" G_GSIZE_FORMAT " bytes, less than the %" G_GSIZE_FORMAT
                     "-byte frame its caps describe",
                     which, size, needed),
                    (nullptr));
  return FALSE;
}

gboolean cgan_get_unit_size(GstBaseTransform*, GstCaps* caps, gsize* size) {
  if (!gst_caps_is_fixed(caps)) return FALSE;
  CganPlanarInfo planar;
  if (cgan_planar_info_from_caps(caps, &planar)) {
    *size = planar.size();
    return TRUE;
  }
  GstVideoInfo video;
  if (gst_video_info_from_caps(&video, caps)) {
    *size = GST_VIDEO_INFO_SIZE(&video);
    return TRUE;
  }
  return FALSE;
}

GstCaps* cgan_caps_filtered(GstCaps* caps, GstCaps* filter) {
  if (filter == nullptr) return caps;
  GstCaps* filtered = gst_caps_intersect_full(filter, caps, GST_CAPS_INTERSECT_FIRST);
  gst_caps_unref(caps);
  return filtered;
}

CganCapsMap cgan_caps_map_reversed(const CganCapsMap& map) {
  CganCapsMap reversed;
  for (const auto& [from, to] : map) reversed.emplace_back(to, from);
  return reversed;
}

namespace {

std::vector<std::string> field_values(const GstStructure* s, const char* field, const CganCapsMap& map) {
  std::vector<std::string> values;
  const GValue* value = gst_structure_get_value(s, field);
  if (value == nullptr) {
    for (const auto& row : map) values.push_back(row.first);
  } else if (G_VALUE_HOLDS_STRING(value)) {
    if (const char* text = g_value_get_string(value)) values.push_back(text);  // planes=NULL holds no string
  } else if (GST_VALUE_HOLDS_LIST(value)) {
    for (guint i = 0; i < gst_value_list_get_size(value); ++i) {
      const GValue* item = gst_value_list_get_value(value, i);
      if (!G_VALUE_HOLDS_STRING(item)) continue;
      if (const char* text = g_value_get_string(item)) values.push_back(text);
    }
  }
  return values;
}

void set_string_or_list(GstStructure* s, const char* field, const std::vector<std::string>& values) {
  if (values.size() == 1) {
    gst_structure_set(s, field, G_TYPE_STRING, values[0].c_str(), nullptr);
    return;
  }
  GValue list = G_VALUE_INIT;
  gst_value_list_init(&list, values.size());
  for (const auto& v : values) {
    GValue item = G_VALUE_INIT;
    g_value_init(&item, G_TYPE_STRING);
    g_value_set_string(&item, v.c_str());
    gst_value_list_append_and_take_value(&list, &item);
  }
  gst_structure_take_value(s, field, &list);
}

}  // namespace

GstCaps* cgan_caps_translate(GstCaps* caps, const char* to_media_type, const char* from_field, const char* to_field,
                             const CganCapsMap& map, GstCaps* filter) {
  GstCaps* result = gst_caps_new_empty();
  for (guint i = 0; i < gst_caps_get_size(caps); ++i) {
    const GstStructure* in = gst_caps_get_structure(caps, i);
    std::vector<std::string> targets;
    for (const auto& value : field_values(in, from_field, map)) {
      for (const auto& [from, to] : map) {
        if (from == value && std::find(targets.begin(), targets.end(), to) == targets.end()) targets.push_back(to);
      }
    }
    if (targets.empty()) continue;
    GstStructure* out = gst_structure_new_empty(to_media_type);
    for (const char* field : {"width", "height", "framerate"}) {
      if (const GValue* v = gst_structure_get_value(in, field)) gst_structure_set_value(out, field, v);
    }
    if (g_strcmp0(to_media_type, CGAN_PLANAR_MEDIA_TYPE) == 0) {
      gst_structure_set(out, "format", G_TYPE_STRING, CGAN_PLANAR_FORMAT, nullptr);
    }
    set_string_or_list(out, to_field, targets);
    result = gst_caps_merge_structure(result, out);
  }
  return cgan_caps_filtered(result, filter);
}

namespace {

enum class Family { Gray, Rgb, Yuv, Other };

Family family_of(const std::string& format) {
  const GstVideoFormatInfo* info = gst_video_format_get_info(gst_video_format_from_string(format.c_str()));
  if (info == nullptr) return Family::Other;
  if (GST_VIDEO_FORMAT_INFO_IS_YUV(info)) return Family::Yuv;
  if (GST_VIDEO_FORMAT_INFO_IS_RGB(info)) return Family::Rgb;
  return GST_VIDEO_FORMAT_INFO_IS_GRAY(info) ? Family::Gray : Family::Other;
}

}  // namespace

GstCaps* cgan_caps_of_type(GstCaps* caps, const char* media_type) {
  GstCaps* result = gst_caps_new_empty();
  for (guint i = 0; i < gst_caps_get_size(caps); ++i) {
    if (!gst_structure_has_name(gst_caps_get_structure(caps, i), media_type)) continue;
    gst_caps_append_structure_full(result, gst_structure_copy(gst_caps_get_structure(caps, i)),
                                   gst_caps_features_copy(gst_caps_get_features(caps, i)));
  }
  return result;
}

GstCaps* cgan_raw_caps_translate(GstCaps* caps, const CganCapsMap& map, GstCaps* filter) {
  GstCaps* result = gst_caps_new_empty();
  for (guint i = 0; i < gst_caps_get_size(caps); ++i) {
    const GstStructure* in = gst_caps_get_structure(caps, i);
    if (!gst_structure_has_name(in, "video/x-raw")) continue;
    for (const auto& value : field_values(in, "format", map)) {
      for (const auto& [from, to] : map) {
        if (from != value) continue;
        GstStructure* out = gst_structure_copy(in);
        gst_structure_set(out, "format", G_TYPE_STRING, to.c_str(), nullptr);
        if (family_of(from) != family_of(to)) gst_structure_remove_fields(out, "colorimetry", "chroma-site", nullptr);
        result = gst_caps_merge_structure(result, out);
      }
    }
  }
  return cgan_caps_filtered(result, filter);
}

gboolean cgan_raw_format(GstVideoFormat format, colorgan::RawFormat* out) {
  using colorgan::RawFormat;
  static const std::pair<GstVideoFormat, RawFormat> kFormats[] = {
      {GST_VIDEO_FORMAT_GRAY8, RawFormat::GRAY8},         {GST_VIDEO_FORMAT_GRAY16_LE, RawFormat::GRAY16_LE},
      {GST_VIDEO_FORMAT_RGB, RawFormat::RGB},             {GST_VIDEO_FORMAT_BGR, RawFormat::BGR},
      {GST_VIDEO_FORMAT_RGBx, RawFormat::RGBx},           {GST_VIDEO_FORMAT_BGRx, RawFormat::BGRx},
      {GST_VIDEO_FORMAT_RGBA, RawFormat::RGBA},           {GST_VIDEO_FORMAT_BGRA, RawFormat::BGRA},
      {GST_VIDEO_FORMAT_I420, RawFormat::I420},           {GST_VIDEO_FORMAT_NV12, RawFormat::NV12},
      {GST_VIDEO_FORMAT_Y444, RawFormat::Y444},           {GST_VIDEO_FORMAT_I420_10LE, RawFormat::I420_10LE},
      {GST_VIDEO_FORMAT_P010_10LE, RawFormat::P010_10LE}, {GST_VIDEO_FORMAT_Y444_16LE, RawFormat::Y444_16LE},
  };
  for (const auto& [gst, ours] : kFormats) {
    if (gst != format) continue;
    *out = ours;
    return TRUE;
  }
  return FALSE;
}

colorgan::YuvMatrix cgan_yuv_matrix(const GstVideoInfo* info) {
  colorgan::YuvMatrix matrix;
  gdouble kr, kb;
  if (gst_video_color_matrix_get_Kr_Kb(info->colorimetry.matrix, &kr, &kb)) {
    matrix.kr = static_cast<float>(kr);
    matrix.kb = static_cast<float>(kb);
  }
  matrix.full_range = info->colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
  return matrix;
}

GType cgan_enum_type(GType* type, const char* name, const GEnumValue* values) {
  if (g_once_init_enter(type)) g_once_init_leave(type, g_enum_register_static(name, values));
  return *type;
}

colorgan::RawFormat cgan_packed_format(GstVideoFormat format) {
  colorgan::RawFormat packed = colorgan::RawFormat::GRAY8;
  cgan_raw_format(format, &packed);
  return packed;
}
