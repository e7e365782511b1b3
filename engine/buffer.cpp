// Buffer creation, memory type choice, mapping and flush/invalidate (see buffer.h).
#include "engine/buffer.h"

#include <utility>

#include "engine/device.h"
#include "engine/log.h"

namespace tessera {
namespace {

std::string label(std::string_view name) { return name.empty() ? std::string("<unnamed>") : std::string(name); }

}  // namespace

std::string_view memory_kind_name(MemoryKind k) {
  switch (k) {
    case MemoryKind::Device: return "device";
    case MemoryKind::Upload: return "upload";
    case MemoryKind::Readback: return "readback";
  }
  return "?";
}

int choose_memory_type(const VkPhysicalDeviceMemoryProperties& props, std::uint32_t type_bits, MemoryKind kind,
                       bool discrete) {
  int best = -1, best_score = -1;
  for (std::uint32_t i = 0; i < props.memoryTypeCount; ++i) {
    if (!(type_bits & (1u << i))) continue;
    const VkMemoryPropertyFlags f = props.memoryTypes[i].propertyFlags;
    const bool local = f & VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    const bool visible = f & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
    const bool coherent = f & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    const bool cached = f & VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
    if (f & (VK_MEMORY_PROPERTY_PROTECTED_BIT | VK_MEMORY_PROPERTY_LAZILY_ALLOCATED_BIT)) continue;
    int score = 0;
    switch (kind) {
      case MemoryKind::Device:
        score = (local ? 8 : 0) + (visible && discrete ? 0 : 1);  // plain VRAM before the BAR window
        break;
      case MemoryKind::Upload:
        if (!visible) continue;
        score = (coherent ? 8 : 0) + (discrete && !local ? 2 : 0);  // system RAM for staging on dGPUs
        break;
      case MemoryKind::Readback:
        if (!visible) continue;
        score = (cached ? 8 : 0) + (coherent ? 4 : 0) + (discrete && !local ? 2 : 0);
        break;
    }
    if (score > best_score) {
      best = static_cast<int>(i);
      best_score = score;
    }
  }
  return best;
}

Buffer Buffer::create(Device& dev, std::uint64_t bytes, MemoryKind kind, std::string_view debug_name) {
  const DeviceCaps& caps = dev.caps();
  const std::string who = "[vulkan] buffer '" + label(debug_name) + "' of " + format_bytes(bytes);
  if (bytes == 0) throw Error("[vulkan] buffer '" + label(debug_name) + "': size 0 is not allowed");
  if (caps.max_memory_allocation && bytes > caps.max_memory_allocation)
    throw Error(who + " exceeds maxMemoryAllocationSize (" + format_bytes(caps.max_memory_allocation) + ") of " +
                caps.name + "; split it (ChunkedBuffer)");
  if (caps.max_buffer_size && bytes > caps.max_buffer_size)
    throw Error(who + " exceeds maxBufferSize (" + format_bytes(caps.max_buffer_size) + ") of " + caps.name +
                "; split it (ChunkedBuffer)");

  const VolkDeviceTable& fn = dev.fn();
  Buffer b;
  b.dev_ = &dev;
  b.size_ = bytes;
  b.kind_ = kind;
  b.name_ = std::string(debug_name);

  auto ci = vk_init<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
  ci.size = bytes;
  ci.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  ci.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  vk_check(fn.vkCreateBuffer(dev.handle(), &ci, nullptr, &b.buffer_), "vkCreateBuffer", who);
  dev.set_name(VK_OBJECT_TYPE_BUFFER, reinterpret_cast<std::uint64_t>(b.buffer_), debug_name);

  auto dedicated = vk_init<VkMemoryDedicatedRequirements>(VK_STRUCTURE_TYPE_MEMORY_DEDICATED_REQUIREMENTS);
  auto req = vk_init<VkMemoryRequirements2>(VK_STRUCTURE_TYPE_MEMORY_REQUIREMENTS_2, &dedicated);
  auto rinfo = vk_init<VkBufferMemoryRequirementsInfo2>(VK_STRUCTURE_TYPE_BUFFER_MEMORY_REQUIREMENTS_INFO_2);
  rinfo.buffer = b.buffer_;
  fn.vkGetBufferMemoryRequirements2(dev.handle(), &rinfo, &req);

  const VkPhysicalDeviceMemoryProperties& mp = dev.memory_properties();
  const int type = choose_memory_type(mp, req.memoryRequirements.memoryTypeBits, kind, caps.type == DeviceType::Discrete);
  if (type < 0)
    throw Error(who + ": no host-visible memory type for " + std::string(memory_kind_name(kind)) + " memory on " +
                caps.name);
  const VkMemoryPropertyFlags flags = mp.memoryTypes[type].propertyFlags;

  auto dinfo = vk_init<VkMemoryDedicatedAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_DEDICATED_ALLOCATE_INFO);
  dinfo.buffer = b.buffer_;
  auto ai = vk_init<VkMemoryAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
  ai.pNext = (dedicated.prefersDedicatedAllocation || dedicated.requiresDedicatedAllocation) ? &dinfo : nullptr;
  ai.allocationSize = req.memoryRequirements.size;
  ai.memoryTypeIndex = static_cast<std::uint32_t>(type);
  b.alloc_size_ = req.memoryRequirements.size;
  vk_check(fn.vkAllocateMemory(dev.handle(), &ai, nullptr, &b.memory_), "vkAllocateMemory",
           who + " (" + std::string(memory_kind_name(kind)) + " memory, type " + std::to_string(type) + ", heap " +
               std::to_string(mp.memoryTypes[type].heapIndex) + " of " +
               format_bytes(mp.memoryHeaps[mp.memoryTypes[type].heapIndex].size) + ")");
  dev.set_name(VK_OBJECT_TYPE_DEVICE_MEMORY, reinterpret_cast<std::uint64_t>(b.memory_), debug_name);
  vk_check(fn.vkBindBufferMemory(dev.handle(), b.buffer_, b.memory_, 0), "vkBindBufferMemory", who);

