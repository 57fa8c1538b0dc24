// GStreamer helpers for the element and pipeline tests.
#pragma once

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

// gst_init() once for the whole test program.
class GstEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { gst_init(nullptr, nullptr); }
};

// Caps for planar frames of the project's media type.
inline GstCaps* planar_caps(const char* planes, int width, int height) {
  return gst_caps_new_simple("video/x-cgan-planar", "format", G_TYPE_STRING, "F32LE", "planes", G_TYPE_STRING, planes,
                             "width", G_TYPE_INT, width, "height", G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION,
                             30, 1, nullptr);
}

// A buffer holding a copy of `data`.
template <typename T>
GstBuffer* buffer_of(const std::vector<T>& data) {
  const gsize size = data.size() * sizeof(T);
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, size, nullptr);
  gst_buffer_fill(buffer, 0, data.data(), size);
  return buffer;
}

// The contents of a buffer (unrefs it).
template <typename T>
std::vector<T> contents_of(GstBuffer* buffer) {
  std::vector<T> data(gst_buffer_get_size(buffer) / sizeof(T));
  gst_buffer_extract(buffer, 0, data.data(), data.size() * sizeof(T));
  gst_buffer_unref(buffer);
  return data;
}

// Outcome of running a pipeline to its end.
struct PipelineRun {
  bool eos = false;
  std::string error;  // message + debug of the first error, empty if none
  GQuark error_domain = 0;
  int error_code = 0;
};

// Runs a gst_parse_launch() description until EOS or an error (or the timeout).
// `before_play` may connect signals on the parsed pipeline.
PipelineRun run_pipeline(const std::string& description,
                         const std::function<void(GstElement*)>& before_play = {}, int timeout_s = 120);
