// GGUF v2/v3 reader: metadata of every value type, tensor infos, and memory-mapped tensor data.
// Every malformed input raises tessera::Error naming the file and what is wrong; nothing is
// read outside the mapping. Layout: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
#pragma once
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "engine/dtype.h"
#include "engine/platform/mapped_file.h"

namespace tessera::gguf {

inline constexpr std::uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
inline constexpr std::uint64_t kDefaultAlignment = 32;
inline constexpr std::uint32_t kMaxDims = 4;

enum class ValueType : std::uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, BOOL = 7,
  STRING = 8, ARRAY = 9, U64 = 10, I64 = 11, F64 = 12,
};
std::string_view value_type_name(ValueType t);  // "u32", "string", "array", ...; "?" if unknown

// GGML name of any type id found in tensor infos ("Q2_K" for 10), including the ones tessera does
// not support; empty for ids GGML never defined. Used to say "unsupported type Q2_K (id 10)".
std::string_view ggml_type_name(std::uint32_t id);

// One metadata value. Arrays hold their elements in a typed vector (strings as std::string).
struct Value {
  using Array = std::variant<std::vector<std::uint8_t>, std::vector<std::int8_t>,
                             std::vector<std::uint16_t>, std::vector<std::int16_t>,
                             std::vector<std::uint32_t>, std::vector<std::int32_t>,
                             std::vector<float>, std::vector<bool>, std::vector<std::string>,
                             std::vector<std::uint64_t>, std::vector<std::int64_t>,
                             std::vector<double>>;
  ValueType type = ValueType::U8;
  ValueType array_type = ValueType::U8;  // element type when type == ARRAY (nested arrays are rejected)
  std::variant<std::uint64_t, std::int64_t, double, bool, std::string, Array> data;

  bool is_integer() const;
  bool is_array() const { return type == ValueType::ARRAY; }
  std::size_t array_size() const;
};

// Short type description: "u32", "string", "array[string; 262144]".
std::string describe_type(const Value& v);
// Human-readable value for listings: strings quoted and escaped (cut after `max_string` bytes),
// arrays as their first `max_items` items followed by "... (N items)".
std::string format_value(const Value& v, std::size_t max_items = 6, std::size_t max_string = 96);

struct TensorInfo {
  std::string name;
  DType type = DType::F32;
  std::vector<std::uint64_t> ne;  // ggml order: ne[0] is the contiguous axis
  std::uint64_t offset = 0;       // from the start of the data section
  std::uint64_t n_elements = 0;
  std::uint64_t n_bytes = 0;
  std::uint64_t rows() const;     // n_elements / ne[0]
  std::string shape_string() const;  // "[3840, 262144]"
};

class File {
 public:
  // Opens and validates `path`; throws tessera::Error "[gguf] <path>: <what is wrong>".
  static File open(const std::filesystem::path& path);
  // Parses a GGUF held in memory, with `name` standing in for the path in messages. For tests
  // and fuzzing: sanitizers see any read past the end of a heap buffer, not of a mapping.
  static File from_bytes(std::vector<std::byte> bytes, const std::string& name = "<memory>");

  const std::filesystem::path& path() const { return path_; }
  std::uint32_t version() const { return version_; }
  std::uint64_t alignment() const { return alignment_; }
  std::uint64_t data_offset() const { return data_offset_; }  // absolute start of tensor data
  std::uint64_t file_size() const { return bytes_.size(); }
  const MappedFile& mapping() const { return map_; }  // empty for from_bytes() files
  std::span<const std::byte> bytes() const { return bytes_; }  // the whole file
  // general.architecture, or "" when the key is absent.
  std::string architecture() const;

  // Metadata in file order.
  const std::vector<std::pair<std::string, Value>>& metadata() const { return kv_; }
  const Value* find(std::string_view key) const;  // nullptr when absent
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Typed getters; they throw an Error naming the file and key when absent or of another type.
  // Integer getters accept any integer type whose value fits.
  std::string get_string(std::string_view key) const;
  std::uint64_t get_uint(std::string_view key) const;
  std::int64_t get_int(std::string_view key) const;
  double get_float(std::string_view key) const;   // F32 or F64
  bool get_bool(std::string_view key) const;
  std::vector<std::int64_t> get_int_array(std::string_view key) const;
  std::vector<double> get_float_array(std::string_view key) const;
  std::vector<std::string> get_string_array(std::string_view key) const;
  std::vector<bool> get_bool_array(std::string_view key) const;

  // Tensors in file order.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find_tensor(std::string_view name) const;  // nullptr when absent
  const TensorInfo& tensor(std::string_view name) const;       // throws when absent
  // The tensor's bytes inside the mapping (bounds checked at open()).
  std::span<const std::byte> data(const TensorInfo& t) const;

 private:
  void parse();

  MappedFile map_;
  std::vector<std::byte> owned_;  // from_bytes() storage
  std::span<const std::byte> bytes_;  // the whole file: map_ or owned_
  std::filesystem::path path_;
  std::uint32_t version_ = 0;
  std::uint64_t alignment_ = kDefaultAlignment;
  std::uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, Value>> kv_;
  std::unordered_map<std::string, std::size_t> kv_index_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string, std::size_t> tensor_index_;
};

}  // namespace tessera::gguf