  if (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
    void* p = nullptr;
    vk_check(fn.vkMapMemory(dev.handle(), b.memory_, 0, VK_WHOLE_SIZE, 0, &p), "vkMapMemory", who);
    b.mapped_ = static_cast<std::byte*>(p);
    b.coherent_ = flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    b.cached_ = flags & VK_MEMORY_PROPERTY_HOST_CACHED_BIT;
  }
  return b;
}

Buffer::Buffer(Buffer&& o) noexcept
    : dev_(std::exchange(o.dev_, nullptr)),
      buffer_(std::exchange(o.buffer_, VK_NULL_HANDLE)),
      memory_(std::exchange(o.memory_, VK_NULL_HANDLE)),
      size_(std::exchange(o.size_, 0)),
      alloc_size_(std::exchange(o.alloc_size_, 0)),
      kind_(o.kind_),
      mapped_(std::exchange(o.mapped_, nullptr)),
      coherent_(o.coherent_),
      cached_(o.cached_),
      name_(std::move(o.name_)) {}

Buffer& Buffer::operator=(Buffer&& o) noexcept {
  if (this != &o) {
    reset();
    dev_ = std::exchange(o.dev_, nullptr);
    buffer_ = std::exchange(o.buffer_, VK_NULL_HANDLE);
    memory_ = std::exchange(o.memory_, VK_NULL_HANDLE);
    size_ = std::exchange(o.size_, 0);
    alloc_size_ = std::exchange(o.alloc_size_, 0);
    kind_ = o.kind_;
    mapped_ = std::exchange(o.mapped_, nullptr);
    coherent_ = o.coherent_;
    cached_ = o.cached_;
    name_ = std::move(o.name_);
  }
  return *this;
}

Buffer::~Buffer() { reset(); }

void Buffer::reset() noexcept {
  if (!dev_) return;
  const VolkDeviceTable& fn = dev_->fn();
  if (mapped_) fn.vkUnmapMemory(dev_->handle(), memory_);
  if (buffer_) fn.vkDestroyBuffer(dev_->handle(), buffer_, nullptr);
  if (memory_) fn.vkFreeMemory(dev_->handle(), memory_, nullptr);
  dev_ = nullptr;
  buffer_ = VK_NULL_HANDLE;
  memory_ = VK_NULL_HANDLE;
  mapped_ = nullptr;
}

std::span<std::byte> Buffer::mapped() {
  if (!mapped_)
    throw Error("[vulkan] buffer '" + label(name_) + "' (" + std::string(memory_kind_name(kind_)) +
                " memory) is not host-visible; use upload()/download()");
  return {mapped_, size_};
}

std::span<const std::byte> Buffer::mapped() const { return const_cast<Buffer*>(this)->mapped(); }

VkMappedMemoryRange Buffer::atom_range(std::uint64_t off, std::uint64_t n) const {
  const std::uint64_t atom = dev_->caps().non_coherent_atom_size ? dev_->caps().non_coherent_atom_size : 1;
  const std::uint64_t end = n == 0 ? size_ : off + n;
  auto r = vk_init<VkMappedMemoryRange>(VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE);
  r.memory = memory_;
  r.offset = off / atom * atom;
  const std::uint64_t aligned_end = (end + atom - 1) / atom * atom;
  r.size = aligned_end >= alloc_size_ ? VK_WHOLE_SIZE : aligned_end - r.offset;
  return r;
}

void Buffer::flush(std::uint64_t off, std::uint64_t n) {
  mapped();  // throws when not host-visible
  if (coherent_) return;
  const VkMappedMemoryRange r = atom_range(off, n);
  vk_check(dev_->fn().vkFlushMappedMemoryRanges(dev_->handle(), 1, &r), "vkFlushMappedMemoryRanges", name_);
}

void Buffer::invalidate(std::uint64_t off, std::uint64_t n) {
  mapped();
  if (coherent_) return;
  const VkMappedMemoryRange r = atom_range(off, n);
  vk_check(dev_->fn().vkInvalidateMappedMemoryRanges(dev_->handle(), 1, &r), "vkInvalidateMappedMemoryRanges", name_);
}

BufferRange Buffer::range(std::uint64_t offset, std::uint64_t size) const { return {this, offset, size}; }

}  // namespace tessera
