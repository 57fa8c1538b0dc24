// Whole pipelines, built with gst_parse_launch() as users write them.
#include "gst_test_support.h"
#include "test_support.h"

#include <gmock/gmock.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <fstream>

using ::testing::HasSubstr;

PipelineRun run_pipeline(const std::string& description, const std::function<void(GstElement*)>& before_play,
                         int timeout_s) {
  PipelineRun run;
  GError* error = nullptr;
  GstElement* pipeline = gst_parse_launch(description.c_str(), &error);
  if (error != nullptr) {
    run.error = std::string("parse: ") + error->message;
    g_error_free(error);
    if (pipeline != nullptr) gst_object_unref(pipeline);
    return run;
  }
  if (before_play) before_play(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* message = gst_bus_timed_pop_filtered(bus, timeout_s * GST_SECOND,
                                                   static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  if (message == nullptr) {
    run.error = "timeout";
  } else if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_EOS) {
    run.eos = true;
  } else {
    GError* err = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(message, &err, &debug);
    run.error = std::string(err->message) + " | " + (debug != nullptr ? debug : "");
    run.error_domain = err->domain;
    run.error_code = err->code;
    g_error_free(err);
    g_free(debug);
  }
  if (message != nullptr) gst_message_unref(message);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  return run;
}

namespace {

// Counts the buffers a fakesink named "sink" receives and remembers their caps.
struct SinkProbe {
  int frames = 0;
  int width = 0;
  int height = 0;

  std::function<void(GstElement*)> attach() {
    return [this](GstElement* pipeline) {
      GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
      g_object_set(sink, "signal-handoffs", TRUE, nullptr);
      g_signal_connect(sink, "handoff", G_CALLBACK(+[](GstElement*, GstBuffer*, GstPad* pad, gpointer data) {
                         auto* probe = static_cast<SinkProbe*>(data);
                         ++probe->frames;
                         GstCaps* caps = gst_pad_get_current_caps(pad);
                         const GstStructure* s = gst_caps_get_structure(caps, 0);
                         gst_structure_get_int(s, "width", &probe->width);
                         gst_structure_get_int(s, "height", &probe->height);
                         gst_caps_unref(caps);
                       }),
                       this);
      gst_object_unref(sink);
    };
  }
};

}  // namespace

class PipelineTest : public ::testing::Test {
 protected:
  std::string dir = colorgan::testing::make_temp_dir("pipeline");
  std::string model = colorgan::testing::write_test_model(dir, "tiny", 1);
};

TEST_F(PipelineTest, EncodedVideoFileThroughTheChainToAnEncodedFile) {
  // A real VP8/WebM file, made by GStreamer's own encoder, decoded by decodebin.
  const std::string input = dir + "/input.webm", output = dir + "/colour.webm";
  auto made = run_pipeline("videotestsrc num-buffers=12 pattern=ball ! video/x-raw,width=80,height=60,framerate=12/1 "
                           "! videoconvert ! video/x-raw,format=GRAY8 ! videoconvert ! vp8enc ! webmmux ! "
                           "filesink location=" + input);
  ASSERT_TRUE(made.eos) << made.error;

  auto colorized = run_pipeline("filesrc location=" + input + " ! decodebin ! videoconvert ! cganrgb2yuv ! "
                                "cgannoise seed=1 ! cgancolorize device=cpu model=" + model +
                                " ! cganyuv2rgb ! videoconvert ! vp8enc ! webmmux ! filesink location=" + output);
  ASSERT_TRUE(colorized.eos) << colorized.error;

  SinkProbe probe;
  auto decoded = run_pipeline("filesrc location=" + output + " ! decodebin ! fakesink name=sink", probe.attach());
  ASSERT_TRUE(decoded.eos) << decoded.error;
  EXPECT_EQ(probe.frames, 12);
  EXPECT_EQ(probe.width, 80);
  EXPECT_EQ(probe.height, 60);
}

TEST_F(PipelineTest, BinColorizesOrdinaryRawVideoAtOddSizes) {
  SinkProbe probe;
  auto run = run_pipeline("videotestsrc num-buffers=5 ! video/x-raw,width=37,height=21 ! videoconvert ! "
                          "cgancolorizebin device=cpu seed=3 model=" + model +
                          " ! videoconvert ! video/x-raw,format=I420 ! fakesink name=sink",
                          probe.attach());
  ASSERT_TRUE(run.eos) << run.error;
  EXPECT_EQ(probe.frames, 5);
  EXPECT_EQ(probe.width, 37);
  EXPECT_EQ(probe.height, 21);
}

TEST_F(PipelineTest, MidStreamResolutionChangeIsFollowed) {
  // Two segments of different sizes through one chain, joined by a concat element;
  // with batches, the partial batch of the first size goes out before the switch.
  for (const char* batch : {"1", "3"}) {
    SinkProbe probe;
    auto run = run_pipeline("concat name=c ! videoconvert ! cganrgb2yuv ! cgancolorize device=cpu batch-size=" +
                                std::string(batch) + " model=" + model +
                                " ! cganyuv2rgb ! fakesink name=sink "
                                "videotestsrc num-buffers=2 ! video/x-raw,format=RGB,width=16,height=16 ! c. "
                                "videotestsrc num-buffers=2 ! video/x-raw,format=RGB,width=24,height=20 ! c.",
                            probe.attach());
    ASSERT_TRUE(run.eos) << run.error;
    EXPECT_EQ(probe.frames, 4) << "batch-size " << batch;
    EXPECT_EQ(probe.width, 24);
    EXPECT_EQ(probe.height, 20);
  }
}

// How late frames reach a sink: arrival (running time on the pipeline clock)
// minus the frame's timestamp (the test sources' segments start at 0).
struct LagProbe {
  GstClockTimeDiff max_lag = 0;
  int frames = 0;
  GstElement* colorize = nullptr;  // kept after the pipeline ends, to read its counters

  std::function<void(GstElement*)> attach() {
    return [this](GstElement* pipeline) {
      colorize = gst_bin_get_by_name(GST_BIN(pipeline), "colorize");
      GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
      GstPad* pad = gst_element_get_static_pad(sink, "sink");
      gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER,
                        +[](GstPad* pad, GstPadProbeInfo* info, gpointer data) {
                          auto* probe = static_cast<LagProbe*>(data);
                          GstElement* element = GST_ELEMENT(GST_PAD_PARENT(pad));
                          GstClock* clock = gst_element_get_clock(element);
                          if (clock == nullptr) return GST_PAD_PROBE_OK;
                          const GstClockTime now = gst_clock_get_time(clock) - gst_element_get_base_time(element);
                          gst_object_unref(clock);
                          const GstClockTime pts = GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
                          probe->max_lag = std::max(probe->max_lag, GST_CLOCK_DIFF(pts, now));
                          ++probe->frames;
                          return GST_PAD_PROBE_OK;
                        },
                        this, nullptr);
      gst_object_unref(pad);
      gst_object_unref(sink);
    };
  }
  ~LagProbe() {
    if (colorize != nullptr) gst_object_unref(colorize);
  }
};

