// PipelineCache: the VkPipelineCache persisted on disk, one file per device and driver
// (vendor id, device id, driver version, pipelineCacheUUID). Loaded at start after checking the
// header, saved by write-to-temp + rename; a mismatching or corrupt file is ignored (warning)
// and overwritten on the next save.
#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "engine/caps.h"
#include "engine/vk.h"

namespace tessera {

class Device;

class PipelineCache {
 public:
  // `identity`: the real (unmasked) caps of the device. `dir` empty = in memory only.
  static std::unique_ptr<PipelineCache> open(const Device& dev, const DeviceCaps& identity,
                                             const std::filesystem::path& dir);

  PipelineCache(const PipelineCache&) = delete;
  PipelineCache& operator=(const PipelineCache&) = delete;
  ~PipelineCache();

  VkPipelineCache handle() const { return cache_; }
  std::uint64_t loaded_bytes() const { return loaded_bytes_; }  // bytes accepted from disk; 0 = none
  const std::filesystem::path& path() const { return path_; }    // empty when not persisted
  void mark_dirty() { dirty_ = true; }                           // a pipeline was created through it

  // Writes the cache when a pipeline was created since loading (or the file was bad) and the
  // driver's data differs from what was loaded. Never
  // throws: failures are warnings. Returns true when the file was written.
  bool save();

  // "pipelines-10005-0000-...-<uuid hex>.bin"
  static std::string file_name(const DeviceCaps& identity);
  // Empty when `data` starts with a valid VkPipelineCacheHeaderVersionOne for `identity`, else why not.
  static std::string check_header(std::span<const std::byte> data, const DeviceCaps& identity);

 private:
  PipelineCache() = default;

  const Device* dev_ = nullptr;
  VkPipelineCache cache_ = VK_NULL_HANDLE;
  std::filesystem::path path_;
  std::uint64_t loaded_bytes_ = 0;
  std::uint64_t loaded_hash_ = 0;  // FNV-1a of the accepted file: an unchanged cache is not rewritten
  bool dirty_ = false;
};

}  // namespace tessera
