// Image pre-processing (runtime/media/image.h): the Hugging Face target size of spec §4.1 and the
// bicubic, antialiased resize.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "engine/error.h"
#include "runtime/media/image.h"

namespace tessera::media {
namespace {

Image constant_image(std::uint32_t w, std::uint32_t h, float r, float g, float b) {
  Image img{w, h, {}};
  img.rgb.resize(std::size_t{w} * h * 3);
  for (std::size_t i = 0; i < std::size_t{w} * h; ++i) {
    img.rgb[i * 3 + 0] = r;
    img.rgb[i * 3 + 1] = g;
    img.rgb[i * 3 + 2] = b;
  }
  return img;
}

void expect_size(std::uint32_t w, std::uint32_t h, std::uint32_t budget, std::uint32_t want_w, std::uint32_t want_h) {
  const ImageSize s = image_target_size(w, h, budget);
  EXPECT_EQ(s.width, want_w) << w << "x" << h << " at " << budget;
  EXPECT_EQ(s.height, want_h) << w << "x" << h << " at " << budget;
}

TEST(ImageTargetSize, MatchesTheHuggingFaceFormula) {
  expect_size(1024, 768, 280, 912, 672);  // spec §4.1: 19 x 14 = 266 tokens
  EXPECT_EQ(image_target_size(1024, 768, 280).tokens(), 266u);
  expect_size(640, 480, 70, 432, 336);
  expect_size(4000, 3000, 1120, 1824, 1344);
  expect_size(1920, 1080, 560, 1488, 816);
  expect_size(768, 1024, 280, 672, 912);  // portrait: the same, transposed
}

TEST(ImageTargetSize, TinyImagesUpscaleToFillTheBudget) {
  expect_size(10, 10, 280, 768, 768);
  expect_size(100, 100, 70, 384, 384);
  expect_size(1, 1, 1120, 1584, 1584);  // 33 x 33 = 1089 tokens
  const ImageSize s = image_target_size(3, 2, 280);
  EXPECT_GT(s.width, 3u);
  EXPECT_LE(s.tokens(), 280u);
  EXPECT_GE(s.tokens(), 200u);
}

TEST(ImageTargetSize, ExtremeAspectRatios) {
  // One side rounds to zero: it becomes 48, the other is clamped to the budget.
  expect_size(10000, 10, 280, 280 * 48, 48);
  expect_size(10, 10000, 280, 48, 280 * 48);
  expect_size(10000, 1, 70, 70 * 48, 48);
  expect_size(1, 4000000000u, 1120, 48, 1120 * 48);
  expect_size(300, 10, 70, 45 * 48, 48);  // no side rounds to zero: floor(45.8) x floor(1.53)
  for (std::uint32_t budget : {70u, 140u, 280u, 560u, 1120u}) {
    EXPECT_LE(image_target_size(4294967295u, 1, budget).tokens(), budget);
    EXPECT_LE(image_target_size(1, 4294967295u, budget).tokens(), budget);
    EXPECT_LE(image_target_size(4294967295u, 4294967295u, budget).tokens(), budget);
  }
}

TEST(ImageTargetSize, EveryBudgetStaysWithinBudgetOverRandomSizes) {
  std::mt19937 rng(1234);
  for (std::uint32_t budget = kMinImageTokens; budget <= kMaxImageTokens; ++budget) {
    for (int k = 0; k < 60; ++k) {
      // Sizes from 1 to ~100k on a log scale, so all aspect ratios occur.
      const auto side = [&] { return static_cast<std::uint32_t>(std::exp(std::uniform_real_distribution<double>(0, 11.5)(rng))); };
      const std::uint32_t w = std::max(1u, side()), h = std::max(1u, side());
      const ImageSize s = image_target_size(w, h, budget);
      ASSERT_LE(s.tokens(), budget) << w << "x" << h << " at " << budget;
      ASSERT_GE(s.tokens(), 1u) << w << "x" << h << " at " << budget;
      ASSERT_EQ(s.width % kMergedPatch, 0u);
      ASSERT_EQ(s.height % kMergedPatch, 0u);
      // Moderate aspect ratios fill at least half the budget and keep the aspect ratio.
      const double aspect = double(w) / h;
      if (aspect > 0.25 && aspect < 4) {
        ASSERT_GE(s.tokens() * 2, budget) << w << "x" << h << " at " << budget;
        ASSERT_NEAR(std::log(double(s.width) / s.height), std::log(aspect), 0.35) << w << "x" << h << " at " << budget;
      }
    }
  }
}

TEST(ImageTargetSize, RefusesBadBudgetsAndZeroSides) {
  EXPECT_THROW(image_target_size(100, 100, 69), Error);
  EXPECT_THROW(image_target_size(100, 100, 1121), Error);
  EXPECT_THROW(image_target_size(100, 100, 0), Error);
  EXPECT_THROW(image_target_size(0, 100, 280), Error);
  EXPECT_THROW(image_target_size(100, 0, 280), Error);
  try {
    image_target_size(100, 100, 2000);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("2000"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1120"), std::string::npos) << e.what();
  }
}

TEST(ImageResize, ConstantImageStaysConstant) {
  const Image img = constant_image(37, 23, 0.25f, 0.5f, 0.75f);
  for (auto [w, h] : {std::pair{96u, 48u}, {10u, 7u}, {37u, 100u}, {1u, 1u}, {200u, 3u}}) {
    const Image r = resize_image(img, w, h);
    ASSERT_EQ(r.width, w);
    ASSERT_EQ(r.height, h);
    ASSERT_EQ(r.rgb.size(), std::size_t{w} * h * 3);
    for (std::size_t i = 0; i < r.rgb.size(); i += 3) {
      ASSERT_NEAR(r.rgb[i + 0], 0.25f, 1e-5f) << w << "x" << h;
      ASSERT_NEAR(r.rgb[i + 1], 0.5f, 1e-5f) << w << "x" << h;
      ASSERT_NEAR(r.rgb[i + 2], 0.75f, 1e-5f) << w << "x" << h;
    }
  }
}

TEST(ImageResize, ShrinkingACheckerboardAverages) {
  // One-pixel checkerboard: point sampling would give 0 or 1; an antialiased filter gives ~0.5.
  Image img{64, 64, std::vector<float>(64 * 64 * 3)};
  for (std::uint32_t y = 0; y < 64; ++y)
    for (std::uint32_t x = 0; x < 64; ++x)
      for (int c = 0; c < 3; ++c) img.rgb[(y * 64 + x) * 3 + c] = float((x + y) % 2);
  for (std::uint32_t side : {16u, 13u, 8u}) {
    const Image r = resize_image(img, side, side);
    for (float v : r.rgb) ASSERT_NEAR(v, 0.5f, 0.03f) << side;
  }
}

TEST(ImageResize, UpscaleInterpolatesAndStaysInRange) {
  // A step edge: bicubic overshoots, the result is clamped to [0, 1]; the ramp is monotonic.
  Image img{4, 1, {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1}};
  const Image r = resize_image(img, 32, 1);
  for (float v : r.rgb) {
    EXPECT_GE(v, 0.0f);
    EXPECT_LE(v, 1.0f);
  }
  EXPECT_NEAR(r.rgb[0], 0.0f, 1e-6f);
  EXPECT_NEAR(r.rgb[31 * 3], 1.0f, 1e-6f);
  EXPECT_GT(r.rgb[16 * 3], 0.4f);  // the middle of the edge
  EXPECT_LT(r.rgb[15 * 3], 0.6f);
}

TEST(ImageResize, SameSizeIsACopyAndBadSizesThrow) {
  const Image img = constant_image(5, 4, 0.1f, 0.2f, 0.3f);
  EXPECT_EQ(resize_image(img, 5, 4).rgb, img.rgb);
  EXPECT_THROW(resize_image(img, 0, 4), Error);
  EXPECT_THROW(resize_image(img, 5, 0), Error);
  EXPECT_THROW(resize_image(img, 100000, 100000), Error);
  EXPECT_THROW(resize_image(Image{}, 5, 5), Error);
  EXPECT_THROW(resize_image(Image{5, 4, {0.5f}}, 5, 5), Error);
}

TEST(ImagePrepare, ResizesToTheTargetSize) {
  const Image img = constant_image(1024, 768, 0.5f, 0.5f, 0.5f);
  const Image p = prepare_image(img, 280);
  EXPECT_EQ(p.width, 912u);
  EXPECT_EQ(p.height, 672u);
  for (float v : p.rgb) ASSERT_NEAR(v, 0.5f, 1e-5f);
  const Image small = prepare_image(constant_image(20, 10, 1, 0, 0), kMinImageTokens);
  EXPECT_EQ(small.width % kMergedPatch, 0u);
  EXPECT_LE((ImageSize{small.width, small.height}.tokens()), kMinImageTokens);
  EXPECT_THROW(prepare_image(img, 10), Error);
}

}  // namespace
}  // namespace tessera::media
