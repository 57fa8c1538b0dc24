// Reading and writing images as tensors (OpenCV underneath).
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace colorgan {

class ImageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Any image OpenCV decodes (PNG, JPEG, WebP, PPM/PGM, BMP...) as RGB uint8
// [H, W, 3]; gray images are expanded. Throws ImageError naming the file.
at::Tensor read_image(const std::string& path);
// An image with transparency as RGBA uint8 [H, W, 4] (straight alpha). Throws
// ImageError naming the file when it cannot be decoded or has no alpha channel.
at::Tensor read_image_rgba(const std::string& path);
// Whether a .jpg/.jpeg file lacks its end-of-image marker (FF D9 at the end):
// decoders then return what they could read, and only libjpeg's own warning,
// which names no file, says so.
bool jpeg_looks_truncated(const std::string& path);
// Whether a path names a still image read_image takes (jpg, jpeg, png, webp, ppm, pgm, bmp; any case).
bool is_image_file(const std::string& path);
// The same from encoded bytes in memory (`what` names the source in errors).
at::Tensor decode_image(const std::vector<uint8_t>& bytes, const std::string& what);

// A video file decoded frame by frame (OpenCV's decoders: MPEG-1/2, VP8/9, MJPEG...).
class VideoReader {
 public:
  explicit VideoReader(const std::string& path);  // throws ImageError when it cannot be opened
  ~VideoReader();
  bool read(at::Tensor& rgb);  // next frame as RGB uint8 [H, W, 3]; false at the end
  bool skip();                 // passes over the next frame without converting it; false at the end

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Writes float RGB [3, H, W] in [0,1] (or uint8 [H, W, 3], or RGBA [H, W, 4] as PNG) as PNG/JPEG by extension.
void write_image(const std::string& path, const at::Tensor& image);

// Resizes uint8 [H, W, C] (area filter when shrinking, bicubic when growing).
at::Tensor resize_image(const at::Tensor& hwc, int64_t width, int64_t height);
// Shrinks uint8 [H, W, C] so its short side is at most `max_side` (aspect kept); smaller images pass as they are.
at::Tensor shrink_to_short_side(const at::Tensor& hwc, int64_t max_side);
// The same for the long side.
at::Tensor shrink_to_long_side(const at::Tensor& hwc, int64_t max_side);

// Lays out float RGB images [3, H, W] (all the same size) in a grid with
// `columns` columns and a 2-pixel white gutter; returns float [3, H', W'].
at::Tensor image_grid(const std::vector<at::Tensor>& images, int64_t columns);

}  // namespace colorgan
