// Each element on its own, through GstHarness.
#include "colorgan/frames.h"
#include "gst_test_support.h"
#include "test_support.h"

#include <gst/video/video.h>
#include <gmock/gmock.h>

#include <cmath>
#include <random>

static ::testing::Environment* const gst_env = ::testing::AddGlobalTestEnvironment(new GstEnvironment);

namespace {

GstCaps* raw_caps(const char* format, int width, int height) {
  return gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, format, "width", G_TYPE_INT, width, "height",
                             G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION, 30, 1, nullptr);
}

// Random RGB frame with GStreamer's row stride for `format` (rows padded to 4 bytes).
std::vector<uint8_t> random_frame(GstVideoFormat format, int width, int height, unsigned seed) {
  GstVideoInfo info;
  gst_video_info_set_format(&info, format, width, height);
  std::vector<uint8_t> frame(GST_VIDEO_INFO_SIZE(&info));
  std::mt19937 rng(seed);
  for (auto& byte : frame) byte = static_cast<uint8_t>(rng() & 0xff);
  return frame;
}

colorgan::PlaneColorizerOptions cpu_colorizer(const std::string& model, const std::string& size = "") {
  colorgan::PlaneColorizerOptions options;
  options.model_path = model;
  options.device = "cpu";
  options.threads = 1;
  options.inference_size = size;
  return options;
}

std::string caps_planes(GstHarness* h) {
  GstCaps* caps = gst_pad_get_current_caps(h->sinkpad);
  std::string planes = gst_structure_get_string(gst_caps_get_structure(caps, 0), "planes");
  gst_caps_unref(caps);
  return planes;
}

}  // namespace

TEST(Rgb2Yuv, KnownPixelsGiveTheConventionValues) {
  GstHarness* h = gst_harness_new("cganrgb2yuv");
  gst_harness_set_src_caps(h, raw_caps("RGBx", 2, 2));
  // red, green / blue, white
  const std::vector<uint8_t> pixels = {255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 255, 0, 255, 255, 255, 0};
  auto out = contents_of<float>(gst_harness_push_and_pull(h, buffer_of(pixels)));
  ASSERT_EQ(out.size(), 3u * 4u);
  EXPECT_EQ(caps_planes(h), "Y,U,V");
  // Y plane, U plane, V plane; values worked out by hand (see test_colorspace.cpp).
  const float expected[12] = {0.299f, 0.587f, 0.114f, 1.0f, 0.331298f, 0.168803f,
                              0.999899f, 0.5f, 0.999819f, 0.081464f, 0.418717f, 0.5f};
  for (int i = 0; i < 12; ++i) EXPECT_NEAR(out[i], expected[i], 1e-5) << i;
  gst_harness_teardown(h);
}

TEST(Rgb2Yuv, Gray8GivesTheYPlaneAlone) {
  GstHarness* h = gst_harness_new("cganrgb2yuv");
  gst_harness_set_src_caps(h, raw_caps("GRAY8", 3, 2));
  // GRAY8 rows are padded to 4 bytes.
  const std::vector<uint8_t> pixels = {0, 51, 255, 9, 102, 153, 204, 9};
  auto out = contents_of<float>(gst_harness_push_and_pull(h, buffer_of(pixels)));
  EXPECT_EQ(caps_planes(h), "Y");
  EXPECT_THAT(out, ::testing::ElementsAre(0.0f, 0.2f, 1.0f, 0.4f, 0.6f, 0.8f));
  gst_harness_teardown(h);
}

// rgb2yuv -> yuv2rgb gives the input back within one level, for every packed
// format, on an odd size whose rows are padded.
class RoundTrip : public ::testing::TestWithParam<const char*> {};

TEST_P(RoundTrip, WithinOneLevel) {
  const char* format = GetParam();
  const int width = 33, height = 17;
  GstHarness* h = gst_harness_new_parse(("cganrgb2yuv ! cganyuv2rgb ! capsfilter caps=video/x-raw,format=" +
                                         std::string(format)).c_str());
  gst_harness_set_src_caps(h, raw_caps(format, width, height));
  const GstVideoFormat video_format = gst_video_format_from_string(format);
  auto in = random_frame(video_format, width, height, 7);
  auto out = contents_of<uint8_t>(gst_harness_push_and_pull(h, buffer_of(in)));
  ASSERT_EQ(out.size(), in.size());
  GstVideoInfo info;
  gst_video_info_set_format(&info, video_format, width, height);
  const int bpp = GST_VIDEO_INFO_COMP_PSTRIDE(&info, 0);
  const int stride = GST_VIDEO_INFO_PLANE_STRIDE(&info, 0);
  int worst = 0;
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      for (int c = 0; c < 3; ++c) {
        const int offset = y * stride + x * bpp + GST_VIDEO_INFO_COMP_POFFSET(&info, c);
        worst = std::max(worst, std::abs(int(out[offset]) - int(in[offset])));
      }
    }
  }
  EXPECT_LE(worst, 1) << format;
  gst_harness_teardown(h);
}

