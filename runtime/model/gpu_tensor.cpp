#include "runtime/model/gpu_tensor.h"

#include <algorithm>

#include "engine/error.h"
#include "engine/transfer.h"
#include "runtime/quant/dequant.h"
#include "engine/platform/console.h"

namespace tessera {

std::vector<ops::TableChunk> GpuTensor::table() const {
  std::vector<ops::TableChunk> out;
  out.reserve(data.chunk_count());
  for (std::size_t i = 0; i < data.chunk_count(); ++i)
    out.push_back({data.range(i), static_cast<std::uint32_t>(data.chunk(i).first_row),
                   static_cast<std::uint32_t>(data.chunk(i).rows)});
  return out;
}

const gguf::TensorInfo& require_tensor(const gguf::File& file, const std::string& name, std::vector<std::uint64_t> ne,
                                       const std::string& component) {
  const std::string where = "[" + component + "] " + path_to_utf8(file.path()) + ": tensor '" + name + "' ";
  const gguf::TensorInfo* t = file.find_tensor(name);
  if (!t) throw Error(where + "is missing");
  std::vector<std::uint64_t> got = t->ne;
  while (got.size() > ne.size() && got.back() == 1) got.pop_back();
  if (got != ne) {
    std::string want = "[";
    for (std::size_t i = 0; i < ne.size(); ++i) want += (i ? ", " : "") + std::to_string(ne[i]);
    throw Error(where + "is " + t->shape_string() + " but " + want + "] is needed");
  }
  return *t;
}

std::vector<float> tensor_floats(const gguf::File& file, const gguf::TensorInfo& t) {
  return dequantize(t.type, file.data(t), static_cast<std::int64_t>(t.n_elements));
}

Buffer upload_floats(Context& ctx, std::span<const float> v, const std::string& name) {
  Buffer b = Buffer::create(ctx.device(), 4 * std::max<std::size_t>(v.size(), 1), MemoryKind::Device, name);
  if (!v.empty()) upload(ctx, std::as_bytes(v), b.range(0, 4 * v.size()));
  return b;
}

Buffer upload_floats(Context& ctx, const gguf::File& file, const gguf::TensorInfo& t) {
  return upload_floats(ctx, tensor_floats(file, t), t.name);
}

GpuTensor upload_tensor(Context& ctx, const gguf::File& file, const gguf::TensorInfo& t, std::uint64_t max_chunk) {
  const std::uint64_t rows = t.rows();
  if (rows > UINT32_MAX || t.ne.empty())
    throw Error("[weights] " + path_to_utf8(file.path()) + ": tensor '" + t.name + "' " + t.shape_string() +
                " has too many rows for the kernels");
  GpuTensor g{t.name, t.type, t.ne,
              ChunkedBuffer::create(ctx.device(), rows, t.n_bytes / rows, MemoryKind::Device, t.name, max_chunk)};
  g.data.upload(ctx, file.data(t));
  file.mapping().release_pages(file.data_offset() + t.offset, t.n_bytes);
  return g;
}

}  // namespace tessera
