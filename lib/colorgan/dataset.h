// Training and validation images: found on disk, decoded once into memory by
// worker threads, served as batches of square crops.
#pragma once

#include <ATen/core/Tensor.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace colorgan {

struct DatasetOptions {
  int64_t size = 64;          // side of the square crops
  int64_t keep_side = 0;      // images are kept with their short side shrunk to at most this (0 = 4 * size)
  double min_crop = 0.0;      // random-scale crops: crop side as a fraction of the short side,
  double max_crop = 0.0;      // drawn from [min_crop, max_crop]; 0 = the whole short side
  int64_t video_every = 30;   // take every Nth frame of a video
  int threads = 2;            // decoding workers
  bool balance_sources = false;  // draw a source (an image's folder) uniformly, then an image in it
  double cutout_fraction = 0.5;  // share of crops that get cut-outs pasted on, when the set has cut-outs
};

// What loading found; skipped inputs are also reported once each through the warning callback.
struct LoadSummary {
  int64_t sources = 0;  // files, videos and LMDB databases visited
  int64_t images = 0;   // images kept
  int64_t skipped = 0;  // unreadable or truncated inputs
};

// Expands paths into inputs: folders are searched recursively for images
// (jpg, jpeg, png, webp, ppm, pgm, bmp) and videos (webm, mkv, mp4, avi, ogv,
// mpg, mov); a folder holding data.mdb is an LMDB database (LSUN export:
// values are encoded images). Throws std::invalid_argument for a missing path.
std::vector<std::string> find_inputs(const std::vector<std::string>& paths);

// Photographed objects with transparency (RGBA images: animals, fruit, tools...)
// pasted onto training crops, so the photos' scenes hold more kinds of objects
// than the photos alone show (issue 13's composites).
class CutoutSet {
 public:
  using Warn = std::function<void(const std::string&)>;

  // Reads RGBA images (files or folders, searched like find_inputs), shrunk so
  // their long side is at most `max_side`; unreadable ones and images without
  // alpha (or with no transparent pixel) are skipped through `warn` and counted
  // in summary->skipped.
  static CutoutSet load(const std::vector<std::string>& paths, int64_t max_side, LoadSummary* summary, const Warn& warn);

  int64_t size() const { return static_cast<int64_t>(premultiplied_.size()); }
  // Pastes one or two cut-outs onto uint8 RGB [S, S, 3]: each drawn at random,
  // its long side 30-70% of S, maybe mirrored, at a random place inside the
  // crop, alpha-blended. Draws from `rng` only.
  at::Tensor paste_onto(const at::Tensor& crop, std::mt19937_64& rng) const;

 private:
  std::vector<at::Tensor> premultiplied_;  // uint8 RGBA [H, W, 4], colour times alpha (so resizing leaks no hidden colour)
};

class ImageSet {
 public:
  using Warn = std::function<void(const std::string&)>;

  ImageSet() = default;
  // Decodes every input (images, video frames, LMDB values) with options.threads workers.
  static ImageSet load(const std::vector<std::string>& inputs, const DatasetOptions& options, LoadSummary* summary,
                       const Warn& warn);
  // Holds out `count` whole images, evenly spaced, as a second set.
  std::pair<ImageSet, ImageSet> split(int64_t count) const;

  int64_t size() const { return static_cast<int64_t>(images_.size()); }
  const std::string& name(int64_t i) const { return names_[i]; }
  const at::Tensor& image(int64_t i) const { return images_[i]; }  // uint8 RGB [H, W, 3]
  int64_t source_count() const { return static_cast<int64_t>(source_names_.size()); }
  // The folder image i came from.
  const std::string& source(int64_t i) const { return source_names_[image_sources_[i]]; }

  // n random crops (random image, scale, position, horizontal flip), float RGB
  // [n, 3, S, S]: crops first .. first + n - 1 of the batch `seed` names. Each crop is a
  // pure function of (seed, its index), so rank r of a training group draws its share
  // (first = r x n) of the batch one process draws whole.
  at::Tensor random_batch(int64_t n, uint64_t seed, int64_t first = 0) const;
  // From now on DatasetOptions::cutout_fraction of random_batch's crops get cut-outs pasted on.
  void set_cutouts(std::shared_ptr<const CutoutSet> cutouts) { cutouts_ = std::move(cutouts); }
  // Centre crops of the whole short side of images first, first+1, ... (wrapping), float RGB [n, 3, S, S].
  at::Tensor centre_batch(int64_t first, int64_t n) const;

 private:
  void add(at::Tensor image, std::string name);

  std::vector<at::Tensor> images_;
  std::vector<std::string> names_;
  std::vector<std::string> source_names_;          // an image's source: the folder it came from
  std::vector<std::vector<int64_t>> source_images_;  // image indices per source
  std::vector<size_t> image_sources_;                // source index per image
  DatasetOptions options_;
  std::shared_ptr<const CutoutSet> cutouts_;
};

// Makes batches ahead of use on a worker thread, so decoding and cropping
// overlap the model's work. make(i) must be a pure function of i.
class BatchPrefetcher {
 public:
  BatchPrefetcher(std::function<at::Tensor(int64_t)> make, int64_t first, int64_t depth = 3);
  ~BatchPrefetcher();
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  at::Tensor next();                                      // batch first, first+1, ...
  double waited_seconds() const { return waited_seconds_; }  // time next() spent blocked

 private:
  std::function<at::Tensor(int64_t)> make_;
  int64_t next_index_;
  int64_t depth_;
  std::deque<at::Tensor> ready_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool stop_ = false;
  std::exception_ptr error_;  // make() threw: rethrown by next()
  double waited_seconds_ = 0;
  std::thread worker_;
};

}  // namespace colorgan
