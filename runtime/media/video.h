// Video input as a folder of frame images (sorted by file name in natural order: frame2 < frame10)
// and the frame sampling of spec §6: frames at sample_fps, at most max_frames spread uniformly over
// the video, each labelled with its "mm:ss" time. Decoding and resizing is image.h's (budget 70).
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tessera::media {

struct VideoFrame {
  std::filesystem::path path;  // the frame's image file
  double seconds = 0;          // its time in the video: index / source_fps
};

struct VideoOptions {
  double source_fps = 24;         // frame rate of the folder's images (spec §6: 24 when unknown)
  double sample_fps = 1;          // frames sampled per second of video
  std::uint32_t max_frames = 32;  // budget: more would-be samples are thinned uniformly over the video
};

// The sampled frames of the folder, in time order. Like Hugging Face's video processor: n images
// last n / source_fps seconds; k = clamp(floor(duration * sample_fps), 1, min(n, max_frames))
// frames are taken at indices floor(i * n / k), i = 0..k-1. Throws tessera::Error when `dir` is
// not a directory, holds no image files, or the options are invalid.
std::vector<VideoFrame> sample_video_frames(const std::filesystem::path& dir, const VideoOptions& opts = {});

// "mm:ss" of a frame time (75.4 -> "01:15"; minutes grow past 99), the per-frame prompt prefix.
std::string video_timestamp(double seconds);

// Natural order of file names: digit runs compare by value ("frame2" < "frame10").
bool natural_less(const std::string& a, const std::string& b);

// True for the extensions decode_image reads (.png .jpg .jpeg .bmp .gif .webp .tga ...), any case.
bool is_image_file_name(const std::filesystem::path& p);

}  // namespace tessera::media
