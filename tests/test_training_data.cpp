#include "colorgan/dataset.h"
#include "colorgan/image_io.h"

#include "test_support.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

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
}

