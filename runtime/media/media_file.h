// A media file read for decoding, shared by load_image and load_audio: checked to exist and to be
// a regular file, then memory-mapped read-only, with errors that name the component and the file.
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "engine/platform/mapped_file.h"

namespace tessera::media {

class MediaFile {
 public:
  // Maps `path`. Throws tessera::Error "[<component>] <path>: no such file" or "...: not a regular
  // file", or the mapping's own error after "[<component>] ".
  static MediaFile open(const std::filesystem::path& path, const std::string& component);

  const std::string& name() const { return name_; }  // the path in UTF-8, for error messages
  std::span<const std::uint8_t> bytes() const;       // the whole file

 private:
  std::string name_;
  MappedFile map_;
};

}  // namespace tessera::media
