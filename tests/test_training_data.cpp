#include "colorgan/colorspace.h"
#include "colorgan/dataset.h"
#include "colorgan/default_model.h"
#include "colorgan/engine.h"
#include "colorgan/image_io.h"

#include "test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <lmdb.h>
#include <opencv2/videoio.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>

using namespace colorgan;
namespace fs = std::filesystem;

// ---- images and datasets -------------------------------------------------------

class DataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    torch::manual_seed(0);
    for (int i = 0; i < 6; ++i) {
      auto image = torch::rand({3, 40 + 4 * i, 56});
      write_image(dir + "/photos/img" + std::to_string(i) + (i % 2 ? ".png" : ".jpg"), image);
    }
    std::ofstream(dir + "/photos/broken.png") << "not an image";
    std::ofstream(dir + "/photos/notes.txt") << "ignored: not an image extension";
  }
  std::string dir = [] {
    auto d = colorgan::testing::make_temp_dir("data");
    fs::create_directories(d + "/photos/sub");
    return d;
  }();
};

TEST_F(DataTest, FindsImagesRecursivelyAndSkipsUnreadableOnes) {
  write_image(dir + "/photos/sub/deep.png", torch::rand({3, 30, 30}));
  const auto inputs = find_inputs({dir + "/photos"});
  EXPECT_EQ(inputs.size(), 8u);  // 6 + deep.png + broken.png; notes.txt is not an image
  std::vector<std::string> warnings;
  LoadSummary summary;
  DatasetOptions options;
  options.size = 16;
  ImageSet set = ImageSet::load(inputs, options, &summary, [&](const std::string& w) { warnings.push_back(w); });
  EXPECT_EQ(set.size(), 7);
  EXPECT_EQ(summary.skipped, 1);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], ::testing::HasSubstr("broken.png"));
  EXPECT_THROW(find_inputs({dir + "/missing"}), std::invalid_argument);
}

TEST_F(DataTest, ReadsLsunStyleLmdbExportsAndSkipsBadRecords) {
  // An LMDB like LSUN's export: keys -> encoded images (here PNG), plus one corrupt record.
  const std::string db = dir + "/church_outdoor_train_lmdb";
  fs::create_directories(db);
  MDB_env* env = nullptr;
  ASSERT_EQ(mdb_env_create(&env), 0);
  mdb_env_set_mapsize(env, size_t{64} << 20);
  ASSERT_EQ(mdb_env_open(env, db.c_str(), 0, 0664), 0);
  MDB_txn* txn = nullptr;
  MDB_dbi dbi;
  ASSERT_EQ(mdb_txn_begin(env, nullptr, 0, &txn), 0);
  ASSERT_EQ(mdb_dbi_open(txn, nullptr, 0, &dbi), 0);
  auto put = [&](const std::string& key, const std::vector<uint8_t>& bytes) {
    MDB_val k{key.size(), const_cast<char*>(key.data())};
    MDB_val v{bytes.size(), const_cast<uint8_t*>(bytes.data())};
    ASSERT_EQ(mdb_put(txn, dbi, &k, &v, 0), 0);
  };
  for (int i = 0; i < 3; ++i) {
    const std::string png = dir + "/record.png";
    write_image(png, torch::rand({3, 24, 32}));
    std::ifstream in(png, std::ios::binary);
    put("key" + std::to_string(i), std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {}));
  }
  put("broken", {1, 2, 3, 4});
  ASSERT_EQ(mdb_txn_commit(txn), 0);
  mdb_env_close(env);

  const auto inputs = find_inputs({dir});  // the LMDB folder is one input, not searched inside
  EXPECT_EQ(std::count(inputs.begin(), inputs.end(), db), 1);
  std::vector<std::string> warnings;
  LoadSummary summary;
  ImageSet set = ImageSet::load({db}, {}, &summary, [&](const std::string& w) { warnings.push_back(w); });
  EXPECT_EQ(set.size(), 3);
  EXPECT_EQ(summary.skipped, 1);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0], ::testing::HasSubstr("broken"));
  EXPECT_EQ(set.image(0).sizes(), (std::vector<int64_t>{24, 32, 3}));
}

TEST_F(DataTest, SamplesEveryNthVideoFrame) {
  // A real encoded video (Motion JPEG in AVI, written by OpenCV), 10 frames.
  const std::string video = dir + "/clip.avi";
  {
    cv::VideoWriter writer(video, cv::VideoWriter::fourcc('M', 'J', 'P', 'G'), 10, cv::Size(40, 30));
    ASSERT_TRUE(writer.isOpened());
    for (int i = 0; i < 10; ++i) writer.write(cv::Mat(30, 40, CV_8UC3, cv::Scalar(20 * i, 100, 200)));
  }
  DatasetOptions options;
  options.video_every = 3;  // frames 0, 3, 6, 9
  LoadSummary summary;
  ImageSet set = ImageSet::load(find_inputs({video}), options, &summary, [](const std::string&) {});
  EXPECT_EQ(set.size(), 4);
  EXPECT_EQ(set.name(1), video + "#3");
  EXPECT_EQ(set.image(0).sizes(), (std::vector<int64_t>{30, 40, 3}));
  std::ofstream(dir + "/broken.webm") << "not a video";
  ImageSet none = ImageSet::load({dir + "/broken.webm"}, options, &summary, [](const std::string&) {});
  EXPECT_EQ(none.size(), 0);
  EXPECT_EQ(summary.skipped, 1);
}

