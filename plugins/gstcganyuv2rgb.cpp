/**
 * SECTION:element-cganyuv2rgb
 * @title: cganyuv2rgb
 *
 * Converts colorgan's planar float Y,U,V frames back to raw video (RGB, RGBx,
 * BGRx, RGBA or I420); a Y-only frame becomes GRAY8. Frames with other planes
 * (e.g. a noise plane) do not link: negotiation fails with not-negotiated.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc ! videoconvert ! cganrgb2yuv ! cgancolorize model=model.cgan ! cganyuv2rgb ! videoconvert ! autovideosink
 * ]|
 */
#include "gstcganyuv2rgb.h"

#include "colorgan/frames.h"

GST_DEBUG_CATEGORY_STATIC(gst_cgan_yuv2rgb_debug);
#define GST_CAT_DEFAULT gst_cgan_yuv2rgb_debug

G_DEFINE_TYPE(GstCganYuv2Rgb, gst_cgan_yuv2rgb, GST_TYPE_BASE_TRANSFORM)
GST_ELEMENT_REGISTER_DEFINE(cganyuv2rgb, "cganyuv2rgb", GST_RANK_NONE, GST_TYPE_CGAN_YUV2RGB);

static const CganCapsMap kPlanesToFormat = {
    {"Y,U,V", "RGB"}, {"Y,U,V", "RGBx"}, {"Y,U,V", "BGRx"}, {"Y,U,V", "RGBA"}, {"Y,U,V", "I420"}, {"Y", "GRAY8"},
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(CGAN_PLANAR_CAPS("{ \"Y,U,V\", Y }")));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE("{ RGB, RGBx, BGRx, RGBA, I420, GRAY8 }")));

static GstCaps* gst_cgan_yuv2rgb_transform_caps(GstBaseTransform*, GstPadDirection direction, GstCaps* caps,
                                                GstCaps* filter) {
  if (direction == GST_PAD_SINK) {
    return cgan_caps_translate(caps, "video/x-raw", "planes", "format", kPlanesToFormat, filter);
  }
  return cgan_caps_translate(caps, CGAN_PLANAR_MEDIA_TYPE, "format", "planes", cgan_caps_map_reversed(kPlanesToFormat),
                             filter);
}

// The I420 written is BT.601, limited range (colorgan::yuv_planes_to_i420): say
// so, or downstream takes frames taller than 576 lines for BT.709.
static GstCaps* gst_cgan_yuv2rgb_fixate_caps(GstBaseTransform* trans, GstPadDirection direction, GstCaps* caps,
                                             GstCaps* othercaps) {
  othercaps = GST_BASE_TRANSFORM_CLASS(gst_cgan_yuv2rgb_parent_class)->fixate_caps(trans, direction, caps, othercaps);
  if (direction != GST_PAD_SINK) return othercaps;
  othercaps = gst_caps_make_writable(othercaps);
  GstStructure* s = gst_caps_get_structure(othercaps, 0);
  if (g_strcmp0(gst_structure_get_string(s, "format"), "I420") == 0) {
    gst_structure_set(s, "colorimetry", G_TYPE_STRING, GST_VIDEO_COLORIMETRY_BT601, nullptr);
  }
  return othercaps;
}

static gboolean gst_cgan_yuv2rgb_set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps* outcaps) {
  GstCganYuv2Rgb* self = GST_CGAN_YUV2RGB(trans);
  if (!cgan_planar_info_from_caps(incaps, self->in_info) || !gst_video_info_from_caps(&self->out_info, outcaps)) {
    GST_ERROR_OBJECT(self, "cannot convert %" GST_PTR_FORMAT " to %" GST_PTR_FORMAT, incaps, outcaps);
    return FALSE;
  }
  return TRUE;
}

static GstFlowReturn gst_cgan_yuv2rgb_transform(GstBaseTransform* trans, GstBuffer* inbuf, GstBuffer* outbuf) {
  GstCganYuv2Rgb* self = GST_CGAN_YUV2RGB(trans);
  if (!cgan_buffer_holds(GST_ELEMENT(self), inbuf, self->in_info->size(), "input") ||
      !cgan_buffer_holds(GST_ELEMENT(self), outbuf, GST_VIDEO_INFO_SIZE(&self->out_info), "output")) {
    return GST_FLOW_ERROR;
  }
  GstMapInfo in;
  if (!gst_buffer_map(inbuf, &in, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map the input buffer"), (nullptr));
    return GST_FLOW_ERROR;
  }
  GstVideoFrame out;
  if (!gst_video_frame_map(&out, &self->out_info, outbuf, GST_MAP_WRITE)) {
    gst_buffer_unmap(inbuf, &in);
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map the output frame"), (nullptr));
    return GST_FLOW_ERROR;
  }
  const float* planes = reinterpret_cast<const float*>(in.data);
  const GstVideoFormat format = GST_VIDEO_FRAME_FORMAT(&out);
  if (format == GST_VIDEO_FORMAT_I420) {
    colorgan::I420Image image{static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&out, 0)),
                              static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&out, 1)),
                              static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&out, 2)),
                              GST_VIDEO_FRAME_PLANE_STRIDE(&out, 0), GST_VIDEO_FRAME_PLANE_STRIDE(&out, 1),
                              GST_VIDEO_FRAME_PLANE_STRIDE(&out, 2)};
    colorgan::yuv_planes_to_i420(planes, self->in_info->width, self->in_info->height, image);
  } else {
    colorgan::PackedImage image{static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&out, 0)),
                                GST_VIDEO_FRAME_WIDTH(&out), GST_VIDEO_FRAME_HEIGHT(&out),
                                GST_VIDEO_FRAME_PLANE_STRIDE(&out, 0), cgan_packed_format(format)};
    colorgan::yuv_planes_to_packed(planes, image);
  }
  gst_video_frame_unmap(&out);
  gst_buffer_unmap(inbuf, &in);
  return GST_FLOW_OK;
}

static void gst_cgan_yuv2rgb_finalize(GObject* object) {
  delete GST_CGAN_YUV2RGB(object)->in_info;
  G_OBJECT_CLASS(gst_cgan_yuv2rgb_parent_class)->finalize(object);
}

static void gst_cgan_yuv2rgb_class_init(GstCganYuv2RgbClass* klass) {
  GObjectClass* object_class = G_OBJECT_CLASS(klass);
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass* trans_class = GST_BASE_TRANSFORM_CLASS(klass);

  object_class->finalize = gst_cgan_yuv2rgb_finalize;
  gst_element_class_set_static_metadata(element_class, "colorgan planar YUV to RGB", "Filter/Converter/Video",
                                        "Converts colorgan's planar float Y,U,V frames back into raw video",
                                        "colorgan developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->transform_caps = GST_DEBUG_FUNCPTR(gst_cgan_yuv2rgb_transform_caps);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_cgan_yuv2rgb_set_caps);
  trans_class->get_unit_size = GST_DEBUG_FUNCPTR(cgan_get_unit_size);
  trans_class->fixate_caps = GST_DEBUG_FUNCPTR(gst_cgan_yuv2rgb_fixate_caps);
  trans_class->transform = GST_DEBUG_FUNCPTR(gst_cgan_yuv2rgb_transform);
  trans_class->passthrough_on_same_caps = FALSE;

  GST_DEBUG_CATEGORY_INIT(gst_cgan_yuv2rgb_debug, "cganyuv2rgb", 0, "colorgan planar YUV to RGB");
}

static void gst_cgan_yuv2rgb_init(GstCganYuv2Rgb* self) {
  gst_video_info_init(&self->out_info);
  self->in_info = new CganPlanarInfo();
}
