// GGUF tensors on the GPU: streamed from the file's memory mapping (no second copy in RAM),
// split by rows into chunks that each fit one binding and one allocation.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "engine/chunked_buffer.h"
#include "engine/context.h"
#include "engine/ops/get_rows.h"
#include "runtime/gguf/gguf.h"

namespace tessera {

struct GpuTensor {
  std::string name;
  DType type = DType::F32;
  std::vector<std::uint64_t> ne;  // ggml order: ne[0] contiguous
  ChunkedBuffer data;             // rows = n_elements / ne[0]

  // The chunks as a get_rows table (row ranges per binding).
  std::vector<ops::TableChunk> table() const;
};

// The tensor `name` of `file`, checked to have shape `ne` (trailing 1s ignored). Throws
// "[<component>] <file>: tensor '<name>' is missing" / "... is [a, b] but [c, d] is needed".
const gguf::TensorInfo& require_tensor(const gguf::File& file, const std::string& name, std::vector<std::uint64_t> ne,
                                       const std::string& component);

// A tensor of any type dequantized to f32 on the host (norm vectors, scalars, tables).
std::vector<float> tensor_floats(const gguf::File& file, const gguf::TensorInfo& t);
// The same uploaded into a device buffer named after the tensor.
Buffer upload_floats(Context& ctx, const gguf::File& file, const gguf::TensorInfo& t);
// Host floats into a new device buffer (at least 4 bytes).
Buffer upload_floats(Context& ctx, std::span<const float> v, const std::string& name);

// Uploads `t` of `file` in row chunks (max_chunk = 0: the device limits; tests pass a small one),
// then tells the OS the mapped pages are no longer needed.
GpuTensor upload_tensor(Context& ctx, const gguf::File& file, const gguf::TensorInfo& t, std::uint64_t max_chunk = 0);

}  // namespace tessera
