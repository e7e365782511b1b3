// Read-only memory mapping of a whole file (the platform layer: POSIX mmap in
// mapped_file_posix.cpp, CreateFileMapping/MapViewOfFile in mapped_file_win32.cpp). Weights are streamed from the mapping to the GPU, so
// the process never holds a second full copy of a model in RAM.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>

namespace tessera {

class MappedFile {
 public:
  // Maps `path` read-only; throws tessera::Error naming the file on failure. Empty files map to
  // an empty span.
  static MappedFile open(const std::filesystem::path& path);

  MappedFile() = default;
  MappedFile(MappedFile&& o) noexcept;
  MappedFile& operator=(MappedFile&& o) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  std::uint64_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }

  // Tells the OS that [offset, offset+len) is no longer needed in RAM (after upload).
  void release_pages(std::uint64_t offset, std::uint64_t len) const;

 private:
  void reset() noexcept;
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  std::filesystem::path path_;
};

}  // namespace tessera
