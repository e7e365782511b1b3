// CommandList recording, submission and timestamps (see commands.h).
#include "engine/commands.h"

#include <algorithm>
#include <functional>

#include "engine/context.h"
#include "engine/device.h"
#include "engine/log.h"

namespace tessera {
namespace {

constexpr std::uint32_t kSetsPerPool = 256;
constexpr std::uint32_t kDescriptorsPerPool = 2048;
constexpr std::uint32_t kFirstQueryPool = 128;  // queries (2 per dispatch)

struct DescriptorPool {
  VkDescriptorPool pool = VK_NULL_HANDLE;
  std::uint32_t sets = 0, descriptors = 0;          // capacity
  std::uint32_t sets_used = 0, descriptors_used = 0;
};

struct QueryPool {
  VkQueryPool pool = VK_NULL_HANDLE;
  std::uint32_t capacity = 0;
  std::uint32_t used = 0;
};

struct Stamp {
  std::string label, kernel;
  std::uint64_t bytes = 0;
  std::uint32_t pool = 0, query = 0;  // begin at query, end at query + 1
};

enum class State { Initial, Recording, Submitted };

// Descriptor infos for `bindings`; throws naming the dispatch, the
// binding and the limit broken. Messages are built only on failure: this runs per dispatch.
void check_bindings(std::span<const BufferRange> bindings, const DeviceCaps& caps,
                    const std::function<std::string()>& who, std::vector<VkDescriptorBufferInfo>& infos) {
  infos.resize(bindings.size());
  for (std::size_t i = 0; i < bindings.size(); ++i) {
    const BufferRange& r = bindings[i];
    auto fail = [&](const std::string& what) {
      std::string msg = who() + "binding " + std::to_string(i) + what;
      if (r.buffer) msg += " (buffer '" + r.buffer->name() + "' of " + format_bytes(r.buffer->size()) + ")";
      throw Error(msg);
    };
    if (!r.buffer || !*r.buffer) fail(" has no buffer");
    const std::uint64_t bytes = r.bytes();
    if (r.offset >= r.buffer->size() || bytes == 0 || r.offset + bytes > r.buffer->size())
      fail(": range [" + std::to_string(r.offset) + ", +" + std::to_string(bytes) + ") is outside the buffer");
    if (caps.min_storage_buffer_offset_alignment && r.offset % caps.min_storage_buffer_offset_alignment != 0)
      fail(": offset " + std::to_string(r.offset) + " is not a multiple of minStorageBufferOffsetAlignment (" +
           std::to_string(caps.min_storage_buffer_offset_alignment) + ")");
    if (bytes > caps.max_storage_buffer_range)
      fail(": range of " + format_bytes(bytes) + " exceeds maxStorageBufferRange (" +
           format_bytes(caps.max_storage_buffer_range) + "); split the tensor (ChunkedBuffer)");
    infos[i] = {r.buffer->handle(), r.offset, bytes};
  }
}

}  // namespace

struct CommandList::Impl {
  Context* ctx = nullptr;
  const Device* dev = nullptr;
  VkCommandPool cmd_pool = VK_NULL_HANDLE;
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  VkFence fence = VK_NULL_HANDLE;
  std::vector<DescriptorPool> desc_pools;
  std::size_t desc_current = 0;
  std::vector<QueryPool> query_pools;
  std::vector<Stamp> stamps;
  std::vector<Timing> timings;
  std::uint64_t timestamp_mask = 0;
  double ns_per_tick = 0;
  bool timestamps = false;
  State state = State::Initial;
  std::uint32_t dispatches = 0;
  std::uint32_t barriers = 0;  // barrier_after calls recorded since begin()
  bool concurrent = false;     // inside begin_concurrent() / end_concurrent()
  VkPipelineStageFlags deferred_stage = 0;
  VkAccessFlags deferred_access = 0;
  std::string last_label;
  std::vector<VkDescriptorBufferInfo> infos;  // scratch of dispatch(), kept to avoid allocations
  std::vector<VkWriteDescriptorSet> writes;

  const VolkDeviceTable& fn() const { return dev->fn(); }
  VkDevice vd() const { return dev->handle(); }

