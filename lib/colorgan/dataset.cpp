#include "colorgan/dataset.h"

#include "colorgan/colorspace.h"

#include "colorgan/image_io.h"

#include <ATen/ATen.h>
#include <lmdb.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <random>
#include <set>
#include <stdexcept>

namespace fs = std::filesystem;

namespace colorgan {
namespace {

const std::set<std::string> kVideoExtensions = {".webm", ".mkv", ".mp4", ".avi", ".ogv", ".ogg", ".mpg", ".mpeg", ".mov"};

std::string lower_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

bool is_lmdb(const fs::path& p) { return fs::is_directory(p) && fs::exists(p / "data.mdb"); }

struct Decoded {
  std::vector<at::Tensor> images;
  std::vector<std::string> names;
  bool failed = false;
  std::string error;
};

// Shrunk to `keep_side` (memory: photos and frames can be 20 megapixels). Throws ImageError when it cannot be opened.
Decoded decode_video(const std::string& path, const DatasetOptions& options, int64_t keep_side) {
  Decoded out;
  VideoReader video(path);
  at::Tensor rgb;
  for (int64_t index = 0;; ++index) {
    const bool wanted = index % options.video_every == 0;
    if (!(wanted ? video.read(rgb) : video.skip())) break;
    if (!wanted) continue;
    out.images.push_back(shrink_to_short_side(rgb, keep_side));
    out.names.push_back(path + "#" + std::to_string(index));
  }
  if (out.images.empty()) {
    out.failed = true;
    out.error = "no frames decoded from video '" + path + "'";
  }
  return out;
}

Decoded decode_lmdb(const std::string& path, int64_t keep_side, const ImageSet::Warn& warn, int64_t* skipped) {
  Decoded out;
  MDB_env* env = nullptr;
  auto fail = [&](const std::string& what, int rc) {
    out.failed = true;
    out.error = "cannot read LMDB '" + path + "': " + what + ": " + mdb_strerror(rc);
    if (env != nullptr) mdb_env_close(env);
    return out;
  };
  int rc = mdb_env_create(&env);
  if (rc != 0) return fail("create", rc);
  mdb_env_set_mapsize(env, size_t{1} << 40);
  if ((rc = mdb_env_open(env, path.c_str(), MDB_RDONLY | MDB_NOLOCK, 0664)) != 0) {
    return fail("open", rc);
  }
  MDB_txn* txn = nullptr;
  MDB_dbi dbi;
  MDB_cursor* cursor = nullptr;
  if ((rc = mdb_txn_begin(env, nullptr, MDB_RDONLY, &txn)) != 0) return fail("begin", rc);
  if ((rc = mdb_dbi_open(txn, nullptr, 0, &dbi)) != 0 || (rc = mdb_cursor_open(txn, dbi, &cursor)) != 0) {
    mdb_txn_abort(txn);
    return fail("open database", rc);
  }
  MDB_val key, value;
  while (mdb_cursor_get(cursor, &key, &value, MDB_NEXT) == 0) {
    const std::string name = path + "#" + std::string(static_cast<const char*>(key.mv_data), key.mv_size);
    const auto* bytes = static_cast<const uint8_t*>(value.mv_data);
    try {
      out.images.push_back(shrink_to_short_side(decode_image(std::vector<uint8_t>(bytes, bytes + value.mv_size), name), keep_side));
      out.names.push_back(name);
    } catch (const ImageError& e) {
      warn(std::string("skipping ") + e.what());
      ++*skipped;
    }
  }
  mdb_cursor_close(cursor);
  mdb_txn_abort(txn);
  mdb_env_close(env);
  return out;
}


}  // namespace

std::vector<std::string> find_inputs(const std::vector<std::string>& paths) {
  std::vector<std::string> inputs;
  for (const auto& path : paths) {
    const fs::path p(path);
    if (!fs::exists(p)) throw std::invalid_argument("data path '" + path + "' does not exist");
    if (is_lmdb(p) || !fs::is_directory(p)) {
      inputs.push_back(path);
      continue;
    }
    std::vector<std::string> found;
    for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::follow_directory_symlink);
         it != fs::recursive_directory_iterator(); ++it) {
      if (it->is_directory() && is_lmdb(it->path())) {
        found.push_back(it->path().string());
        it.disable_recursion_pending();
      } else if (it->is_regular_file()) {
        if (is_image_file(it->path().string()) || kVideoExtensions.count(lower_extension(it->path()))) {
          found.push_back(it->path().string());
        }
      }
    }
    std::sort(found.begin(), found.end());  // a stable order whatever the file system returns
    inputs.insert(inputs.end(), found.begin(), found.end());
  }
  return inputs;
}

