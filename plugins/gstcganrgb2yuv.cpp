/**
 * SECTION:element-cganrgb2yuv
 * @title: cganrgb2yuv
 *
 * Converts raw RGB-family or GRAY8 video into colorgan's planar float frames
 * (video/x-cgan-planar): Y,U,V in the project's normalized convention, or Y
 * alone for GRAY8. See docs/PLANAR-CAPS.md.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc ! videoconvert ! cganrgb2yuv ! cganyuv2rgb ! videoconvert ! autovideosink
 * ]|
 */
#include "gstcganrgb2yuv.h"

#include "cganplanar.h"
#include "colorgan/frames.h"

GST_DEBUG_CATEGORY_STATIC(gst_cgan_rgb2yuv_debug);
#define GST_CAT_DEFAULT gst_cgan_rgb2yuv_debug

G_DEFINE_TYPE(GstCganRgb2Yuv, gst_cgan_rgb2yuv, GST_TYPE_BASE_TRANSFORM)
GST_ELEMENT_REGISTER_DEFINE(cganrgb2yuv, "cganrgb2yuv", GST_RANK_NONE, GST_TYPE_CGAN_RGB2YUV);

static const CganCapsMap kFormatToPlanes = {
    {"RGB", "Y,U,V"},  {"BGR", "Y,U,V"},  {"RGBx", "Y,U,V"}, {"BGRx", "Y,U,V"},
    {"RGBA", "Y,U,V"}, {"BGRA", "Y,U,V"}, {"GRAY8", "Y"},
};

static GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE("{ RGB, BGR, RGBx, BGRx, RGBA, BGRA, GRAY8 }")));

static GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(CGAN_PLANAR_CAPS("{ \"Y,U,V\", Y }")));

static GstCaps* gst_cgan_rgb2yuv_transform_caps(GstBaseTransform*, GstPadDirection direction, GstCaps* caps,
                                                GstCaps* filter) {
  if (direction == GST_PAD_SINK) {
    return cgan_caps_translate(caps, CGAN_PLANAR_MEDIA_TYPE, "format", "planes", kFormatToPlanes, filter);
  }
  return cgan_caps_translate(caps, "video/x-raw", "planes", "format", cgan_caps_map_reversed(kFormatToPlanes),
                             filter);
}

static gboolean gst_cgan_rgb2yuv_set_caps(GstBaseTransform* trans, GstCaps* incaps, GstCaps*) {
  GstCganRgb2Yuv* self = GST_CGAN_RGB2YUV(trans);
  if (!gst_video_info_from_caps(&self->in_info, incaps)) {
    GST_ERROR_OBJECT(self, "cannot parse input caps %" GST_PTR_FORMAT, incaps);
    return FALSE;
  }
  return TRUE;
}

static GstFlowReturn gst_cgan_rgb2yuv_transform(GstBaseTransform* trans, GstBuffer* inbuf, GstBuffer* outbuf) {
  GstCganRgb2Yuv* self = GST_CGAN_RGB2YUV(trans);
  const gsize planes = GST_VIDEO_INFO_IS_GRAY(&self->in_info) ? 1 : 3;  // Y, or Y,U,V
  const gsize plane = static_cast<gsize>(GST_VIDEO_INFO_WIDTH(&self->in_info)) * GST_VIDEO_INFO_HEIGHT(&self->in_info);
  if (!cgan_buffer_holds(GST_ELEMENT(self), inbuf, GST_VIDEO_INFO_SIZE(&self->in_info), "input") ||
      !cgan_buffer_holds(GST_ELEMENT(self), outbuf, planes * plane * sizeof(float), "output")) {
    return GST_FLOW_ERROR;
  }
  GstVideoFrame in;
  if (!gst_video_frame_map(&in, &self->in_info, inbuf, GST_MAP_READ)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map the input frame"), (nullptr));
    return GST_FLOW_ERROR;
  }
  GstMapInfo out;
  if (!gst_buffer_map(outbuf, &out, GST_MAP_WRITE)) {
    gst_video_frame_unmap(&in);
    GST_ELEMENT_ERROR(self, STREAM, FAILED, ("Could not map the output buffer"), (nullptr));
    return GST_FLOW_ERROR;
  }
  colorgan::PackedImage image{static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&in, 0)), GST_VIDEO_FRAME_WIDTH(&in),
                              GST_VIDEO_FRAME_HEIGHT(&in), GST_VIDEO_FRAME_PLANE_STRIDE(&in, 0),
                              cgan_packed_format(GST_VIDEO_FRAME_FORMAT(&in))};
  colorgan::packed_to_yuv_planes(image, reinterpret_cast<float*>(out.data));
  gst_buffer_unmap(outbuf, &out);
  gst_video_frame_unmap(&in);
  return GST_FLOW_OK;
}

static void gst_cgan_rgb2yuv_class_init(GstCganRgb2YuvClass* klass) {
  GstElementClass* element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass* trans_class = GST_BASE_TRANSFORM_CLASS(klass);

  gst_element_class_set_static_metadata(element_class, "colorgan RGB to planar YUV", "Filter/Converter/Video",
                                        "Converts raw RGB or GRAY8 video into colorgan's planar float Y,U,V frames",
                                        "colorgan developers");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->transform_caps = GST_DEBUG_FUNCPTR(gst_cgan_rgb2yuv_transform_caps);
  trans_class->set_caps = GST_DEBUG_FUNCPTR(gst_cgan_rgb2yuv_set_caps);
  trans_class->get_unit_size = GST_DEBUG_FUNCPTR(cgan_get_unit_size);
  trans_class->transform = GST_DEBUG_FUNCPTR(gst_cgan_rgb2yuv_transform);
  trans_class->passthrough_on_same_caps = FALSE;

  GST_DEBUG_CATEGORY_INIT(gst_cgan_rgb2yuv_debug, "cganrgb2yuv", 0, "colorgan RGB to planar YUV");
}

static void gst_cgan_rgb2yuv_init(GstCganRgb2Yuv* self) { gst_video_info_init(&self->in_info); }