INSTANTIATE_TEST_SUITE_P(Formats, RoundTrip, ::testing::Values("RGB", "RGBx", "BGRx", "RGBA"));

TEST(Yuv2Rgb, GrayPlaneToGray8AndI420) {
  const int w = 3, h = 3;
  std::vector<float> y = {0, 0.5f, 1, 0.2f, 0.4f, 0.6f, 0.8f, 1, 0};
  GstHarness* gray = gst_harness_new("cganyuv2rgb");
  gst_harness_set_src_caps(gray, planar_caps("Y", w, h));
  auto out = contents_of<uint8_t>(gst_harness_push_and_pull(gray, buffer_of(y)));
  ASSERT_EQ(out.size(), 4u * 3u);  // rows padded to 4
  EXPECT_EQ(out[0], 0);
  EXPECT_EQ(out[1], 128);  // 127.5 rounds half away from zero
  EXPECT_EQ(out[2], 255);
  EXPECT_EQ(out[4], 51);
  gst_harness_teardown(gray);

  std::vector<float> yuv(y);
  yuv.resize(3 * w * h, 0.5f);  // neutral chroma
  GstHarness* i420 = gst_harness_new_parse("cganyuv2rgb ! capsfilter caps=video/x-raw,format=I420");
  gst_harness_set_src_caps(i420, planar_caps("Y,U,V", w, h));
  out = contents_of<uint8_t>(gst_harness_push_and_pull(i420, buffer_of(yuv)));
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_I420, w, h);
  ASSERT_EQ(out.size(), GST_VIDEO_INFO_SIZE(&info));
  EXPECT_EQ(out[0], 16);   // Y = 0
  EXPECT_EQ(out[2], 235);  // Y = 1
  EXPECT_EQ(out[GST_VIDEO_INFO_PLANE_OFFSET(&info, 1)], 128);
  // The last chroma sample covers the odd edge column and row alone.
  EXPECT_EQ(out[GST_VIDEO_INFO_PLANE_OFFSET(&info, 2) + GST_VIDEO_INFO_PLANE_STRIDE(&info, 2) + 1], 128);
  gst_harness_teardown(i420);
}

// I420 out is BT.601 and says so: GStreamer takes I420 without colorimetry
// taller than 576 lines for BT.709, and saturated colours come back 10+ levels off.
TEST(Yuv2Rgb, HdI420IsBt601AndDeclaresIt) {
  const int w = 1920, h = 1080;
  std::vector<float> planes(3 * static_cast<size_t>(w) * h);
  const float yuv[3] = {0.45f, 0.25f, 0.78f};  // a saturated red-orange: RGB 214.87, 85.68, 1.74
  for (int p = 0; p < 3; ++p) std::fill_n(planes.begin() + static_cast<size_t>(p) * w * h, w * h, yuv[p]);
  auto convert = [&](const char* description, std::string* caps_out = nullptr) {
    GstHarness* harness = gst_harness_new_parse(description);
    gst_harness_set_src_caps(harness, planar_caps("Y,U,V", w, h));
    auto bytes = contents_of<uint8_t>(gst_harness_push_and_pull(harness, buffer_of(planes)));
    if (caps_out != nullptr) {
      GstCaps* caps = gst_pad_get_current_caps(harness->sinkpad);
      gchar* text = gst_caps_to_string(caps);
      *caps_out = text;
      g_free(text);
      gst_caps_unref(caps);
    }
    gst_harness_teardown(harness);
    return bytes;
  };
  std::string caps;
  const auto i420 = convert("cganyuv2rgb ! capsfilter caps=video/x-raw,format=I420", &caps);
  EXPECT_THAT(caps, ::testing::HasSubstr("colorimetry=(string)bt601"));
  // BT.601 limited range by hand: Y' = 16 + 219 Y, Cb = 128 + 224 (B - Y) / 1.772, Cr = 128 + 224 (R - Y) / 1.402.
  EXPECT_EQ(i420[0], 115);
  EXPECT_EQ(i420[static_cast<size_t>(w) * h], 72);
  EXPECT_EQ(i420[static_cast<size_t>(w) * h * 5 / 4], 191);
  // Through videoconvert: decoded as BT.601 (its 8-bit matrix is itself up to ~4 levels off the exact
  // decode, which is within one level); read as BT.709 it was 11 levels off (226,90,0 for 215,86,2).
  const auto direct = convert("cganyuv2rgb ! capsfilter caps=video/x-raw,format=RGB");
  const auto back =
      convert("cganyuv2rgb ! capsfilter caps=video/x-raw,format=I420 ! videoconvert ! capsfilter caps=video/x-raw,format=RGB");
  ASSERT_EQ(direct.size(), back.size());
  int worst = 0;
  for (size_t i = 0; i < direct.size(); ++i) worst = std::max(worst, std::abs(direct[i] - back[i]));
  EXPECT_LE(worst, 5) << "RGB " << int(direct[0]) << "," << int(direct[1]) << "," << int(direct[2])
                      << " came back as " << int(back[0]) << "," << int(back[1]) << "," << int(back[2]);
}