TEST_F(PipelineTest, LiveSourceWithASlowModelDropsLateFramesInsteadOfLagging) {
  // The model's speed is measured first and the camera runs at least twice as
  // fast, so the model is the slow part on any machine: without QoS drops every
  // frame would arrive later than the one before.
  const std::string slow = colorgan::testing::write_test_model(dir, "seed", 2);
  const std::string colorize = "cgancolorize name=colorize device=cpu num-threads=2 inference-size=native model=" + slow;
  const std::string frames = "video/x-raw,format=RGB,width=96,height=72,framerate=";
  LagProbe measure;
  // 30 frames: the first (warm-up) weighs 2% in the element's moving average.
  auto measured = run_pipeline("videotestsrc num-buffers=30 pattern=ball ! " + frames + "30/1 ! cganrgb2yuv ! " +
                               colorize + " ! cganyuv2rgb ! fakesink name=sink", measure.attach());
  ASSERT_TRUE(measured.eos) << measured.error;
  guint64 model_us = 0;
  g_object_get(measure.colorize, "latency", &model_us, nullptr);
  ASSERT_GT(model_us, 0u);
  const int rate = static_cast<int>(std::ceil(2e6 / static_cast<double>(model_us)));  // frames/s: period <= model/2
  const int count = std::max(60, 4 * rate);                                              // >= 4 s of camera

  LagProbe probe;
  auto run = run_pipeline("videotestsrc is-live=true pattern=ball num-buffers=" + std::to_string(count) + " ! " + frames +
                              std::to_string(rate) + "/1 ! cganrgb2yuv ! " + colorize +
                              " ! cganyuv2rgb ! fakesink name=sink sync=true qos=true",
                          probe.attach(), 60 + count / rate);
  ASSERT_TRUE(run.eos) << run.error;
  guint64 dropped = 0, latency_us = 0;
  g_object_get(probe.colorize, "frames-dropped", &dropped, "latency", &latency_us, nullptr);
  // Without drops the last frame would come >= 4 s late (count periods of
  // backlog); with them, a few processing times. A loaded machine may slow the
  // live run: the bound follows the slower of the two measurements.
  const GstClockTimeDiff lag_bound =
      std::max<GstClockTimeDiff>(GST_SECOND, 10 * std::max(model_us, latency_us) * GST_USECOND);
  std::cout << "model " << model_us / 1000.0 << " ms/frame, so live " << rate << " fps, " << count << " frames: "
            << probe.frames << " shown, " << dropped << " dropped, processing " << latency_us / 1000.0
            << " ms/frame, worst lag " << probe.max_lag / 1e6 << " ms (bound " << lag_bound / 1e6 << ")\n";
  EXPECT_GT(latency_us * rate, 1000000u) << "the model must be slower than the camera for this test to mean anything";
  EXPECT_GT(dropped, 0u);
  EXPECT_GT(probe.frames, 10);
  EXPECT_EQ(probe.frames + static_cast<int>(dropped), count);
  EXPECT_LT(probe.max_lag, lag_bound) << "frames reach the sink within a bounded lag";
}

