// Minimal SPIR-V reflection of a compute kernel: push-constant block size, workgroup size (with
// spec-constant ids), descriptor bindings, shared-memory size and declared capabilities. Enough
// to check a PipelineDesc against the shader it names; not a general reflection library.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace tessera {

struct SpirvBinding {
  std::uint32_t set = 0;
  std::uint32_t binding = 0;
  bool storage_buffer = false;  // SSBO (StorageBuffer class, or Uniform + BufferBlock)
};

struct SpirvReflection {
  static constexpr std::uint32_t kNoSpecId = 0xffffffffu;

  std::uint32_t push_constant_bytes = 0;       // 0 when the kernel has no push-constant block
  std::array<std::uint32_t, 3> local_size{1, 1, 1};  // defaults (LocalSize / WorkgroupSize / LocalSizeId)
  std::array<std::uint32_t, 3> local_size_spec_id{kNoSpecId, kNoSpecId, kNoSpecId};  // constant_id per dim
  std::vector<SpirvBinding> bindings;          // every buffer variable with a Binding decoration
  std::vector<std::uint32_t> spec_ids;         // SpecId decorations, sorted
  std::uint32_t shared_memory_bytes = 0;       // Workgroup variables, at their default (spec) sizes
  std::vector<std::uint32_t> capabilities;     // OpCapability operands (SpvCapability values), sorted

  static constexpr std::uint32_t kCapabilityInt8 = 39;  // SpvCapabilityInt8: 8-bit arithmetic types

  // Highest binding of set 0 plus one (0 when none).
  std::uint32_t binding_count() const;
  // local_size with spec-constant overrides: `spec_values[id]` for each dimension tied to an id.
  std::array<std::uint32_t, 3> resolve_local_size(std::span<const std::uint32_t> spec_values) const;
};

// Parses `words`; throws Error "[spirv] <name>: ..." on malformed input.
SpirvReflection reflect_spirv(std::span<const std::uint32_t> words, std::string_view name);

}  // namespace tessera