TEST(Yuv2Rgb, PlanesItCannotUseAreNotNegotiated) {
  GstHarness* h = gst_harness_new("cganyuv2rgb");
  gst_harness_set_src_caps(h, planar_caps("Y,N", 4, 4));
  EXPECT_EQ(gst_harness_push(h, buffer_of(std::vector<float>(32))), GST_FLOW_NOT_NEGOTIATED);
  gst_harness_teardown(h);

  GstHarness* colour = gst_harness_new("cganrgb2yuv");
  gst_harness_set_src_caps(colour, raw_caps("I420", 4, 4));  // not an RGB-family format
  EXPECT_EQ(gst_harness_push(colour, gst_buffer_new_allocate(nullptr, 24, nullptr)), GST_FLOW_NOT_NEGOTIATED);
  gst_harness_teardown(colour);
}

TEST(Noise, AppendsASeededPlaneFixedPerStream) {
  const int w = 5, h = 4, n = w * h;
  GstHarness* harness = gst_harness_new_parse("cgannoise seed=9 amplitude=0.5");
  gst_harness_set_src_caps(harness, planar_caps("Y,U,V", w, h));
  std::vector<float> planes(3 * n);
  for (int i = 0; i < 3 * n; ++i) planes[i] = i / 100.0f;
  auto first = contents_of<float>(gst_harness_push_and_pull(harness, buffer_of(planes)));
  auto second = contents_of<float>(gst_harness_push_and_pull(harness, buffer_of(planes)));
  EXPECT_EQ(caps_planes(harness), "Y,U,V,N");
  ASSERT_EQ(first.size(), 4u * n);
  EXPECT_TRUE(std::equal(planes.begin(), planes.end(), first.begin())) << "input planes must pass unchanged";
  std::vector<float> expected(n);
  colorgan::NoiseFiller(9, colorgan::NoiseDistribution::Gaussian).fill(expected.data(), n, 0.5f);
  EXPECT_TRUE(std::equal(expected.begin(), expected.end(), first.begin() + 3 * n)) << "noise is NoiseFiller(seed)";
  EXPECT_EQ(first, second) << "mode=fixed reuses the noise plane";
  gst_harness_teardown(harness);
}