ImageSet ImageSet::load(const std::vector<std::string>& inputs, const DatasetOptions& options, LoadSummary* summary,
                        const Warn& warn) {
  const int64_t keep_side = options.keep_side > 0 ? options.keep_side : 4 * options.size;
  std::vector<Decoded> decoded(inputs.size());
  std::atomic<size_t> next{0};
  std::atomic<int64_t> lmdb_skipped{0};
  std::mutex warn_mutex;
  auto locked_warn = [&](const std::string& message) {
    std::lock_guard<std::mutex> lock(warn_mutex);
    warn(message);
  };
  auto work = [&] {
    for (size_t i = next++; i < inputs.size(); i = next++) {
      const fs::path p(inputs[i]);
      Decoded& d = decoded[i];
      try {
        if (is_lmdb(p)) {
          int64_t skipped = 0;
          d = decode_lmdb(inputs[i], keep_side, locked_warn, &skipped);
          lmdb_skipped += skipped;
        } else if (kVideoExtensions.count(lower_extension(p))) {
          d = decode_video(inputs[i], options, keep_side);
        } else {
          d.images.push_back(shrink_to_short_side(read_image(inputs[i]), keep_side));
          d.names.push_back(inputs[i]);
        }
      } catch (const std::exception& e) {
        d.failed = true;
        d.error = e.what();
      }
      if (d.failed) locked_warn("skipping " + d.error);
    }
  };
  std::vector<std::thread> workers;
  for (int t = 0; t < std::max(1, options.threads); ++t) workers.emplace_back(work);
  for (auto& w : workers) w.join();

  ImageSet set;
  set.options_ = options;
  LoadSummary s;
  s.sources = static_cast<int64_t>(inputs.size());
  s.skipped = lmdb_skipped;
  for (auto& d : decoded) {
    if (d.failed) ++s.skipped;
    for (size_t i = 0; i < d.images.size(); ++i) set.add(std::move(d.images[i]), std::move(d.names[i]));
  }
  s.images = set.size();
  if (summary != nullptr) *summary = s;
  return set;
}

void ImageSet::add(at::Tensor image, std::string name) {
  // Video frames and LMDB records are named "<file>#<key>": their source is the file's folder too.
  const std::string source = fs::path(name.substr(0, name.find('#'))).parent_path().string();
  auto found = std::find(source_names_.begin(), source_names_.end(), source);
  if (found == source_names_.end()) {
    source_names_.push_back(source);
    source_images_.emplace_back();
    found = source_names_.end() - 1;
  }
  source_images_[found - source_names_.begin()].push_back(size());
  image_sources_.push_back(found - source_names_.begin());
  images_.push_back(std::move(image));
  names_.push_back(std::move(name));
}

std::pair<ImageSet, ImageSet> ImageSet::split(int64_t count) const {
  ImageSet kept, held_out;
  kept.options_ = held_out.options_ = options_;
  count = std::clamp<int64_t>(count, 0, size());
  std::set<int64_t> chosen;
  for (int64_t i = 0; i < count; ++i) chosen.insert(i * size() / count + size() / (2 * count));
  for (int64_t i = 0; i < size(); ++i) {
    (chosen.count(i) ? held_out : kept).add(images_[i], names_[i]);
  }
  return {kept, held_out};
}

at::Tensor ImageSet::random_batch(int64_t n, uint64_t seed, int64_t first) const {
  if (images_.empty()) throw std::runtime_error("no images to make a batch from");
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const int64_t s = options_.size;
  at::Tensor batch = at::empty({n, 3, s, s});
  for (int64_t b = 0; b < n; ++b) {
    std::seed_seq crop_seed{seed & 0xFFFFFFFFu, seed >> 32, static_cast<uint64_t>(first + b) & 0xFFFFFFFFu,
                            static_cast<uint64_t>(first + b) >> 32};
    std::mt19937_64 rng(crop_seed);
    auto pick = [&](const std::vector<int64_t>& members) { return members[rng() % members.size()]; };
    const at::Tensor& image =
        options_.balance_sources ? images_[pick(source_images_[rng() % source_images_.size()])]
                                 : images_[rng() % images_.size()];
    const int64_t h = image.size(0), w = image.size(1), short_side = std::min(h, w);
    int64_t side = short_side;
    if (options_.max_crop > 0) {
      const double f = options_.min_crop + (options_.max_crop - options_.min_crop) * unit(rng);
      side = std::clamp<int64_t>(std::lround(short_side * f), 1, short_side);
    }
    const int64_t top = static_cast<int64_t>(rng() % (h - side + 1));
    const int64_t left = static_cast<int64_t>(rng() % (w - side + 1));
    at::Tensor crop = resize_image(image.narrow(0, top, side).narrow(1, left, side), s, s);
    if (unit(rng) < 0.5) crop = crop.flip({1});
    // Drawn after everything above, so a set without cut-outs makes the crops it always made.
    if (cutouts_ && unit(rng) < options_.cutout_fraction) crop = cutouts_->paste_onto(crop, rng);
    batch[b].copy_(rgb8_to_tensor(crop));
  }
  return batch;
}

