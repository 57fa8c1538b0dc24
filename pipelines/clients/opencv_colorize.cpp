// Colorizes a video from an OpenCV program: cv::VideoCapture reads it through
// a GStreamer pipeline ending in cgancolorizebin (CAP_GSTREAMER), the program
// sees ordinary BGR cv::Mat frames, and cv::VideoWriter writes them back
// through GStreamer (VP8 in WebM).
//
//   colorgan-opencv-client INPUT OUTPUT.webm [MODEL]
//
// Prints the frame count and the mean colourfulness (Hasler & Suesstrunk) of
// what came out. Needs OpenCV's videoio built with GStreamer (Debian's is) and
// the colorgan plugin on GST_PLUGIN_PATH.
#include <opencv2/core.hpp>
#include <opencv2/videoio.hpp>

#include <cmath>
#include <iostream>
#include <string>

namespace {

// A file name as a quoted property value of a gst-launch description: the
// name is data, whatever quotes, spaces or '!' it holds.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

double colourfulness(const cv::Mat& bgr) {
  cv::Mat f;
  bgr.convertTo(f, CV_32F);
  cv::Mat channels[3];
  cv::split(f, channels);
  const cv::Mat rg = channels[2] - channels[1], yb = 0.5 * (channels[2] + channels[1]) - channels[0];
  cv::Scalar mean_rg, sd_rg, mean_yb, sd_yb;
  cv::meanStdDev(rg, mean_rg, sd_rg);
  cv::meanStdDev(yb, mean_yb, sd_yb);
  return std::hypot(sd_rg[0], sd_yb[0]) + 0.3 * std::hypot(mean_rg[0], mean_yb[0]);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || argc > 4 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    std::cerr << "usage: colorgan-opencv-client INPUT OUTPUT.webm [MODEL]\n";
    return argc == 2 ? 0 : 2;
  }
  const std::string model = argc == 4 ? " model=" + quoted(argv[3]) : "";
  cv::VideoCapture capture("filesrc location=" + quoted(argv[1]) +
                               " ! decodebin ! videoconvert ! cgancolorizebin" + model +
                               " ! videoconvert ! video/x-raw,format=BGR ! appsink sync=false",
                           cv::CAP_GSTREAMER);
  if (!capture.isOpened()) {
    std::cerr << "colorgan-opencv-client: cannot open " << argv[1]
              << " through GStreamer (a video file? the colorgan plugin on GST_PLUGIN_PATH?)\n";
    return 1;
  }
  double fps = capture.get(cv::CAP_PROP_FPS);
  if (!(fps > 0 && fps < 1000)) fps = 25;
  cv::VideoWriter writer;
  cv::Mat frame;
  int frames = 0;
  double sum = 0;
  while (capture.read(frame)) {
    if (!writer.isOpened()) {
      writer.open("appsrc ! videoconvert ! vp8enc deadline=1 ! webmmux ! filesink location=" + quoted(argv[2]),
                  cv::CAP_GSTREAMER, 0, fps, frame.size(), true);
      if (!writer.isOpened()) {
        std::cerr << "colorgan-opencv-client: cannot write " << argv[2] << "\n";
        return 1;
      }
    }
    writer.write(frame);
    sum += colourfulness(frame);
    ++frames;
  }
  if (frames == 0) {
    std::cerr << "colorgan-opencv-client: no frames came out of " << argv[1] << "\n";
    return 1;
  }
  std::cout << "frames " << frames << " colourfulness " << sum / frames << "\n";
  return 0;
}