TEST(Noise, PerFrameModeAndSeedsDiffer) {
  const int w = 4, h = 4;
  auto noise_of = [&](const char* description, int frames) {
    GstHarness* harness = gst_harness_new_parse(description);
    gst_harness_set_src_caps(harness, planar_caps("Y", w, h));
    std::vector<std::vector<float>> out;
    for (int i = 0; i < frames; ++i) {
      out.push_back(contents_of<float>(gst_harness_push_and_pull(harness, buffer_of(std::vector<float>(w * h)))));
    }
    EXPECT_EQ(caps_planes(harness), "Y,N");
    gst_harness_teardown(harness);
    return out;
  };
  auto per_frame = noise_of("cgannoise seed=1 mode=per-frame distribution=uniform", 2);
  EXPECT_NE(per_frame[0], per_frame[1]);
  for (size_t i = w * h; i < per_frame[0].size(); ++i) {
    EXPECT_GE(per_frame[0][i], -1.0f);
    EXPECT_LE(per_frame[0][i], 1.0f);
  }
  EXPECT_EQ(noise_of("cgannoise seed=1", 1)[0], noise_of("cgannoise seed=1", 1)[0]);
  EXPECT_NE(noise_of("cgannoise seed=1", 1)[0], noise_of("cgannoise seed=2", 1)[0]);

  // Drift: each frame moves a little (about drift-rate x sqrt(2) of a fresh draw), the spread stays.
  auto drift = noise_of("cgannoise seed=1 mode=drift drift-rate=0.05", 60);
  auto change = [&](const std::vector<float>& a, const std::vector<float>& b) {
    double sum = 0;
    for (size_t i = w * h; i < a.size(); ++i) sum += std::abs(a[i] - b[i]);
    return sum / (w * h);
  };
  EXPECT_GT(change(drift[0], drift[1]), 0.0);
  EXPECT_LT(change(drift[0], drift[1]), 0.2 * change(per_frame[0], per_frame[1]) + 0.2);
  EXPECT_GT(change(drift[0], drift[59]), 2 * change(drift[0], drift[1])) << "it wanders over time";
}

class ColorizeTest : public ::testing::Test {
 protected:
  std::string dir = colorgan::testing::make_temp_dir("colorize");
  std::string model = colorgan::testing::write_test_model(dir, "tiny", 3);
};

TEST_F(ColorizeTest, KeepsLumaAndMatchesTheEngineWithTheSameNoise) {
  const int w = 24, h = 18, n = w * h;
  GstHarness* harness =
      gst_harness_new_parse(("cgannoise seed=4 ! cgancolorize device=cpu model=" + model).c_str());
  gst_harness_set_src_caps(harness, planar_caps("Y", w, h));
  std::vector<float> y(n);
  std::mt19937 rng(1);
  for (auto& v : y) v = std::uniform_real_distribution<float>(0, 1)(rng);
  auto out = contents_of<float>(gst_harness_push_and_pull(harness, buffer_of(y)));
  EXPECT_EQ(caps_planes(harness), "Y,U,V");
  ASSERT_EQ(out.size(), 3u * n);
  EXPECT_TRUE(std::equal(y.begin(), y.end(), out.begin())) << "Y must pass bit for bit";

  std::vector<float> noise(n), u(n), v(n);
  colorgan::NoiseFiller(4, colorgan::NoiseDistribution::Gaussian).fill(noise.data(), n, 1.0f);
  colorgan::PlaneColorizer(cpu_colorizer(model)).colorize(y.data(), noise.data(), u.data(), v.data(), w, h);
  float worst = 0;
  for (int i = 0; i < n; ++i) {
    worst = std::max({worst, std::abs(out[n + i] - u[i]), std::abs(out[2 * n + i] - v[i])});
  }
  EXPECT_LT(worst, 1e-6);
  gst_harness_teardown(harness);
}

TEST_F(ColorizeTest, RunsAtTheInferenceSizeAndKeepsFullResolutionLuma) {
  // The test model was trained at 32x32: by default a 96x64 frame runs at 48x32.
  const int w = 96, h = 64, n = w * h;
  std::vector<float> y(n);
  for (int i = 0; i < n; ++i) y[i] = static_cast<float>((i % w) / (w - 1.0));
  auto run = [&](const std::string& size) {
    GstHarness* harness = gst_harness_new_parse(
        ("cgancolorize device=cpu " + size + " model=" + model).c_str());
    gst_harness_set_src_caps(harness, planar_caps("Y", w, h));
    auto out = contents_of<float>(gst_harness_push_and_pull(harness, buffer_of(y)));
    gst_harness_teardown(harness);
    return out;
  };
  auto by_default = run(""), native = run("inference-size=native"), explicit_size = run("inference-size=48x32");
  ASSERT_EQ(by_default.size(), 3u * n);
  EXPECT_TRUE(std::equal(y.begin(), y.end(), by_default.begin())) << "Y kept bit for bit";
  EXPECT_EQ(by_default, explicit_size);
  EXPECT_NE(by_default, native);
  std::vector<float> u(n), v(n);
  colorgan::PlaneColorizer(cpu_colorizer(model, "native")).colorize(y.data(), nullptr, u.data(), v.data(), w, h);
  EXPECT_TRUE(std::equal(u.begin(), u.end(), native.begin() + n));
}