  ~Impl() {
    if (!dev) return;
    if (state == State::Submitted) fn().vkWaitForFences(vd(), 1, &fence, VK_TRUE, UINT64_MAX);
    for (auto& p : desc_pools) fn().vkDestroyDescriptorPool(vd(), p.pool, nullptr);
    for (auto& q : query_pools) fn().vkDestroyQueryPool(vd(), q.pool, nullptr);
    if (fence) fn().vkDestroyFence(vd(), fence, nullptr);
    if (cmd_pool) fn().vkDestroyCommandPool(vd(), cmd_pool, nullptr);
  }

  void require_recording(std::string_view what) const {
    if (state != State::Recording)
      throw Error("[commands] " + std::string(what) + " outside begin()/submit(): call begin() first");
  }

  // Global memory barrier after each command, so the next one sees its writes.
  void barrier(VkPipelineStageFlags src_stage, VkAccessFlags src_access, VkPipelineStageFlags dst_stage,
               VkAccessFlags dst_access) {
    auto mb = vk_init<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
    mb.srcAccessMask = src_access;
    mb.dstAccessMask = dst_access;
    fn().vkCmdPipelineBarrier(cmd, src_stage, dst_stage, 0, 1, &mb, 0, nullptr, 0, nullptr);
  }
  void barrier_after(VkPipelineStageFlags stage, VkAccessFlags access) {
    if (concurrent) {  // deferred to end_concurrent()
      deferred_stage |= stage;
      deferred_access |= access;
      return;
    }
    ++barriers;
    barrier(stage, access, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_READ_BIT |
                VK_ACCESS_TRANSFER_WRITE_BIT);
  }

  VkDescriptorSet allocate_set(VkDescriptorSetLayout layout, std::uint32_t n) {
    while (desc_current < desc_pools.size()) {
      DescriptorPool& p = desc_pools[desc_current];
      if (p.sets_used < p.sets && p.descriptors_used + n <= p.descriptors) break;
      ++desc_current;
    }
    if (desc_current == desc_pools.size()) {
      DescriptorPool p;
      p.sets = kSetsPerPool;
      p.descriptors = std::max(kDescriptorsPerPool, n);
      VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, p.descriptors};
      auto ci = vk_init<VkDescriptorPoolCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
      ci.maxSets = p.sets;
      ci.poolSizeCount = 1;
      ci.pPoolSizes = &size;
      vk_check(fn().vkCreateDescriptorPool(vd(), &ci, nullptr, &p.pool), "vkCreateDescriptorPool");
      desc_pools.push_back(p);
    }
    DescriptorPool& p = desc_pools[desc_current];
    auto ai = vk_init<VkDescriptorSetAllocateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
    ai.descriptorPool = p.pool;
    ai.descriptorSetCount = 1;
    ai.pSetLayouts = &layout;
    VkDescriptorSet set = VK_NULL_HANDLE;
    vk_check(fn().vkAllocateDescriptorSets(vd(), &ai, &set), "vkAllocateDescriptorSets");
    ++p.sets_used;
    p.descriptors_used += n;
    return set;
  }

  // Two consecutive queries in the current pool; a new, larger pool when it is full.
  std::pair<std::uint32_t, std::uint32_t> reserve_queries() {
    if (query_pools.empty() || query_pools.back().used + 2 > query_pools.back().capacity) {
      QueryPool q;
      q.capacity = query_pools.empty() ? kFirstQueryPool : query_pools.back().capacity * 2;
      auto ci = vk_init<VkQueryPoolCreateInfo>(VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO);
      ci.queryType = VK_QUERY_TYPE_TIMESTAMP;
      ci.queryCount = q.capacity;
      vk_check(fn().vkCreateQueryPool(vd(), &ci, nullptr, &q.pool), "vkCreateQueryPool");
      fn().vkCmdResetQueryPool(cmd, q.pool, 0, q.capacity);
      query_pools.push_back(q);
    }
    QueryPool& q = query_pools.back();
    const std::uint32_t first = q.used;
    q.used += 2;
    return {static_cast<std::uint32_t>(query_pools.size() - 1), first};
  }

