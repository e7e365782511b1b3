// CommandList: one command buffer with its own descriptor pools and timestamp query pools.
// Record (begin, dispatch/copy/fill_zero), submit, wait, read per-dispatch timings, reuse.
// Every recorded command is followed by a memory barrier, so commands run in recording order.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "engine/buffer.h"
#include "engine/pipeline.h"

namespace tessera {

class Context;

class CommandList {
 public:
  explicit CommandList(Context& ctx);
  CommandList(CommandList&&) noexcept;
  CommandList& operator=(CommandList&&) noexcept;
  CommandList(const CommandList&) = delete;
  CommandList& operator=(const CommandList&) = delete;
  ~CommandList();  // waits for a pending submit

  // Starts recording; resets descriptor and query pools (waits first if a submit is pending).
  void begin();

  // Binds `bindings` (storage buffers 0..n-1: count must match the pipeline, each range
  // offset-aligned to minStorageBufferOffsetAlignment and at most maxStorageBufferRange),
  // pushes `push_bytes` (must match the pipeline), dispatches gx*gy*gz workgroups (each at
  // most maxComputeWorkGroupCount; a zero count records nothing), timestamps it under `label`
  // (default: the kernel name), then a compute->compute|transfer barrier. Throws Error naming
  // the label, binding and limit.
  void dispatch(const Pipeline& p, std::span<const BufferRange> bindings, const void* push, std::uint32_t push_bytes,
                std::uint32_t gx, std::uint32_t gy = 1, std::uint32_t gz = 1, std::string_view label = {});
  void dispatch(const Pipeline& p, std::initializer_list<BufferRange> bindings, const void* push,
                std::uint32_t push_bytes, std::uint32_t gx, std::uint32_t gy = 1, std::uint32_t gz = 1,
                std::string_view label = {}) {
    dispatch(p, std::span<const BufferRange>(bindings.begin(), bindings.size()), push, push_bytes, gx, gy, gz, label);
  }
  template <class P>
    requires(!std::is_pointer_v<P> && std::is_trivially_copyable_v<P>)
  void dispatch(const Pipeline& p, std::span<const BufferRange> b, const P& push, std::uint32_t gx,
                std::uint32_t gy = 1, std::uint32_t gz = 1, std::string_view label = {}) {
    dispatch(p, b, &push, static_cast<std::uint32_t>(sizeof(P)), gx, gy, gz, label);
  }
  template <class P>
    requires(!std::is_pointer_v<P> && std::is_trivially_copyable_v<P>)
  void dispatch(const Pipeline& p, std::initializer_list<BufferRange> b, const P& push, std::uint32_t gx,
                std::uint32_t gy = 1, std::uint32_t gz = 1, std::string_view label = {}) {
    dispatch(p, std::span<const BufferRange>(b.begin(), b.size()), &push, static_cast<std::uint32_t>(sizeof(P)), gx,
             gy, gz, label);
  }

  // dst <- src; sizes: src.bytes(), dst must hold it (dst.size 0 = to the end). Then a barrier.
  // Timed like a dispatch (label "copy").
  void copy(const BufferRange& src, const BufferRange& dst);
  // Zeroes dst (offset and size multiples of 4). Then a barrier.
  void fill_zero(const BufferRange& dst);

  // Commands recorded between begin_concurrent() and end_concurrent() get no barriers between
  // them, so the device may run them at once; end_concurrent() records one barrier for them all.
  // Only for commands that do not read each other's output (several matmuls of one input into
  // separate outputs). Groups do not nest; submit inside one is an error. Their timestamps
  // overlap, so summed times count the overlap more than once.
  void begin_concurrent();
  void end_concurrent();
  std::uint32_t barrier_count() const;  // barriers after commands recorded since begin()

  // Ends and submits the recording; does not wait.
  void submit();
  // Waits for the last submit and reads its timestamps. Throws on VK errors incl. device lost.
  void wait();
  void submit_and_wait();

  bool recording() const;
  std::uint32_t dispatch_count() const;  // dispatches recorded since begin()

  struct Timing {
    std::string label;   // the dispatch's label (default: the kernel name); "copy" for copies
    double ms = 0;
    std::string kernel;  // the pipeline's name (the kernel variant: "matmul_q4_k_...") or "copy"
    // Bytes of the bound buffer ranges (copies: twice the bytes copied): what the dispatch may read
    // and write, an upper bound of its memory traffic (GB/s figures in the viewer's timeline).
    std::uint64_t bytes = 0;
  };
  // Per-dispatch (and per-copy) GPU times of the last completed submit, in recording order; empty when
  // timestamps are unsupported (timestampValidBits == 0) or disabled in EngineOptions.
  std::vector<Timing> timings() const;
  bool timestamps_enabled() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tessera
