// SPIR-V reflection on the embedded fill kernel and on hand-assembled modules (nested structs,
// arrays with ArrayStride, vectors, spec-constant workgroup sizes, both storage-buffer styles).
#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <vector>

#include "engine/error.h"
#include "engine/spirv_reflect.h"
#include "shaders/params.h"
#include "tessera/kernel_id.h"

namespace tessera {
namespace {

// Just enough of an assembler for the reflection tests: header + raw instructions.
struct SpvBuilder {
  std::vector<std::uint32_t> words{0x07230203u, 0x00010300u, 0, 100, 0};
  void op(std::uint32_t code, std::initializer_list<std::uint32_t> args) {
    words.push_back(static_cast<std::uint32_t>((args.size() + 1) << 16) | code);
    words.insert(words.end(), args);
  }
};

enum : std::uint32_t {
  OpExecutionMode = 16, OpCapability = 17, OpTypeInt = 21, OpTypeFloat = 22, OpTypeVector = 23, OpTypeArray = 28,
  OpTypeRuntimeArray = 29, OpTypeStruct = 30, OpTypePointer = 32, OpConstant = 43, OpSpecConstant = 50,
  OpSpecConstantComposite = 51, OpVariable = 59, OpDecorate = 71, OpMemberDecorate = 72,
  SpecId = 1, Block = 2, BufferBlock = 3, ArrayStride = 6, BuiltIn = 11, Binding = 33, DescriptorSet = 34,
  Offset = 35, Uniform = 2, Workgroup = 4, PushConstant = 9, StorageBuffer = 12, LocalSize = 17, WorkgroupSize = 25,
  CapabilityShader = 1, CapabilityInt8 = 39,
};

TEST(SpirvReflect, FillKernel) {
  const SpirvReflection r = reflect_spirv(kernel_spirv(KernelId::fill), "fill");
  EXPECT_EQ(r.push_constant_bytes, sizeof(shader::FillParams));
  EXPECT_EQ(r.push_constant_bytes, 8u);
  EXPECT_EQ(r.local_size[0], 256u);
  EXPECT_EQ(r.local_size[1], 1u);
  EXPECT_EQ(r.local_size[2], 1u);
  EXPECT_EQ(r.binding_count(), 1u);
  ASSERT_EQ(r.bindings.size(), 1u);
  EXPECT_TRUE(r.bindings[0].storage_buffer);
  EXPECT_EQ(r.local_size_spec_id[0], SpirvReflection::kNoSpecId);
}

TEST(SpirvReflect, EveryKernelParses) {
  for (std::size_t i = 0; i < kKernelCount; ++i) {
    const auto id = static_cast<KernelId>(i);
    SCOPED_TRACE(std::string(kernel_name(id)));
    const SpirvReflection r = reflect_spirv(kernel_spirv(id), kernel_name(id));
    EXPECT_GE(r.local_size[0], 1u);
    EXPECT_EQ(r.push_constant_bytes % 4, 0u);
  }
}

// Kernel policies that work around driver quirks (engine/quirks.h), checked on the SPIR-V itself:
// no 8-bit arithmetic types (unpack8_miscompiled: Adreno X1-85 Windows), and shared memory within
// the 16 KiB that the weakest profile and the shared_memory_overstated budget allow (flash_attn's
// large tiles excepted: the plan picks them only where the budget holds 26 KiB).
TEST(SpirvReflect, EveryKernelAvoidsQuirkyFeatures) {
  for (std::size_t i = 0; i < kKernelCount; ++i) {
    const auto id = static_cast<KernelId>(i);
    SCOPED_TRACE(std::string(kernel_name(id)));
    const SpirvReflection r = reflect_spirv(kernel_spirv(id), kernel_name(id));
    EXPECT_FALSE(std::binary_search(r.capabilities.begin(), r.capabilities.end(), SpirvReflection::kCapabilityInt8));
    EXPECT_TRUE(std::binary_search(r.capabilities.begin(), r.capabilities.end(), std::uint32_t{CapabilityShader}));
    const bool large_attention = id == KernelId::flash_attn || id == KernelId::flash_attn_lanes;
    EXPECT_LE(r.shared_memory_bytes, large_attention ? 26u * 1024 : 16384u);
  }
  // The kernels that reduce through shared memory do declare it.
  EXPECT_GT(reflect_spirv(kernel_spirv(KernelId::matmul_q4_k_shared), "matmul").shared_memory_bytes, 0u);
}

TEST(SpirvReflect, SharedMemoryAndCapabilities) {
  SpvBuilder b;
  b.op(OpCapability, {CapabilityInt8});
  b.op(OpCapability, {CapabilityShader});
  b.op(OpTypeFloat, {1, 32});
  b.op(OpTypeInt, {2, 32, 0});
  b.op(OpConstant, {2, 3, 100});
  b.op(OpTypeArray, {4, 1, 3});                 // float[100]
  b.op(OpTypePointer, {5, Workgroup, 4});
  b.op(OpVariable, {5, 6, Workgroup});
  b.op(OpTypeVector, {7, 1, 4});                // vec4
  b.op(OpTypePointer, {8, Workgroup, 7});
  b.op(OpVariable, {8, 9, Workgroup});
  const SpirvReflection r = reflect_spirv(b.words, "shared");
  EXPECT_EQ(r.shared_memory_bytes, 400u + 16u);
  EXPECT_EQ(r.capabilities, (std::vector<std::uint32_t>{CapabilityShader, CapabilityInt8}));
}

TEST(SpirvReflect, NestedPushConstantBlock) {
  SpvBuilder b;
  b.op(OpExecutionMode, {99, LocalSize, 64, 2, 1});
  b.op(OpDecorate, {5, ArrayStride, 16});
  b.op(OpMemberDecorate, {6, 0, Offset, 0});
  b.op(OpMemberDecorate, {6, 1, Offset, 16});
  b.op(OpMemberDecorate, {7, 0, Offset, 0});
  b.op(OpMemberDecorate, {7, 1, Offset, 16});
  b.op(OpMemberDecorate, {7, 2, Offset, 80});
  b.op(OpDecorate, {7, Block});
  b.op(OpTypeInt, {1, 32, 0});
  b.op(OpTypeFloat, {2, 32});
  b.op(OpTypeVector, {3, 2, 3});         // vec3
  b.op(OpConstant, {1, 4, 4});           // uint 4
  b.op(OpTypeArray, {5, 2, 4});          // float[4], stride 16 -> 64 bytes
  b.op(OpTypeStruct, {6, 1, 3});         // { uint @0; vec3 @16 } -> 28 bytes
  b.op(OpTypeStruct, {7, 1, 5, 6});      // { uint @0; float[4] @16; inner @80 } -> 108 bytes
  b.op(OpTypePointer, {8, PushConstant, 7});
  b.op(OpVariable, {8, 9, PushConstant});
  const SpirvReflection r = reflect_spirv(b.words, "nested");
  EXPECT_EQ(r.push_constant_bytes, 108u);
  EXPECT_EQ(r.local_size[0], 64u);
  EXPECT_EQ(r.local_size[1], 2u);
  EXPECT_EQ(r.binding_count(), 0u);
}

TEST(SpirvReflect, BindingsOfBothStorageBufferStyles) {
  SpvBuilder b;
  b.op(OpDecorate, {11, BufferBlock});
  b.op(OpDecorate, {13, Binding, 3});
  b.op(OpDecorate, {13, DescriptorSet, 0});
  b.op(OpDecorate, {15, Binding, 1});
  b.op(OpDecorate, {15, DescriptorSet, 0});
  b.op(OpTypeInt, {1, 32, 0});
  b.op(OpTypeRuntimeArray, {10, 1});
  b.op(OpTypeStruct, {11, 10});
  b.op(OpTypePointer, {12, Uniform, 11});        // SPIR-V 1.0-1.2 style SSBO
  b.op(OpVariable, {12, 13, Uniform});
  b.op(OpTypePointer, {14, StorageBuffer, 11});  // SPIR-V 1.3+ style
  b.op(OpVariable, {14, 15, StorageBuffer});
  const SpirvReflection r = reflect_spirv(b.words, "bindings");
  EXPECT_EQ(r.binding_count(), 4u);
  ASSERT_EQ(r.bindings.size(), 2u);
  EXPECT_EQ(r.bindings[0].binding, 1u);
  EXPECT_EQ(r.bindings[1].binding, 3u);
  EXPECT_TRUE(r.bindings[0].storage_buffer);
  EXPECT_TRUE(r.bindings[1].storage_buffer);
  EXPECT_EQ(r.push_constant_bytes, 0u);
}

TEST(SpirvReflect, SpecConstantWorkgroupSize) {
  SpvBuilder b;
  b.op(OpExecutionMode, {99, LocalSize, 1, 1, 1});  // overridden by the WorkgroupSize built-in
  b.op(OpDecorate, {20, SpecId, 0});
  b.op(OpDecorate, {23, BuiltIn, WorkgroupSize});
  b.op(OpTypeInt, {1, 32, 0});
  b.op(OpSpecConstant, {1, 20, 128});
  b.op(OpConstant, {1, 21, 1});
  b.op(OpTypeVector, {22, 1, 3});
  b.op(OpSpecConstantComposite, {22, 23, 20, 21, 21});
  const SpirvReflection r = reflect_spirv(b.words, "spec");
  EXPECT_EQ(r.local_size[0], 128u);
  EXPECT_EQ(r.local_size_spec_id[0], 0u);
  EXPECT_EQ(r.local_size_spec_id[1], SpirvReflection::kNoSpecId);
  const std::uint32_t spec[] = {32};
  EXPECT_EQ(r.resolve_local_size(spec)[0], 32u);
  EXPECT_EQ(r.resolve_local_size({})[0], 128u);
  ASSERT_EQ(r.spec_ids.size(), 1u);
}

TEST(SpirvReflect, MalformedInputThrows) {
  const std::vector<std::uint32_t> bad_magic{1, 2, 3, 4, 5};
  EXPECT_THROW(reflect_spirv(bad_magic, "bad"), Error);
  SpvBuilder b;
  b.words.push_back((5u << 16) | OpTypeInt);  // claims 5 words, has 1
  b.words.push_back(1);
  try {
    reflect_spirv(b.words, "truncated");
    FAIL() << "no throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[spirv] truncated"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tessera
