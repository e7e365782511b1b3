// MappedFile ownership, the same on every platform; open(), reset() and release_pages() live in
// mapped_file_posix.cpp and mapped_file_win32.cpp.
#include <utility>

#include "engine/platform/mapped_file.h"

namespace tessera {

MappedFile::MappedFile(MappedFile&& o) noexcept
    : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), path_(std::move(o.path_)) {}

MappedFile& MappedFile::operator=(MappedFile&& o) noexcept {
  if (this != &o) {
    reset();
    data_ = std::exchange(o.data_, nullptr);
    size_ = std::exchange(o.size_, 0);
    path_ = std::move(o.path_);
  }
  return *this;
}

MappedFile::~MappedFile() { reset(); }

}  // namespace tessera