CutoutSet CutoutSet::load(const std::vector<std::string>& paths, int64_t max_side, LoadSummary* summary,
                          const Warn& warn) {
  CutoutSet set;
  LoadSummary s;
  for (const auto& path : find_inputs(paths)) {
    if (!is_image_file(path)) continue;  // find_inputs also lists videos
    ++s.sources;
    try {
      const at::Tensor rgba = read_image_rgba(path);
      // An opaque image would paste as a rectangle: a photo, not a cut-out.
      if (rgba.select(2, 3).min().item<uint8_t>() == 255) throw ImageError("image '" + path + "' has no transparent pixels");
      at::Tensor premultiplied = rgba.to(at::kFloat);
      premultiplied.narrow(2, 0, 3).mul_(premultiplied.narrow(2, 3, 1) / 255.0);
      set.premultiplied_.push_back(shrink_to_long_side(premultiplied.round_().to(at::kByte), max_side));
    } catch (const ImageError& e) {
      warn(std::string("skipping cut-out: ") + e.what());
      ++s.skipped;
    }
  }
  s.images = set.size();
  if (summary != nullptr) *summary = s;
  return set;
}

at::Tensor CutoutSet::paste_onto(const at::Tensor& crop, std::mt19937_64& rng) const {
  if (premultiplied_.empty()) return crop;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const int64_t side = crop.size(0);
  at::Tensor out = crop.to(at::kFloat);
  const int count = 1 + static_cast<int>(rng() % 2);
  for (int k = 0; k < count; ++k) {
    const at::Tensor& cutout = premultiplied_[rng() % premultiplied_.size()];
    const int64_t h = cutout.size(0), w = cutout.size(1);
    const double scale = (0.3 + 0.4 * unit(rng)) * static_cast<double>(side) / static_cast<double>(std::max(h, w));
    const int64_t ph = std::clamp<int64_t>(std::lround(h * scale), 1, side);
    const int64_t pw = std::clamp<int64_t>(std::lround(w * scale), 1, side);
    at::Tensor piece = resize_image(cutout, pw, ph).to(at::kFloat);
    if (unit(rng) < 0.5) piece = piece.flip({1});
    const int64_t top = static_cast<int64_t>(rng() % (side - ph + 1));
    const int64_t left = static_cast<int64_t>(rng() % (side - pw + 1));
    at::Tensor region = out.narrow(0, top, ph).narrow(1, left, pw);
    const at::Tensor alpha = piece.narrow(2, 3, 1) / 255.0;
    region.copy_(region * (1 - alpha) + piece.narrow(2, 0, 3));  // colour is premultiplied
  }
  return out.round_().clamp_(0, 255).to(at::kByte);
}

at::Tensor ImageSet::centre_batch(int64_t first, int64_t n) const {
  if (images_.empty()) throw std::runtime_error("no images to make a batch from");
  const int64_t s = options_.size;
  at::Tensor batch = at::empty({n, 3, s, s});
  for (int64_t b = 0; b < n; ++b) {
    const at::Tensor& image = images_[(first + b) % size()];
    const int64_t h = image.size(0), w = image.size(1), side = std::min(h, w);
    batch[b].copy_(rgb8_to_tensor(resize_image(image.narrow(0, (h - side) / 2, side).narrow(1, (w - side) / 2, side), s, s)));
  }
  return batch;
}

BatchPrefetcher::BatchPrefetcher(std::function<at::Tensor(int64_t)> make, int64_t first, int64_t depth)
    : make_(std::move(make)), next_index_(first), depth_(depth) {
  worker_ = std::thread([this] {
    for (int64_t index = next_index_;; ++index) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return stop_ || static_cast<int64_t>(ready_.size()) < depth_; });
        if (stop_) return;
      }
      at::Tensor batch;
      std::exception_ptr error;
      try {
        batch = make_(index);
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = error;
      ready_.push_back(std::move(batch));
      changed_.notify_all();
      if (error) return;
    }
  });
}

BatchPrefetcher::~BatchPrefetcher() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  worker_.join();
}

at::Tensor BatchPrefetcher::next() {
  const auto start = std::chrono::steady_clock::now();
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [this] { return !ready_.empty(); });
  if (error_) std::rethrow_exception(error_);
  waited_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  at::Tensor batch = std::move(ready_.front());
  ready_.pop_front();
  changed_.notify_all();
  return batch;
}

}  // namespace colorgan
