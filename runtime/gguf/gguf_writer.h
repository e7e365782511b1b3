// Streaming GGUF v3 writer: metadata of every value type, tensor infos, aligned tensor data
// written tensor by tensor (and chunk by chunk), so a multi-GB file never sits in RAM. Tensor
// data may also be skipped, leaving a sparse run of zero bytes (size tests of 12B shapes).
// Layout: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
#pragma once
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/dtype.h"
#include "runtime/gguf/gguf.h"

namespace tessera::gguf {

// A tensor as the writer lays it out.
struct WriterTensor {
  std::string name;
  DType type = DType::F32;
  std::vector<std::uint64_t> ne;  // ggml order: ne[0] is the contiguous axis
  std::uint64_t offset = 0;       // from the start of the data section (aligned)
  std::uint64_t n_bytes = 0;      // unpadded data bytes
};

// Usage: add metadata and tensors, then begin(path), then for every tensor in order either
// write its bytes (in one or several write_data calls) or skip_tensor(), then finish().
// All errors throw tessera::Error "[gguf_writer] <path>: ...".
class Writer {
 public:
  Writer() = default;
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  ~Writer();

  // ---- metadata (before begin); a key set twice keeps its first position, last value ----
  void set(std::string key, Value v);
  void set_u8(std::string key, std::uint8_t v);
  void set_i8(std::string key, std::int8_t v);
  void set_u16(std::string key, std::uint16_t v);
  void set_i16(std::string key, std::int16_t v);
  void set_u32(std::string key, std::uint32_t v);
  void set_i32(std::string key, std::int32_t v);
  void set_u64(std::string key, std::uint64_t v);
  void set_i64(std::string key, std::int64_t v);
  void set_f32(std::string key, float v);
  void set_f64(std::string key, double v);
  void set_bool(std::string key, bool v);
  void set_string(std::string key, std::string v);
  void set_array(std::string key, std::vector<std::string> v);
  void set_array(std::string key, std::vector<std::int32_t> v);
  void set_array(std::string key, std::vector<std::uint32_t> v);
  void set_array(std::string key, std::vector<std::int64_t> v);
  void set_array(std::string key, std::vector<float> v);
  void set_array(std::string key, std::vector<bool> v);
  const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }

  // ---- tensors (before begin) ----
  // Adds a tensor; its byte size follows from type and shape (ne[0] must be a multiple of the
  // type's block size). Returns its index.
  std::size_t add_tensor(std::string name, DType type, std::vector<std::uint64_t> ne);
  const std::vector<WriterTensor>& tensors() const { return tensors_; }

  // Alignment of the data section: general.alignment when set (u32), else 32.
  std::uint64_t alignment() const;
  // Bytes of everything before the data section (header, metadata, infos, padding).
  std::uint64_t header_bytes() const;
  // Total file size: header_bytes() + every tensor's padded data.
  std::uint64_t file_size() const;

  // ---- writing ----
  // Creates `path` and writes header, metadata and tensor infos.
  void begin(const std::filesystem::path& path);
  // Appends bytes to the current tensor; a tensor is complete (and padded) once its n_bytes
  // have been written, and the next write goes to the next tensor.
  void write_data(std::span<const std::byte> bytes);
  // Leaves the current tensor's data as zeros without writing it (a hole in the file).
  void skip_tensor();
  // Index of the tensor the next write_data goes to (== tensors().size() when all are done).
  std::size_t current_tensor() const { return cur_; }
  // Checks every tensor was written or skipped, extends the file over trailing holes, closes.
  void finish();

 private:
  void put(const void* p, std::size_t n);
  template <typename T>
  void put_pod(T v) { put(&v, sizeof(T)); }
  void put_string(std::string_view s);
  void put_value(const Value& v);
  template <typename N>
  void put_number(ValueType t, N x);
  void pad_to_alignment();
  [[noreturn]] void fail(const std::string& what) const;

  std::vector<std::pair<std::string, Value>> kv_;
  std::unordered_map<std::string, std::size_t> kv_index_;
  std::vector<WriterTensor> tensors_;
  std::uint64_t data_bytes_ = 0;  // padded size of the data section

  std::filesystem::path path_;
  std::vector<char> buf_;         // stream buffer; declared before out_, which flushes into it
  std::ofstream out_;
  std::uint64_t pos_ = 0;         // logical write position (holes included)
  std::uint64_t data_start_ = 0;  // absolute offset of the data section
  std::size_t cur_ = 0;           // tensor being written
  std::uint64_t cur_written_ = 0; // bytes of it written so far
  bool begun_ = false, finished_ = false;
};

}  // namespace tessera::gguf