  void read_timestamps() {
    timings.clear();
    if (stamps.empty()) return;
    std::vector<std::vector<std::uint64_t>> ticks(query_pools.size());
    for (std::size_t i = 0; i < query_pools.size(); ++i) {
      const QueryPool& q = query_pools[i];
      ticks[i].resize(q.used);
      if (q.used == 0) continue;
      vk_check(fn().vkGetQueryPoolResults(vd(), q.pool, 0, q.used, q.used * sizeof(std::uint64_t), ticks[i].data(),
                                          sizeof(std::uint64_t), VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT),
               "vkGetQueryPoolResults");
    }
    for (Stamp& s : stamps) {
      const std::uint64_t t0 = ticks[s.pool][s.query] & timestamp_mask;
      const std::uint64_t t1 = ticks[s.pool][s.query + 1] & timestamp_mask;
      const std::uint64_t delta = (t1 - t0) & timestamp_mask;  // wraps within the valid bits
      timings.push_back({std::move(s.label), static_cast<double>(delta) * ns_per_tick * 1e-6, std::move(s.kernel), s.bytes});
    }
    stamps.clear();
  }
};

CommandList::CommandList(Context& ctx) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.ctx = &ctx;
  m.dev = &ctx.device();
  const DeviceCaps& caps = ctx.caps();
  m.timestamps = ctx.options().timestamps && caps.timestamps && caps.timestamp_valid_bits > 0;
  m.timestamp_mask = caps.timestamp_valid_bits >= 64 ? ~0ull : (1ull << caps.timestamp_valid_bits) - 1;
  m.ns_per_tick = caps.timestamp_period_ns;

  auto pci = vk_init<VkCommandPoolCreateInfo>(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
  pci.flags = VK_COMMAND_POOL_CREATE_TRANSIENT_BIT;  // reset as a whole in begin()
  pci.queueFamilyIndex = m.dev->queue_family();
  vk_check(m.fn().vkCreateCommandPool(m.vd(), &pci, nullptr, &m.cmd_pool), "vkCreateCommandPool");
  auto ai = vk_init<VkCommandBufferAllocateInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
  ai.commandPool = m.cmd_pool;
  ai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  ai.commandBufferCount = 1;
  vk_check(m.fn().vkAllocateCommandBuffers(m.vd(), &ai, &m.cmd), "vkAllocateCommandBuffers");
  auto fci = vk_init<VkFenceCreateInfo>(VK_STRUCTURE_TYPE_FENCE_CREATE_INFO);
  vk_check(m.fn().vkCreateFence(m.vd(), &fci, nullptr, &m.fence), "vkCreateFence");
}

CommandList::CommandList(CommandList&&) noexcept = default;
CommandList& CommandList::operator=(CommandList&&) noexcept = default;
CommandList::~CommandList() = default;

void CommandList::begin() {
  Impl& m = *impl_;
  if (m.state == State::Submitted) wait();
  if (m.state == State::Recording) throw Error("[commands] begin() while recording: submit() first");
  // A recording that outgrew its first query pool gets one pool big enough next time.
  if (m.query_pools.size() > 1) {
    std::uint32_t total = 0;
    for (QueryPool& q : m.query_pools) {
      total += q.capacity;
      m.fn().vkDestroyQueryPool(m.vd(), q.pool, nullptr);
    }
    m.query_pools.clear();
    QueryPool q;
    q.capacity = total;
    auto ci = vk_init<VkQueryPoolCreateInfo>(VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO);
    ci.queryType = VK_QUERY_TYPE_TIMESTAMP;
    ci.queryCount = q.capacity;
    vk_check(m.fn().vkCreateQueryPool(m.vd(), &ci, nullptr, &q.pool), "vkCreateQueryPool");
    m.query_pools.push_back(q);
  }
  for (DescriptorPool& p : m.desc_pools) {
    vk_check(m.fn().vkResetDescriptorPool(m.vd(), p.pool, 0), "vkResetDescriptorPool");
    p.sets_used = p.descriptors_used = 0;
  }
  m.desc_current = 0;
  vk_check(m.fn().vkResetCommandPool(m.vd(), m.cmd_pool, 0), "vkResetCommandPool");
  auto bi = vk_init<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
  bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  vk_check(m.fn().vkBeginCommandBuffer(m.cmd, &bi), "vkBeginCommandBuffer");
  for (QueryPool& q : m.query_pools) {
    q.used = 0;
    m.fn().vkCmdResetQueryPool(m.cmd, q.pool, 0, q.capacity);
  }
  m.stamps.clear();
  m.timings.clear();
  m.dispatches = 0;
  m.barriers = 0;
  m.concurrent = false;
  m.state = State::Recording;
}

