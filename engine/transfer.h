// Host <-> GPU copies. Large sources (a multi-GB weight mmap) stream through bounded staging
// buffers in chunks, double-buffered so the memcpy of one chunk overlaps the GPU copy of the
// previous; host-visible destinations are written directly (UMA: no staging at all).
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "engine/buffer.h"
#include "engine/commands.h"

namespace tessera {

class Context;

inline constexpr std::uint64_t kDefaultStagingBytes = 64ull << 20;  // per staging buffer

// Auto: map host-visible buffers directly (uploads: any host-visible; downloads: host-cached);
// Always: go through staging buffers and GPU copies (tests the chunked path on UMA devices).
enum class Staging { Auto, Always };

// Copies src to dst.offset.. (dst.bytes() must be >= src.size(); dst.size 0 = to the end).
// Synchronous; dst must not be in use by submitted GPU work.
void upload(Context& ctx, std::span<const std::byte> src, const BufferRange& dst,
            std::uint64_t staging_bytes = kDefaultStagingBytes, Staging staging = Staging::Auto);
// Copies dst.size() bytes from src.offset.. into dst (src.size, when not 0, must equal
// dst.size()). Synchronous.
void download(Context& ctx, const BufferRange& src, std::span<std::byte> dst,
              std::uint64_t staging_bytes = kDefaultStagingBytes, Staging staging = Staging::Auto);

// Reusable uploader for many tensors (model load): keeps its two staging buffers and command
// lists between calls. upload() copies the source out before it returns, but its last GPU
// copies may still be in flight: use the destinations only after finish() (also run by the
// destructor).
class Uploader {
 public:
  explicit Uploader(Context& ctx, std::uint64_t staging_bytes = kDefaultStagingBytes,
                    Staging staging = Staging::Auto);
  Uploader(const Uploader&) = delete;
  Uploader& operator=(const Uploader&) = delete;
  ~Uploader();

  void upload(std::span<const std::byte> src, const BufferRange& dst);
  void finish();
  std::uint64_t bytes_uploaded() const { return bytes_; }

 private:
  struct Slot {
    Buffer staging;
    CommandList cmd;
    bool busy = false;
  };
  Slot& slot(std::size_t i);

  Context& ctx_;
  std::uint64_t staging_bytes_;
  Staging staging_;
  std::uint64_t bytes_ = 0;
  std::size_t next_ = 0;
  std::vector<std::unique_ptr<Slot>> slots_;  // created on first staged upload
};

}  // namespace tessera
