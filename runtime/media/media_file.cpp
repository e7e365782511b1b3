// Checked, memory-mapped media files (media_file.h).
#include "runtime/media/media_file.h"

#include <system_error>

#include "engine/error.h"
#include "engine/platform/console.h"

namespace tessera::media {

MediaFile MediaFile::open(const std::filesystem::path& path, const std::string& component) {
  MediaFile f;
  f.name_ = path_to_utf8(path);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error("[" + component + "] " + f.name_ + ": no such file");
  if (!std::filesystem::is_regular_file(path, ec)) throw Error("[" + component + "] " + f.name_ + ": not a regular file");
  try {
    f.map_ = MappedFile::open(path);
  } catch (const Error& e) {
    throw Error("[" + component + "] " + e.what());
  }
  return f;
}

std::span<const std::uint8_t> MediaFile::bytes() const {
  const auto b = map_.bytes();
  return {reinterpret_cast<const std::uint8_t*>(b.data()), b.size()};
}

}  // namespace tessera::media