TEST_F(DataTest, BatchesAreDeterministicCropsOfTheRightSize) {
  DatasetOptions options;
  options.size = 16;
  options.min_crop = 0.5;
  options.max_crop = 1.0;
  ImageSet set = ImageSet::load(find_inputs({dir + "/photos"}), options, nullptr, [](const std::string&) {});
  auto a = set.random_batch(5, 42);
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{5, 3, 16, 16}));
  EXPECT_TRUE(torch::equal(a, set.random_batch(5, 42)));
  EXPECT_FALSE(torch::equal(a, set.random_batch(5, 43)));
  EXPECT_GE(a.min().item<float>(), 0.0f);
  EXPECT_LE(a.max().item<float>(), 1.0f);
  EXPECT_EQ(set.centre_batch(0, 3).sizes(), (std::vector<int64_t>{3, 3, 16, 16}));
}

TEST_F(DataTest, BalancedSamplingGivesEachFolderItsShare) {
  // One photo in a second folder against the six of the first: balanced draws reach it half the time.
  fs::create_directories(dir + "/rare");
  write_image(dir + "/rare/only.png", torch::zeros({3, 20, 20}));  // black: easy to count
  DatasetOptions options;
  options.size = 8;
  options.balance_sources = true;
  ImageSet set = ImageSet::load(find_inputs({dir + "/photos", dir + "/rare"}), options, nullptr,
                                [](const std::string&) {});
  EXPECT_EQ(set.source_count(), 2);
  auto batch = set.random_batch(400, 3);
  const auto black = (batch.flatten(1).amax(1) == 0).sum().item<int64_t>();
  EXPECT_GT(black, 150);
  EXPECT_LT(black, 250);
  options.balance_sources = false;
  ImageSet plain = ImageSet::load(find_inputs({dir + "/photos", dir + "/rare"}), options, nullptr,
                                  [](const std::string&) {});
  const auto plain_black = (plain.random_batch(400, 3).flatten(1).amax(1) == 0).sum().item<int64_t>();
  EXPECT_LT(plain_black, 100);  // about 1 in 7 without balancing
}

TEST_F(DataTest, CutoutsArePastedWithTheirAlphaOntoTheirShareOfCrops) {
  // A red disc on a transparent field whose hidden colour is green: green in a crop means alpha was ignored.
  at::Tensor cutout = torch::zeros({40, 40, 4}, torch::kByte);
  cutout.select(2, 1).fill_(255);
  const auto yy = torch::arange(40).view({40, 1}), xx = torch::arange(40).view({1, 40});
  const auto disc = ((yy - 20) * (yy - 20) + (xx - 20) * (xx - 20)) < 15 * 15;
  cutout.select(2, 0).masked_fill_(disc, 255);
  cutout.select(2, 1).masked_fill_(disc, 0);
  cutout.select(2, 3).masked_fill_(disc, 255);
  fs::create_directories(dir + "/cutouts");
  write_image(dir + "/cutouts/disc.png", cutout);
  write_image(dir + "/cutouts/opaque.jpg", torch::rand({3, 20, 20}));  // no alpha: skipped
  write_image(dir + "/cutouts/opaque.png", torch::full({20, 20, 4}, 255, torch::kByte));  // no transparency: skipped
  fs::create_directories(dir + "/gray");
  write_image(dir + "/gray/gray.png", torch::full({3, 64, 64}, 0.5));

  std::vector<std::string> warnings;
  LoadSummary summary;
  const CutoutSet cutouts = CutoutSet::load({dir + "/cutouts"}, 32, &summary, [&](const std::string& w) { warnings.push_back(w); });
  EXPECT_EQ(cutouts.size(), 1);
  EXPECT_EQ(summary.skipped, 2);
  ASSERT_EQ(warnings.size(), 2u);
  EXPECT_THAT(warnings[0], ::testing::HasSubstr("opaque.jpg' has no alpha"));
  EXPECT_THAT(warnings[1], ::testing::HasSubstr("opaque.png' has no transparent pixels"));

  DatasetOptions options;
  options.size = 32;
  ImageSet set = ImageSet::load(find_inputs({dir + "/gray"}), options, nullptr, [](const std::string&) {});
  const at::Tensor plain = set.random_batch(200, 5);
  auto with_cutouts = [&](double fraction) {
    options.cutout_fraction = fraction;
    ImageSet s = ImageSet::load(find_inputs({dir + "/gray"}), options, nullptr, [](const std::string&) {});
    s.set_cutouts(std::make_shared<CutoutSet>(cutouts));
    return s.random_batch(200, 5);
  };
  EXPECT_TRUE(torch::equal(with_cutouts(0.0), plain));  // the draws that pick crops are unchanged

  const at::Tensor half = with_cutouts(0.5);
  const at::Tensor red = (half.select(1, 0) - half.select(1, 1)).flatten(1).amax(1) > 0.5;  // per crop
  const at::Tensor untouched = (half - plain).abs().flatten(1).amax(1) == 0;
  EXPECT_TRUE(torch::equal(red, ~untouched));  // every crop is the plain one or got the disc
  EXPECT_GT(red.sum().item<int64_t>(), 70);
  EXPECT_LT(red.sum().item<int64_t>(), 130);

  const at::Tensor all = with_cutouts(1.0);
  EXPECT_EQ(((all.select(1, 0) - all.select(1, 1)).flatten(1).amax(1) > 0.5).sum().item<int64_t>(), 200);
  EXPECT_LT((all.select(1, 1) - all.select(1, 0)).max().item<float>(), 0.02);  // no hidden green at the disc's edge
}