TEST_F(ColorizeTest, BadInferenceSizeIsAClearError) {
  GstElement* element = gst_element_factory_make("cgancolorize", nullptr);
  g_object_set(element, "model", model.c_str(), "inference-size", "huge", nullptr);
  EXPECT_EQ(gst_element_set_state(element, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  gst_element_set_state(element, GST_STATE_NULL);
  gst_object_unref(element);
}

TEST_F(ColorizeTest, DrawsItsOwnSeededNoiseWithoutANoisePlane) {
  const int w = 8, h = 8, n = w * h;
  std::vector<float> y(n, 0.5f);
  auto run = [&](int seed) {
    GstHarness* harness = gst_harness_new_parse(
        ("cgancolorize device=cpu seed=" + std::to_string(seed) + " model=" + model).c_str());
    gst_harness_set_src_caps(harness, planar_caps("Y", w, h));
    auto out = contents_of<float>(gst_harness_push_and_pull(harness, buffer_of(y)));
    gst_harness_teardown(harness);
    return out;
  };
  EXPECT_EQ(run(1), run(1));
  EXPECT_NE(run(1), run(2));
}

TEST_F(ColorizeTest, AcceptsColourInputAndReplacesItsChroma) {
  const int w = 6, h = 5, n = w * h;
  GstHarness* harness = gst_harness_new_parse(("cgancolorize device=cpu model=" + model).c_str());
  gst_harness_set_src_caps(harness, planar_caps("Y,U,V", w, h));
  std::vector<float> yuv(3 * n, 0.25f);
  auto out = contents_of<float>(gst_harness_push_and_pull(harness, buffer_of(yuv)));
  ASSERT_EQ(out.size(), 3u * n);
  EXPECT_TRUE(std::all_of(out.begin(), out.begin() + n, [](float v) { return v == 0.25f; }));
  EXPECT_FALSE(std::all_of(out.begin() + n, out.end(), [](float v) { return v == 0.25f; }));
  gst_harness_teardown(harness);
}

TEST_F(ColorizeTest, StateCyclesReloadCleanly) {
  GstElement* element = gst_element_factory_make("cgancolorize", nullptr);
  g_object_set(element, "model", model.c_str(), "device", "cpu", nullptr);
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(gst_element_set_state(element, GST_STATE_PLAYING), GST_STATE_CHANGE_SUCCESS) << i;
    ASSERT_EQ(gst_element_set_state(element, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS) << i;
  }
  gst_object_unref(element);
}

TEST_F(ColorizeTest, BatchesFramesOfFilesKeepingOrderTimestampsAndResults) {
  const int w = 20, h = 16, n = w * h, count = 10;
  std::mt19937 rng(3);
  std::vector<std::vector<float>> frames(count, std::vector<float>(n));
  for (auto& f : frames) {
    for (auto& v : f) v = std::uniform_real_distribution<float>(0, 1)(rng);
  }
  auto run = [&](int batch, std::vector<GstClockTime>* pts) {
    GstHarness* harness = gst_harness_new_parse(
        ("cgancolorize device=cpu batch-size=" + std::to_string(batch) + " model=" + model).c_str());
    gst_harness_set_live(harness, FALSE);  // a file, not a camera: batching applies
    gst_harness_set_src_caps(harness, planar_caps("Y", w, h));
    for (int i = 0; i < count; ++i) {
      GstBuffer* buffer = buffer_of(frames[i]);
      GST_BUFFER_PTS(buffer) = i * GST_SECOND / 30;
      GST_BUFFER_DURATION(buffer) = GST_SECOND / 30;
      EXPECT_EQ(gst_harness_push(harness, buffer), GST_FLOW_OK);
    }
    EXPECT_EQ(gst_harness_buffers_received(harness), static_cast<guint>(count / batch * batch))
        << "whole batches go out as soon as they are full";
    EXPECT_TRUE(gst_harness_push_event(harness, gst_event_new_eos()));
    EXPECT_EQ(gst_harness_buffers_received(harness), static_cast<guint>(count)) << "EOS flushes the partial batch";
    std::vector<float> all;
    for (int i = 0; i < count; ++i) {
      GstBuffer* out = gst_harness_pull(harness);
      pts->push_back(GST_BUFFER_PTS(out));
      auto data = contents_of<float>(out);
      all.insert(all.end(), data.begin(), data.end());
    }
    gst_harness_teardown(harness);
    return all;
  };
  std::vector<GstClockTime> pts1, pts4;
  const auto one = run(1, &pts1), four = run(4, &pts4);
  ASSERT_EQ(one.size(), four.size());
  EXPECT_EQ(pts1, pts4);
  for (int i = 0; i < count; ++i) EXPECT_EQ(pts4[i], i * GST_SECOND / 30);
  float worst = 0;
  for (size_t i = 0; i < one.size(); ++i) worst = std::max(worst, std::abs(one[i] - four[i]));
  EXPECT_LT(worst, 1e-5) << "one batched pass gives what frame-by-frame passes give";
}

TEST_F(ColorizeTest, ReportsLatencyThroughputAndAnswersTheLatencyQuery) {
  const int w = 32, h = 24;
  GstHarness* harness = gst_harness_new_parse(("cgancolorize device=cpu model=" + model).c_str());
  gst_harness_set_src_caps(harness, planar_caps("Y", w, h));
  for (int i = 0; i < 3; ++i) gst_buffer_unref(gst_harness_push_and_pull(harness, buffer_of(std::vector<float>(w * h, 0.5f))));
  guint64 latency_us = 0, dropped = 1;
  double throughput = 0;
  GstElement* colorize = gst_harness_find_element(harness, "cgancolorize");
  g_object_get(colorize, "latency", &latency_us, "throughput", &throughput, "frames-dropped", &dropped, nullptr);
  gst_object_unref(colorize);
  EXPECT_GT(latency_us, 0u);
  EXPECT_GT(throughput, 0.0);
  EXPECT_EQ(dropped, 0u);
  // The harness's source is live with no latency of its own: what comes back is ours.
  const GstClockTime answered = gst_harness_query_latency(harness);
  EXPECT_GT(answered, 0u);
  EXPECT_LT(answered, 10 * GST_SECOND);
  gst_harness_teardown(harness);
}

TEST(Elements, AllStateCycleWithoutAModelWhereNoneIsNeeded) {
  for (const char* name : {"cganrgb2yuv", "cgannoise", "cganyuv2rgb"}) {
    GstElement* element = gst_element_factory_make(name, nullptr);
    ASSERT_NE(element, nullptr) << name;
    for (int i = 0; i < 20; ++i) {
      ASSERT_EQ(gst_element_set_state(element, GST_STATE_PLAYING), GST_STATE_CHANGE_SUCCESS) << name;
      ASSERT_EQ(gst_element_set_state(element, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS) << name;
    }
    gst_object_unref(element);
  }
}

TEST(Elements, HaveDocumentedMetadataAndProperties) {
  for (const char* name : {"cganrgb2yuv", "cgannoise", "cgancolorize", "cganyuv2rgb", "cgancolorizebin"}) {
    GstElementFactory* factory = gst_element_factory_find(name);
    ASSERT_NE(factory, nullptr) << name;
    EXPECT_NE(gst_element_factory_get_metadata(factory, GST_ELEMENT_METADATA_KLASS), nullptr);
    EXPECT_NE(gst_element_factory_get_metadata(factory, GST_ELEMENT_METADATA_DESCRIPTION), nullptr);
    EXPECT_EQ(gst_element_factory_get_num_pad_templates(factory), 2u) << name;
    gst_object_unref(factory);
  }
  GstElement* bin = gst_element_factory_make("cgancolorizebin", nullptr);
  for (const char* property : {"model", "device", "num-threads", "seed", "inference-size"}) {
    EXPECT_NE(g_object_class_find_property(G_OBJECT_GET_CLASS(bin), property), nullptr) << property;
  }
  g_object_set(bin, "seed", G_GUINT64_CONSTANT(77), "device", "cpu", nullptr);
  GstElement* inner = gst_bin_get_by_name(GST_BIN(bin), "colorize");
  guint64 seed = 0;
  gchar* device = nullptr;
  g_object_get(inner, "seed", &seed, "device", &device, nullptr);
  EXPECT_EQ(seed, 77u);
  EXPECT_STREQ(device, "cpu");
  g_free(device);
  gst_object_unref(inner);
  gst_object_unref(bin);
}