void CommandList::dispatch(const Pipeline& p, std::span<const BufferRange> bindings, const void* push,
                           std::uint32_t push_bytes, std::uint32_t gx, std::uint32_t gy, std::uint32_t gz,
                           std::string_view label) {
  Impl& m = *impl_;
  const std::string_view name = label.empty() ? p.name() : label;
  const auto who = [name] { return "[dispatch] " + std::string(name) + ": "; };
  if (m.state != State::Recording) m.require_recording("dispatch of " + std::string(name));
  const PipelineDesc& d = p.desc();
  const DeviceCaps& caps = m.dev->caps();
  if (bindings.size() != d.bindings)
    throw Error(who() + std::to_string(bindings.size()) + " bindings given, the pipeline has " + std::to_string(d.bindings));
  if (push_bytes != d.push_constant_bytes)
    throw Error(who() + "push constants are " + std::to_string(push_bytes) + " bytes, the pipeline expects " +
                std::to_string(d.push_constant_bytes));
  if (push_bytes && !push) throw Error(who() + "push-constant pointer is null");
  const std::uint32_t counts[3] = {gx, gy, gz};
  for (int i = 0; i < 3; ++i)
    if (counts[i] > caps.max_workgroup_count[i])
      throw Error(who() + "workgroup count " + std::to_string(counts[i]) + " in dimension " + "xyz"[i] +
                  " exceeds maxComputeWorkGroupCount[" + std::to_string(i) + "] = " +
                  std::to_string(caps.max_workgroup_count[i]));
  std::vector<VkDescriptorBufferInfo>& infos = m.infos;
  check_bindings(bindings, caps, who, infos);
  if (gx == 0 || gy == 0 || gz == 0) return;

  const VolkDeviceTable& fn = m.fn();
  fn.vkCmdBindPipeline(m.cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p.handle());
  if (!bindings.empty()) {
    VkDescriptorSet set = m.allocate_set(p.set_layout(), static_cast<std::uint32_t>(bindings.size()));
    std::vector<VkWriteDescriptorSet>& writes = m.writes;
    writes.resize(bindings.size());
    for (std::uint32_t i = 0; i < writes.size(); ++i) {
      writes[i] = vk_init<VkWriteDescriptorSet>(VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
      writes[i].dstSet = set;
      writes[i].dstBinding = i;
      writes[i].descriptorCount = 1;
      writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      writes[i].pBufferInfo = &infos[i];
    }
    fn.vkUpdateDescriptorSets(m.vd(), static_cast<std::uint32_t>(writes.size()), writes.data(), 0, nullptr);
    fn.vkCmdBindDescriptorSets(m.cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p.layout(), 0, 1, &set, 0, nullptr);
  }
  if (push_bytes) fn.vkCmdPushConstants(m.cmd, p.layout(), VK_SHADER_STAGE_COMPUTE_BIT, 0, push_bytes, push);

  std::pair<std::uint32_t, std::uint32_t> q{};
  if (m.timestamps) {
    q = m.reserve_queries();
    fn.vkCmdWriteTimestamp(m.cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, m.query_pools[q.first].pool, q.second);
  }
  fn.vkCmdDispatch(m.cmd, gx, gy, gz);
  if (m.timestamps) {
    fn.vkCmdWriteTimestamp(m.cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, m.query_pools[q.first].pool, q.second + 1);
    std::uint64_t bytes = 0;
    for (const VkDescriptorBufferInfo& b : infos) bytes += b.range;
    m.stamps.push_back({std::string(name), std::string(p.name()), bytes, q.first, q.second});
  }
  m.barrier_after(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT);
  ++m.dispatches;
  m.last_label = name;
}

void CommandList::copy(const BufferRange& src, const BufferRange& dst) {
  Impl& m = *impl_;
  m.require_recording("copy");
  if (!src.buffer || !dst.buffer || !*src.buffer || !*dst.buffer) throw Error("[commands] copy: missing buffer");
  const std::uint64_t n = src.bytes();
  const std::uint64_t room = dst.bytes();
  if (n == 0 || src.offset + n > src.buffer->size())
    throw Error("[commands] copy: source range [" + std::to_string(src.offset) + ", +" + std::to_string(n) +
                ") is outside buffer '" + src.buffer->name() + "' of " + format_bytes(src.buffer->size()));
  if (dst.offset + n > dst.buffer->size() || (dst.size != 0 && room < n))
    throw Error("[commands] copy: " + format_bytes(n) + " do not fit at offset " + std::to_string(dst.offset) +
                " of buffer '" + dst.buffer->name() + "' (" + format_bytes(dst.buffer->size()) + ", range " +
                std::to_string(room) + " bytes)");
  VkBufferCopy region{src.offset, dst.offset, n};
  std::pair<std::uint32_t, std::uint32_t> q{};
  if (m.timestamps) {
    q = m.reserve_queries();
    m.fn().vkCmdWriteTimestamp(m.cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, m.query_pools[q.first].pool, q.second);
  }
  m.fn().vkCmdCopyBuffer(m.cmd, src.buffer->handle(), dst.buffer->handle(), 1, &region);
  if (m.timestamps) {
    m.fn().vkCmdWriteTimestamp(m.cmd, VK_PIPELINE_STAGE_TRANSFER_BIT, m.query_pools[q.first].pool, q.second + 1);
    m.stamps.push_back({"copy", "copy", 2 * n, q.first, q.second});
  }
  m.barrier_after(VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
}

void CommandList::fill_zero(const BufferRange& dst) {
  Impl& m = *impl_;
  m.require_recording("fill_zero");
  if (!dst.buffer || !*dst.buffer) throw Error("[commands] fill_zero: missing buffer");
  const std::uint64_t n = dst.bytes();
  if (dst.offset % 4 != 0 || n % 4 != 0 || n == 0 || dst.offset + n > dst.buffer->size())
    throw Error("[commands] fill_zero: range [" + std::to_string(dst.offset) + ", +" + std::to_string(n) +
                ") of buffer '" + dst.buffer->name() + "' (" + format_bytes(dst.buffer->size()) +
                ") must be inside it with offset and size multiples of 4");
  m.fn().vkCmdFillBuffer(m.cmd, dst.buffer->handle(), dst.offset, n, 0);
  m.barrier_after(VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT);
}

void CommandList::begin_concurrent() {
  Impl& m = *impl_;
  m.require_recording("begin_concurrent");
  if (m.concurrent) throw Error("[commands] begin_concurrent inside a concurrent group (groups do not nest)");
  m.concurrent = true;
  m.deferred_stage = 0;
  m.deferred_access = 0;
}

void CommandList::end_concurrent() {
  Impl& m = *impl_;
  m.require_recording("end_concurrent");
  if (!m.concurrent) throw Error("[commands] end_concurrent without begin_concurrent");
  m.concurrent = false;
  if (m.deferred_stage != 0) m.barrier_after(m.deferred_stage, m.deferred_access);
}

std::uint32_t CommandList::barrier_count() const { return impl_->barriers; }

void CommandList::submit() {
  Impl& m = *impl_;
  m.require_recording("submit");
  if (m.concurrent) throw Error("[commands] submit inside a concurrent group: call end_concurrent() first");
  // Device writes become visible to host reads of mapped memory after the fence wait.
  m.barrier(VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT,
            VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_HOST_BIT,
            VK_ACCESS_HOST_READ_BIT);
  vk_check(m.fn().vkEndCommandBuffer(m.cmd), "vkEndCommandBuffer");
  vk_check(m.fn().vkResetFences(m.vd(), 1, &m.fence), "vkResetFences");
  auto si = vk_init<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
  si.commandBufferCount = 1;
  si.pCommandBuffers = &m.cmd;
  {
    std::lock_guard lock(m.dev->queue_mutex());
    vk_check(m.fn().vkQueueSubmit(m.dev->queue(), 1, &si, m.fence), "vkQueueSubmit");
  }
  m.state = State::Submitted;
}

void CommandList::wait() {
  Impl& m = *impl_;
  if (m.state != State::Submitted) return;
  const VkResult r = m.fn().vkWaitForFences(m.vd(), 1, &m.fence, VK_TRUE, UINT64_MAX);
  m.state = State::Initial;
  if (r != VK_SUCCESS)
    throw_vk_error("vkWaitForFences", r,
                   std::to_string(m.dispatches) + " dispatches submitted" +
                       (m.last_label.empty() ? std::string() : ", the last one '" + m.last_label + "'"));
  m.read_timestamps();
}

void CommandList::submit_and_wait() {
  submit();
  wait();
}

bool CommandList::recording() const { return impl_->state == State::Recording; }
std::uint32_t CommandList::dispatch_count() const { return impl_->dispatches; }
std::vector<CommandList::Timing> CommandList::timings() const { return impl_->timings; }
bool CommandList::timestamps_enabled() const { return impl_->timestamps; }

}  // namespace tessera