TEST_F(PipelineTest, MissingModelIsAnErrorNamingTheFile) {
  auto run = run_pipeline("videotestsrc num-buffers=1 ! cganrgb2yuv ! cgancolorize model=" + dir +
                          "/nonexistent.cgan ! fakesink");
  EXPECT_FALSE(run.eos);
  EXPECT_THAT(run.error, HasSubstr(dir + "/nonexistent.cgan"));
  EXPECT_EQ(run.error_domain, GST_RESOURCE_ERROR);
}

TEST_F(PipelineTest, CorruptModelIsAnErrorNamingTheFile) {
  const std::string corrupt = dir + "/corrupt.cgan";
  std::ofstream(corrupt) << "this is not a model file, just text that ends early";
  auto run = run_pipeline("videotestsrc num-buffers=1 ! videoconvert ! cgancolorizebin model=" + corrupt +
                          " ! fakesink");
  EXPECT_FALSE(run.eos);
  EXPECT_THAT(run.error, HasSubstr(corrupt));
}

TEST_F(PipelineTest, CudaWithoutCudaIsAnErrorNotAFallback) {
  auto run = run_pipeline("videotestsrc num-buffers=1 ! cganrgb2yuv ! cgancolorize device=cuda model=" + model +
                          " ! fakesink");
  if (run.eos) GTEST_SKIP() << "this build and machine have CUDA";
  EXPECT_THAT(run.error, HasSubstr("CUDA is not available"));
}

TEST_F(PipelineTest, UnusablePlanesFailToNegotiate) {
  // cganyuv2rgb cannot use a noise plane: the link is refused, no crash.
  auto run = run_pipeline("videotestsrc num-buffers=1 ! cganrgb2yuv ! cgannoise ! cganyuv2rgb ! fakesink");
  EXPECT_FALSE(run.eos);
  EXPECT_FALSE(run.error.empty());
}

TEST_F(PipelineTest, RepeatedStartsAndStopsOfTheWholeChain) {
  for (int i = 0; i < 5; ++i) {
    auto run = run_pipeline("videotestsrc num-buffers=2 ! video/x-raw,width=16,height=16 ! videoconvert ! "
                            "cgancolorizebin device=cpu model=" + model + " ! fakesink");
    ASSERT_TRUE(run.eos) << run.error;
  }
}

// Buffers smaller than their caps' frame: every element refuses them with a
// stream error instead of reading or writing past their end.
TEST_F(PipelineTest, BuffersSmallerThanTheirCapsAreAStreamErrorInEveryElement) {
  const std::string small = "fakesrc sizetype=fixed sizemax=16 filltype=zero num-buffers=2 ! ";
  const std::string planar = "video/x-cgan-planar,format=F32LE,framerate=30/1,";
  const std::vector<std::string> cases = {
      planar + "planes=(string)Y,width=4096,height=4096 ! cgancolorize inference-size=8 model=" + model,
      planar + "planes=(string)Y,width=640,height=480 ! cgancolorize inference-size=8 model=" + model,
      planar + "planes=(string)Y,width=64,height=48 ! cgancolorize batch-size=4 inference-size=8 model=" + model,
      planar + "planes=(string)\"Y,U,V\",width=640,height=480 ! cgannoise",
      planar + "planes=(string)\"Y,U,V\",width=640,height=480 ! cganyuv2rgb",
      "video/x-raw,format=RGB,width=640,height=480,framerate=30/1 ! cganrgb2yuv",
  };
  // Empty buffers pass the base class's unit-size check (0 frames), then meet ours.
  const std::string empty = "fakesrc sizetype=empty num-buffers=2 ! ";
  for (const auto& description : cases) {
    for (const auto& source : {small, empty}) {
      auto run = run_pipeline(source + description + " ! fakesink");
      EXPECT_FALSE(run.eos) << source << description;
      EXPECT_EQ(run.error_domain, GST_STREAM_ERROR) << source << description << ": " << run.error;
    }
  }
  // cgancolorize takes whole buffers (no base-class size check): its own message.
  auto run = run_pipeline(small + cases[0] + " ! fakesink");
  EXPECT_THAT(run.error, HasSubstr("holds 16 bytes, less than the 67108864-byte frame"));
}

TEST_F(PipelineTest, PlanarFramesOverTheSizeLimitAreNotNegotiated) {
  auto run = run_pipeline("fakesrc sizetype=fixed sizemax=16 num-buffers=1 ! video/x-cgan-planar,format=F32LE,"
                          "planes=(string)Y,width=100000,height=100000,framerate=30/1 ! cgannoise ! fakesink");
  EXPECT_FALSE(run.eos);
  EXPECT_FALSE(run.error.empty());
}