TEST_F(DataTest, SplitHoldsOutWholeImages) {
  ImageSet set = ImageSet::load(find_inputs({dir + "/photos"}), {}, nullptr, [](const std::string&) {});
  auto [train, validation] = set.split(2);
  EXPECT_EQ(train.size(), 4);
  EXPECT_EQ(validation.size(), 2);
  for (int64_t i = 0; i < validation.size(); ++i) {
    for (int64_t j = 0; j < train.size(); ++j) EXPECT_NE(validation.name(i), train.name(j));
  }
}

TEST_F(DataTest, PrefetcherDeliversInOrder) {
  BatchPrefetcher prefetch([](int64_t i) { return torch::full({1}, static_cast<float>(i)); }, 7);
  for (int i = 7; i < 12; ++i) EXPECT_EQ(prefetch.next().item<float>(), static_cast<float>(i));
}

TEST(ImageIo, ErrorsNameTheFile) {
  try {
    read_image("/nonexistent/image.png");
    FAIL();
  } catch (const ImageError& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("/nonexistent/image.png"));
  }
  EXPECT_THROW(decode_image({1, 2, 3}, "bytes"), ImageError);
  EXPECT_THROW(read_image_rgba("/nonexistent/cutout.png"), ImageError);
}


// ---- precision=auto on a real photo -------------------------------------------------

TEST(Precision, Bf16AndAutoAreWithinOneChromaLevelOfFp32OnARealPhoto) {
  const std::string data = colorgan::testing::meson_env("COLORGAN_TEST_DATA");
  const at::Tensor rgb = rgb8_to_tensor(read_image(data + "/astronaut-128.jpg"));
  const at::Tensor y = rgb_to_luma(rgb).unsqueeze(0).unsqueeze(0);  // a person: skin is where errors show
  const std::filesystem::path model = default_model_path();
  ASSERT_FALSE(model.empty());
  // Every shipped generator: their bf16 paths differ (the seed's output conv runs as bf16 hi/lo halves;
  // the pretrained encoder runs in float; precision auto runs the default in fp32).
  for (const auto& path : {model, model.parent_path() / "seed.cgan", model.parent_path() / "encoder-decoder.cgan"}) {
    SCOPED_TRACE(path.string());
    auto engine = [&](Precision precision) {
      EngineOptions options;
      options.device = "cpu";
      options.precision = precision;
      return std::make_unique<InferenceEngine>(path.string(), options);
    };
    const auto fp32 = engine(Precision::Fp32), bf16 = engine(Precision::Bf16), automatic = engine(Precision::Auto);
    const bool bf16_by_default = fp32->config().bf16_by_default();
    EXPECT_EQ(automatic->precision(), cpu_has_native_bf16() && bf16_by_default ? Precision::Bf16 : Precision::Fp32);
    EXPECT_EQ(fp32->precision(), Precision::Fp32);
    const auto levels = [](const at::Tensor& uv) { return (uv * 255).round(); };
    const at::Tensor reference = levels(fp32->colorize(y));  // each engine draws the same seeded noise
    for (InferenceEngine* e : {bf16.get(), automatic.get()}) {
      const at::Tensor diff = (levels(e->colorize(y)) - reference).abs();
      std::cout << path.filename().string() << ", " << to_string(e->precision()) << " vs fp32: "
                << diff.gt(0).sum().item<int64_t>() << " of " << diff.numel()
                << " chroma values differ, by at most " << diff.max().item<float>() << " level(s)\n";
      // bf16 asked for explicitly runs as asked: the one-level promise is auto's.
      if (e == automatic.get() || bf16_by_default) {
        EXPECT_LE(diff.max().item<float>(), 1.0f);
      }
    }
  }
}
