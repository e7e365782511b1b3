// Buffer: one VkBuffer with its own VkDeviceMemory (move-only RAII), persistently mapped when the
// memory is host-visible. BufferRange names a byte range of one for bindings and copies.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "engine/vk.h"

namespace tessera {

class Device;
struct BufferRange;

// Device: prefers DEVICE_LOCAL (any type on lavapipe/UMA). Upload / Readback: host-visible,
// coherent when possible (Readback also prefers HOST_CACHED); flush/invalidate otherwise.
enum class MemoryKind { Device, Upload, Readback };

std::string_view memory_kind_name(MemoryKind k);  // "device", "upload", "readback"

class Buffer {
 public:
  // Throws Error naming the buffer and the limit when `bytes` is 0 or exceeds
  // maxMemoryAllocationSize / maxBufferSize of the device's caps, or a [vulkan] error naming
  // the call when allocation fails.
  static Buffer create(Device& dev, std::uint64_t bytes, MemoryKind kind, std::string_view debug_name = {});

  Buffer() = default;
  Buffer(Buffer&& o) noexcept;
  Buffer& operator=(Buffer&& o) noexcept;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  ~Buffer();

  VkBuffer handle() const { return buffer_; }
  std::uint64_t size() const { return size_; }  // bytes requested
  MemoryKind kind() const { return kind_; }
  const std::string& name() const { return name_; }
  bool host_visible() const { return mapped_ != nullptr; }
  bool host_coherent() const { return coherent_; }
  bool host_cached() const { return cached_; }
  explicit operator bool() const { return buffer_ != VK_NULL_HANDLE; }

  // The persistent mapping; throws Error when the memory is not host-visible.
  std::span<std::byte> mapped();
  std::span<const std::byte> mapped() const;
  // Make host writes visible to the device / device writes visible to the host for
  // [off, off+n) (n = 0: to the end); no-ops on coherent memory.
  void flush(std::uint64_t off = 0, std::uint64_t n = 0);
  void invalidate(std::uint64_t off = 0, std::uint64_t n = 0);

  // [offset, offset+size) of this buffer; size 0 = to the end.
  BufferRange range(std::uint64_t offset = 0, std::uint64_t size = 0) const;

 private:
  void reset() noexcept;
  VkMappedMemoryRange atom_range(std::uint64_t off, std::uint64_t n) const;

  const Device* dev_ = nullptr;
  VkBuffer buffer_ = VK_NULL_HANDLE;
  VkDeviceMemory memory_ = VK_NULL_HANDLE;
  std::uint64_t size_ = 0;
  std::uint64_t alloc_size_ = 0;
  MemoryKind kind_ = MemoryKind::Device;
  std::byte* mapped_ = nullptr;
  bool coherent_ = false;
  bool cached_ = false;
  std::string name_;
};

// A byte range of a buffer, as bound to a kernel or copied. size 0 = to the end of the buffer.
struct BufferRange {
  const Buffer* buffer = nullptr;
  std::uint64_t offset = 0;
  std::uint64_t size = 0;

  // Bytes covered: `size`, or buffer size - offset when size is 0 (0 when out of range).
  std::uint64_t bytes() const {
    if (size != 0 || !buffer) return size;
    return offset < buffer->size() ? buffer->size() - offset : 0;
  }
};

// Index of the memory type for `kind` among `type_bits`, or -1. Exposed for tests.
int choose_memory_type(const VkPhysicalDeviceMemoryProperties& props, std::uint32_t type_bits, MemoryKind kind,
                       bool discrete);

}  // namespace tessera
