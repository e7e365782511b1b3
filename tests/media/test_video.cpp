// Video frame sampling (runtime/media/video.h): natural order of frame files, sampling at 1 fps,
// the max_frames budget, timestamps and errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include "common/tools.h"
#include "engine/error.h"
#include "engine/platform/console.h"
#include "runtime/media/video.h"

namespace tessera::media {
namespace {

void touch(const std::filesystem::path& p) { std::ofstream(p, std::ios::binary) << "x"; }

// frame1.png .. frame<n>.png (no zero padding: natural order matters).
void make_frames(const std::filesystem::path& dir, int n, const std::string& ext = ".png") {
  for (int i = 1; i <= n; ++i) touch(dir / ("frame" + std::to_string(i) + ext));
}

std::vector<std::string> names(const std::vector<VideoFrame>& frames) {
  std::vector<std::string> out;
  for (const VideoFrame& f : frames) out.push_back(path_to_utf8(f.path.filename()));
  return out;
}

std::string error_of(const std::filesystem::path& dir, const VideoOptions& opts = {}) {
  try {
    sample_video_frames(dir, opts);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(VideoNaturalOrder, DigitRunsCompareByValue) {
  EXPECT_TRUE(natural_less("frame2", "frame10"));
  EXPECT_FALSE(natural_less("frame10", "frame2"));
  EXPECT_TRUE(natural_less("img_001.png", "img_002.png"));
  EXPECT_TRUE(natural_less("a", "a1"));
  EXPECT_TRUE(natural_less("a9b", "a10a"));
  EXPECT_TRUE(natural_less("x1y2", "x1y10"));
  EXPECT_TRUE(natural_less("99999999999999999999998", "99999999999999999999999"));  // past 64 bits
  EXPECT_FALSE(natural_less("same", "same"));
  // Leading zeros: equal values still get a strict, consistent order.
  EXPECT_NE(natural_less("f01", "f1"), natural_less("f1", "f01"));
  std::vector<std::string> v = {"f10.png", "f9.png", "f100.png", "f1.png", "f011.png", "e5.png"};
  std::sort(v.begin(), v.end(), natural_less);
  EXPECT_EQ(v, (std::vector<std::string>{"e5.png", "f1.png", "f9.png", "f10.png", "f011.png", "f100.png"}));
}

TEST(VideoFrames, OnlyImageFilesInNaturalOrder) {
  test::TempDir dir;
  make_frames(dir.path(), 48);  // 2 s at 24 fps -> 2 samples
  touch(dir / "notes.txt");
  touch(dir / "frame0.PNG");  // extension in any case
  std::filesystem::create_directory(dir / "frame00.png");  // a folder, not a frame
  const auto frames = sample_video_frames(dir.path());
  // 49 images: 2.04 s -> 2 frames at indices 0 and 24 ("frame0.PNG" first).
  EXPECT_EQ(names(frames), (std::vector<std::string>{"frame0.PNG", "frame24.png"}));
  EXPECT_DOUBLE_EQ(frames[0].seconds, 0.0);
  EXPECT_DOUBLE_EQ(frames[1].seconds, 1.0);
}

TEST(VideoFrames, OneFramePerSecondAtTwentyFourFps) {
  test::TempDir dir;
  make_frames(dir.path(), 240);  // 10 s
  const auto frames = sample_video_frames(dir.path());
  ASSERT_EQ(frames.size(), 10u);
  for (std::size_t i = 0; i < frames.size(); ++i) {
    EXPECT_EQ(path_to_utf8(frames[i].path.filename()), "frame" + std::to_string(i * 24 + 1) + ".png");
    EXPECT_DOUBLE_EQ(frames[i].seconds, double(i));
  }
}

TEST(VideoFrames, BudgetThinsUniformlyOverTheVideo) {
  test::TempDir dir;
  make_frames(dir.path(), 2400, ".jpg");  // 100 s at 24 fps: 100 would-be samples
  const auto frames = sample_video_frames(dir.path());
  ASSERT_EQ(frames.size(), 32u);
  for (std::size_t i = 0; i < 32; ++i) {
    EXPECT_EQ(path_to_utf8(frames[i].path.filename()), "frame" + std::to_string(i * 75 + 1) + ".jpg");
    EXPECT_DOUBLE_EQ(frames[i].seconds, double(i * 75) / 24);
  }
  EXPECT_GT(frames.back().seconds, 90.0);  // reaches the end of the video

  VideoOptions o;
  o.max_frames = 5;
  o.sample_fps = 2;
  o.source_fps = 30;  // 80 s
  const auto five = sample_video_frames(dir.path(), o);
  ASSERT_EQ(five.size(), 5u);
  EXPECT_DOUBLE_EQ(five[1].seconds, 480 / 30.0);
  EXPECT_EQ(video_timestamp(five[4].seconds), "01:04");
}

TEST(VideoFrames, ShortVideosAndOversampling) {
  test::TempDir dir;
  make_frames(dir.path(), 10);  // 0.42 s at 24 fps: still one frame
  EXPECT_EQ(names(sample_video_frames(dir.path())), std::vector<std::string>{"frame1.png"});
  VideoOptions o;
  o.source_fps = 2;  // 5 s
  o.sample_fps = 4;  // 20 would-be samples, only 10 frames
  const auto all = sample_video_frames(dir.path(), o);
  ASSERT_EQ(all.size(), 10u);
  for (std::size_t i = 0; i < 10; ++i) EXPECT_DOUBLE_EQ(all[i].seconds, i * 0.5);
}

TEST(VideoFrames, Errors) {
  test::TempDir dir;
  const std::string missing = error_of(dir / "nope");
  EXPECT_NE(missing.find("[video]"), std::string::npos) << missing;
  EXPECT_NE(missing.find("not a directory"), std::string::npos) << missing;
  touch(dir / "clip.mp4");
  EXPECT_NE(error_of(dir / "clip.mp4").find("not a directory"), std::string::npos);
  const std::string none = error_of(dir.path());
  EXPECT_NE(none.find("no image files"), std::string::npos) << none;
  EXPECT_NE(none.find(path_to_utf8(dir.path())), std::string::npos) << none;

  make_frames(dir.path(), 3);
  for (double bad : {0.0, -1.0, std::nan(""), double(INFINITY)}) {
    VideoOptions a;
    a.source_fps = bad;
    EXPECT_NE(error_of(dir.path(), a).find("source_fps"), std::string::npos) << bad;
    VideoOptions b;
    b.sample_fps = bad;
    EXPECT_NE(error_of(dir.path(), b).find("sample_fps"), std::string::npos) << bad;
  }
  VideoOptions z;
  z.max_frames = 0;
  EXPECT_NE(error_of(dir.path(), z).find("max_frames"), std::string::npos);
}

TEST(VideoTimestamp, MinutesAndSeconds) {
  EXPECT_EQ(video_timestamp(0), "00:00");
  EXPECT_EQ(video_timestamp(75.4), "01:15");
  EXPECT_EQ(video_timestamp(59.999), "00:59");
  EXPECT_EQ(video_timestamp(60), "01:00");
  EXPECT_EQ(video_timestamp(3599), "59:59");
  EXPECT_EQ(video_timestamp(6000), "100:00");
  EXPECT_EQ(video_timestamp(-3), "00:00");
  EXPECT_EQ(video_timestamp(std::nan("")), "00:00");
}

TEST(VideoFrames, ImageFileNames) {
  for (const char* n : {"a.png", "a.JPG", "a.jpeg", "a.bmp", "a.gif", "a.webp", "b.Tga"}) EXPECT_TRUE(is_image_file_name(n)) << n;
  for (const char* n : {"a.txt", "a", "png", "a.png.bak", ".DS_Store", "a.mp4"}) EXPECT_FALSE(is_image_file_name(n)) << n;
}

}  // namespace
}  // namespace tessera::media
