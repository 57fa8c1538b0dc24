#include "colorgan/image_io.h"

#include "colorgan/colorspace.h"

#include <ATen/ATen.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

namespace colorgan {
namespace {

void check_decoded(const cv::Mat& decoded, const std::string& what) {
  if (decoded.empty()) throw ImageError("cannot decode image '" + what + "' (missing, truncated or not an image)");
}

// An image OpenCV converted to RGB or RGBA, as a uint8 [H, W, C] tensor of its own.
at::Tensor to_hwc8(cv::Mat image) {
  if (image.depth() != CV_8U) image.convertTo(image, CV_8U, image.depth() == CV_16U ? 1.0 / 257.0 : 1.0);
  return at::from_blob(image.data, {image.rows, image.cols, image.channels()}, at::kByte).clone();
}

at::Tensor from_mat(const cv::Mat& decoded, const std::string& what) {
  check_decoded(decoded, what);
  cv::Mat rgb;
  if (decoded.channels() == 1) {
    cv::cvtColor(decoded, rgb, cv::COLOR_GRAY2RGB);
  } else if (decoded.channels() == 4) {
    cv::cvtColor(decoded, rgb, cv::COLOR_BGRA2RGB);
  } else {
    cv::cvtColor(decoded, rgb, cv::COLOR_BGR2RGB);
  }
  return to_hwc8(rgb);
}

// A contiguous uint8 [H, W, C] tensor seen as an OpenCV image (no copy).
cv::Mat view_mat(const at::Tensor& hwc) {
  return cv::Mat(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC(static_cast<int>(hwc.size(2))),
                 hwc.data_ptr<uint8_t>());
}

// ".JPG" -> ".jpg": extensions compared whatever their case.
std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

}  // namespace

struct VideoReader::Impl {
  cv::VideoCapture capture;
  cv::Mat frame;
};

VideoReader::VideoReader(const std::string& path) : impl_(std::make_unique<Impl>()) {
  if (!impl_->capture.open(path) || !impl_->capture.isOpened()) throw ImageError("cannot open video '" + path + "'");
}
VideoReader::~VideoReader() = default;

bool VideoReader::skip() { return impl_->capture.grab(); }

bool VideoReader::read(at::Tensor& rgb) {
  if (!impl_->capture.read(impl_->frame) || impl_->frame.empty()) return false;
  rgb = from_mat(impl_->frame, "video frame");
  return true;
}

at::Tensor read_image(const std::string& path) { return from_mat(cv::imread(path, cv::IMREAD_COLOR), path); }

at::Tensor read_image_rgba(const std::string& path) {
  const cv::Mat decoded = cv::imread(path, cv::IMREAD_UNCHANGED);
  check_decoded(decoded, path);
  if (decoded.channels() != 4) throw ImageError("image '" + path + "' has no alpha channel");
  cv::Mat rgba;
  cv::cvtColor(decoded, rgba, cv::COLOR_BGRA2RGBA);
  return to_hwc8(rgba);
}

bool jpeg_looks_truncated(const std::string& path) {
  const std::string ext = lower_extension(path);
  if (ext != ".jpg" && ext != ".jpeg") return false;
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in || in.tellg() < 2) return false;  // unreadable or empty: the decoder says so
  // Encoders may pad after the marker: look for it in the last bytes.
  const std::streamoff size = in.tellg(), tail = std::min<std::streamoff>(size, 64);
  std::string last(static_cast<size_t>(tail), '\0');
  in.seekg(size - tail);
  in.read(last.data(), tail);
  return last.find("\xff\xd9") == std::string::npos;
}

bool is_image_file(const std::string& path) {
  static const std::set<std::string> extensions = {".jpg", ".jpeg", ".png", ".webp", ".ppm", ".pgm", ".bmp"};
  return extensions.count(lower_extension(path)) > 0;
}

at::Tensor decode_image(const std::vector<uint8_t>& bytes, const std::string& what) {
  if (bytes.empty()) throw ImageError("cannot decode image '" + what + "' (empty)");
  return from_mat(cv::imdecode(bytes, cv::IMREAD_COLOR), what);
}

void write_image(const std::string& path, const at::Tensor& image) {
  at::Tensor hwc = image.scalar_type() == at::kByte ? image.contiguous() : tensor_to_rgb8(image.detach().cpu());
  cv::Mat bgr;
  cv::cvtColor(view_mat(hwc), bgr, hwc.size(2) == 4 ? cv::COLOR_RGBA2BGRA : cv::COLOR_RGB2BGR);
  if (!cv::imwrite(path, bgr)) throw ImageError("cannot write image '" + path + "'");
}

at::Tensor resize_image(const at::Tensor& hwc, int64_t width, int64_t height) {
  const at::Tensor source = hwc.contiguous();
  at::Tensor out = at::empty({height, width, source.size(2)}, at::kByte);
  cv::Mat dst = view_mat(out);
  const bool shrinking = width * height < source.size(0) * source.size(1);
  cv::resize(view_mat(source), dst, dst.size(), 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_CUBIC);
  return out;
}

namespace {
// Shrinks so that `side` (one of the image's sides) is at most max_side, aspect kept.
at::Tensor shrink_side(const at::Tensor& hwc, int64_t side, int64_t max_side) {
  if (side <= max_side) return hwc;
  const int64_t h = hwc.size(0), w = hwc.size(1);
  const double f = static_cast<double>(max_side) / static_cast<double>(side);
  return resize_image(hwc, std::max<int64_t>(1, std::lround(w * f)), std::max<int64_t>(1, std::lround(h * f)));
}
}  // namespace

at::Tensor shrink_to_short_side(const at::Tensor& hwc, int64_t max_side) {
  return shrink_side(hwc, std::min(hwc.size(0), hwc.size(1)), max_side);
}

at::Tensor shrink_to_long_side(const at::Tensor& hwc, int64_t max_side) {
  return shrink_side(hwc, std::max(hwc.size(0), hwc.size(1)), max_side);
}

at::Tensor image_grid(const std::vector<at::Tensor>& images, int64_t columns) {
  if (images.empty()) throw std::invalid_argument("image_grid: no images");
  constexpr int64_t kGutter = 2;
  const int64_t h = images[0].size(1), w = images[0].size(2);
  const int64_t rows = (static_cast<int64_t>(images.size()) + columns - 1) / columns;
  at::Tensor grid = at::ones({3, rows * (h + kGutter) + kGutter, columns * (w + kGutter) + kGutter});
  for (size_t i = 0; i < images.size(); ++i) {
    const int64_t r = static_cast<int64_t>(i) / columns, c = static_cast<int64_t>(i) % columns;
    grid.narrow(1, kGutter + r * (h + kGutter), h).narrow(2, kGutter + c * (w + kGutter), w).copy_(images[i]);
  }
  return grid;
}

}  // namespace colorgan
