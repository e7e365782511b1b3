// Video frame sampling from a folder of frame images (video.h).
#include "runtime/media/video.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <system_error>

#include "engine/error.h"
#include "engine/platform/console.h"

namespace tessera::media {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string format_double(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

// Image file names in `dir`, natural order.
std::vector<std::filesystem::path> image_files(const std::filesystem::path& dir, const std::string& name) {
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  if (ec) throw Error("[video] " + name + ": cannot list the folder: " + ec.message());
  std::vector<std::filesystem::path> files;
  for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
    if (ec) throw Error("[video] " + name + ": cannot list the folder: " + ec.message());
    std::error_code fec;
    if (it->is_regular_file(fec) && is_image_file_name(it->path())) files.push_back(it->path());
  }
  if (ec) throw Error("[video] " + name + ": cannot list the folder: " + ec.message());
  std::sort(files.begin(), files.end(), [](const std::filesystem::path& a, const std::filesystem::path& b) {
    return natural_less(path_to_utf8(a.filename()), path_to_utf8(b.filename()));
  });
  return files;
}

}  // namespace

bool natural_less(const std::string& a, const std::string& b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (is_digit(a[i]) && is_digit(b[j])) {
      std::size_t ie = i, je = j;
      while (ie < a.size() && is_digit(a[ie])) ++ie;
      while (je < b.size() && is_digit(b[je])) ++je;
      while (i + 1 < ie && a[i] == '0') ++i;  // leading zeros do not count
      while (j + 1 < je && b[j] == '0') ++j;
      if (ie - i != je - j) return ie - i < je - j;  // fewer digits: smaller number
      const int c = a.compare(i, ie - i, b, j, je - j);
      if (c != 0) return c < 0;
      i = ie;
      j = je;
    } else {
      if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
      ++i;
      ++j;
    }
  }
  if (i < a.size() || j < b.size()) return i == a.size();  // a prefix comes first
  return a < b;  // same up to leading zeros: any fixed order
}

bool is_image_file_name(const std::filesystem::path& p) {
  std::string ext = path_to_utf8(p.extension());
  std::transform(ext.begin(), ext.end(), ext.begin(), lower);
  static const char* const kExts[] = {".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".bmp", ".gif", ".webp", ".tga"};
  return std::any_of(std::begin(kExts), std::end(kExts), [&](const char* e) { return ext == e; });
}

std::vector<VideoFrame> sample_video_frames(const std::filesystem::path& dir, const VideoOptions& opts) {
  const std::string name = path_to_utf8(dir);
  if (!(opts.source_fps > 0) || !std::isfinite(opts.source_fps))
    throw Error("[video] " + name + ": source_fps must be a positive frame rate, not " + format_double(opts.source_fps));
  if (!(opts.sample_fps > 0) || !std::isfinite(opts.sample_fps))
    throw Error("[video] " + name + ": sample_fps must be a positive frame rate, not " + format_double(opts.sample_fps));
  if (opts.max_frames == 0) throw Error("[video] " + name + ": max_frames must be at least 1");
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) throw Error("[video] " + name + ": not a directory (a video is a folder of frame images)");
  const std::vector<std::filesystem::path> files = image_files(dir, name);
  if (files.empty()) throw Error("[video] " + name + ": no image files (.png, .jpg, .jpeg, .bmp, .gif, .webp, ...)");

  const std::uint64_t n = files.size();
  const double duration = double(n) / opts.source_fps;  // seconds
  const std::uint64_t most = std::min<std::uint64_t>(n, opts.max_frames);
  const double wanted = std::floor(duration * opts.sample_fps);
  const std::uint64_t k = wanted < 1 ? 1 : wanted >= double(most) ? most : static_cast<std::uint64_t>(wanted);
  std::vector<VideoFrame> frames;
  frames.reserve(k);
  for (std::uint64_t i = 0; i < k; ++i) {
    const std::uint64_t idx = i * n / k;
    frames.push_back({files[idx], double(idx) / opts.source_fps});
  }
  return frames;
}

std::string video_timestamp(double seconds) {
  if (!(seconds > 0)) seconds = 0;  // negative and NaN
  const double capped = std::min(seconds, 1e15);
  const auto total = static_cast<unsigned long long>(std::floor(capped));
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02llu:%02llu", total / 60, total % 60);
  return buf;
}

}  // namespace tessera::media
