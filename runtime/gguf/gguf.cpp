// GGUF parser: walks the header (magic, version, counts), the metadata key/values and the tensor
// infos with a bounds-checked cursor over the file bytes (mapped, or in memory for tests), then
// checks that every tensor lies aligned inside the file. Tensor data is never copied.
#include "runtime/gguf/gguf.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <numeric>

#include "engine/error.h"
#include "engine/platform/console.h"

static_assert(std::endian::native == std::endian::little, "the GGUF reader assumes a little-endian host");

namespace tessera::gguf {
namespace {

// Smallest encodings, used to reject absurd counts before allocating anything.
constexpr std::uint64_t kMinKvBytes = 8 + 1 + 4 + 1;          // key length, 1-byte key, type, u8 value
constexpr std::uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;  // name, n_dims, ne[0], type, offset
constexpr std::uint64_t kMaxAlignment = std::uint64_t{1} << 31;

std::string hex(std::uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  do {
    s.insert(s.begin(), kDigits[v & 0xf]);
    v >>= 4;
  } while (v);
  return "0x" + s;
}

// Bounds-checked little-endian reader; every failure names the file, offset and what was read.
class Cursor {
 public:
  Cursor(std::span<const std::byte> bytes, std::string path) : bytes_(bytes), path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& msg) const { throw Error("[gguf] " + path_ + ": " + msg); }

  std::uint64_t pos() const { return pos_; }
  std::uint64_t size() const { return bytes_.size(); }
  std::uint64_t remaining() const { return bytes_.size() - pos_; }

  void need(std::uint64_t n, std::string_view what) const {
    if (n > remaining())
      fail("truncated header: " + std::string(what) + " needs " + std::to_string(n) + " bytes at offset " +
           std::to_string(pos_) + " but only " + std::to_string(remaining()) + " remain (file is " +
           std::to_string(size()) + " bytes)");
  }

  template <class T>
  T read(std::string_view what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  // Copies `count` trivially copyable elements (little-endian host, so no byte swapping).
  template <class T>
  void read_into(std::vector<T>& out, std::uint64_t count, std::string_view what) {
    need(count * sizeof(T), what);  // count was checked against remaining() by the caller
    out.resize(count);
    if (count) std::memcpy(out.data(), bytes_.data() + pos_, count * sizeof(T));
    pos_ += count * sizeof(T);
  }

  std::string read_string(std::string_view what) {
    const std::uint64_t len = read<std::uint64_t>(what);
    if (len > remaining())
      fail(std::string(what) + ": string length " + std::to_string(len) + " at offset " + std::to_string(pos_ - 8) +
           " runs past the end of the file (" + std::to_string(remaining()) + " bytes remain)");
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), len);
    pos_ += len;
    return s;
  }

 private:
  std::span<const std::byte> bytes_;
  std::string path_;
  std::uint64_t pos_ = 0;
};

bool known_value_type(std::uint32_t t) { return t <= static_cast<std::uint32_t>(ValueType::F64); }

// Encoded size of one scalar of type t (strings: their length prefix only).
std::uint64_t min_scalar_bytes(ValueType t) {
  switch (t) {
    case ValueType::U8: case ValueType::I8: case ValueType::BOOL: return 1;
    case ValueType::U16: case ValueType::I16: return 2;
    case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
    case ValueType::STRING: case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
    case ValueType::ARRAY: return 12;
  }
  return 1;
}

bool read_bool(Cursor& c, std::string_view what) {
  const std::uint8_t b = c.read<std::uint8_t>(what);
  if (b > 1) c.fail(std::string(what) + ": invalid bool value " + std::to_string(b) + " at offset " + std::to_string(c.pos() - 1));
  return b != 0;
}

Value read_scalar(Cursor& c, ValueType t, std::string_view what) {
  Value v;
  v.type = t;
  switch (t) {
    case ValueType::U8: v.data = std::uint64_t{c.read<std::uint8_t>(what)}; break;
    case ValueType::I8: v.data = std::int64_t{c.read<std::int8_t>(what)}; break;
    case ValueType::U16: v.data = std::uint64_t{c.read<std::uint16_t>(what)}; break;
    case ValueType::I16: v.data = std::int64_t{c.read<std::int16_t>(what)}; break;
    case ValueType::U32: v.data = std::uint64_t{c.read<std::uint32_t>(what)}; break;
    case ValueType::I32: v.data = std::int64_t{c.read<std::int32_t>(what)}; break;
    case ValueType::U64: v.data = c.read<std::uint64_t>(what); break;
    case ValueType::I64: v.data = c.read<std::int64_t>(what); break;
    case ValueType::F32: v.data = double{c.read<float>(what)}; break;
    case ValueType::F64: v.data = c.read<double>(what); break;
    case ValueType::BOOL: v.data = read_bool(c, what); break;
    case ValueType::STRING: v.data = c.read_string(what); break;
    case ValueType::ARRAY: c.fail(std::string(what) + ": internal error, array read as scalar");
  }
  return v;
}

template <class T>
Value::Array read_pod_array(Cursor& c, std::uint64_t n, std::string_view what) {
  std::vector<T> out;
  c.read_into(out, n, what);
  return out;
}

Value read_array(Cursor& c, std::string_view what) {
  const std::uint32_t et = c.read<std::uint32_t>(what);
  if (et == static_cast<std::uint32_t>(ValueType::ARRAY)) c.fail(std::string(what) + ": nested arrays are not supported");
  if (!known_value_type(et)) c.fail(std::string(what) + ": unknown array element type " + std::to_string(et));
  const auto elem = static_cast<ValueType>(et);
  const std::uint64_t n = c.read<std::uint64_t>(what);
  if (n > c.remaining() / min_scalar_bytes(elem))
    c.fail(std::string(what) + ": array of " + std::to_string(n) + " " + std::string(value_type_name(elem)) +
           " elements cannot fit in the " + std::to_string(c.remaining()) + " bytes that remain");
  Value v;
  v.type = ValueType::ARRAY;
  v.array_type = elem;
  switch (elem) {
    case ValueType::U8: v.data = read_pod_array<std::uint8_t>(c, n, what); break;
    case ValueType::I8: v.data = read_pod_array<std::int8_t>(c, n, what); break;
    case ValueType::U16: v.data = read_pod_array<std::uint16_t>(c, n, what); break;
    case ValueType::I16: v.data = read_pod_array<std::int16_t>(c, n, what); break;
    case ValueType::U32: v.data = read_pod_array<std::uint32_t>(c, n, what); break;
    case ValueType::I32: v.data = read_pod_array<std::int32_t>(c, n, what); break;
    case ValueType::F32: v.data = read_pod_array<float>(c, n, what); break;
    case ValueType::U64: v.data = read_pod_array<std::uint64_t>(c, n, what); break;
    case ValueType::I64: v.data = read_pod_array<std::int64_t>(c, n, what); break;
    case ValueType::F64: v.data = read_pod_array<double>(c, n, what); break;
    case ValueType::BOOL: {
      std::vector<bool> out(n);
      for (std::uint64_t i = 0; i < n; ++i) out[i] = read_bool(c, what);
      v.data = Value::Array(std::move(out));
      break;
    }
    case ValueType::STRING: {
      std::vector<std::string> out;
      out.reserve(n);
      for (std::uint64_t i = 0; i < n; ++i) out.push_back(c.read_string(what));
      v.data = Value::Array(std::move(out));
      break;
    }
    case ValueType::ARRAY: break;  // rejected above
  }
  return v;
}

std::uint64_t read_alignment(const Value& v, const Cursor& c) {
  if (!v.is_integer()) c.fail("general.alignment is " + describe_type(v) + ", expected an unsigned integer");
  const auto* u = std::get_if<std::uint64_t>(&v.data);
  const auto* i = std::get_if<std::int64_t>(&v.data);
  if (i && *i < 0) c.fail("general.alignment is " + std::to_string(*i) + ": must be a positive power of two");
  const std::uint64_t a = u ? *u : static_cast<std::uint64_t>(*i);
  if (a == 0 || !std::has_single_bit(a) || a > kMaxAlignment)
    c.fail("general.alignment is " + std::to_string(a) + ": must be a power of two between 1 and 2^31");
  return a;
}

void read_tensor_info(Cursor& c, std::uint64_t index, TensorInfo& t) {
  const std::string what = "tensor info #" + std::to_string(index);
  t.name = c.read_string(what + " name");
  if (t.name.empty()) c.fail(what + " has an empty name");
  const std::string tw = "tensor '" + t.name + "'";
  const std::uint32_t n_dims = c.read<std::uint32_t>(tw + " n_dims");
  if (n_dims == 0 || n_dims > kMaxDims)
    c.fail(tw + " has " + std::to_string(n_dims) + " dimensions (must be 1.." + std::to_string(kMaxDims) + ")");
  t.ne.resize(n_dims);
  std::uint64_t n = 1;
  for (std::uint32_t d = 0; d < n_dims; ++d) {
    t.ne[d] = c.read<std::uint64_t>(tw + " shape");
    if (t.ne[d] == 0) c.fail(tw + " has a zero-sized dimension ne[" + std::to_string(d) + "]");
    const auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (t.ne[d] > max / n) c.fail(tw + " shape overflows: the element count exceeds 2^63");
    n *= t.ne[d];
  }
  t.n_elements = n;
  const std::uint32_t type_id = c.read<std::uint32_t>(tw + " type");
  const std::optional<DTypeInfo> info = dtype_info(type_id);
  if (!info) {
    const std::string_view name = ggml_type_name(type_id);
    if (name.empty()) c.fail(tw + " has unknown type id " + std::to_string(type_id));
    c.fail(tw + " has unsupported type " + std::string(name) + " (id " + std::to_string(type_id) + ")");
  }
  t.type = info->type;
  if (t.ne[0] % info->block_size != 0)
    c.fail(tw + " " + t.shape_string() + " " + std::string(info->name) + ": ne[0] = " + std::to_string(t.ne[0]) +
           " is not a multiple of the block size " + std::to_string(info->block_size));
  const std::uint64_t blocks = n / info->block_size;
  if (blocks > std::numeric_limits<std::uint64_t>::max() / info->block_bytes)
    c.fail(tw + " " + t.shape_string() + ": byte size overflows");
  t.n_bytes = blocks * info->block_bytes;
  t.offset = c.read<std::uint64_t>(tw + " offset");
}

void check_count(const Cursor& c, std::uint64_t n, std::uint64_t min_bytes, const char* what, const char* after) {
  if (n > c.remaining() / min_bytes)
    c.fail(std::string(what) + " " + std::to_string(n) + " cannot fit in the " + std::to_string(c.remaining()) +
           " bytes that follow the " + after);
}

std::pair<std::string, Value> read_kv(Cursor& c, std::uint64_t index) {
  std::string key = c.read_string("metadata key #" + std::to_string(index));
  if (key.empty()) c.fail("metadata key #" + std::to_string(index) + " is empty");
  const std::string what = "metadata '" + key + "'";
  const std::uint32_t type = c.read<std::uint32_t>(what + " type");
  if (!known_value_type(type)) c.fail(what + " has unknown value type " + std::to_string(type));
  Value v = type == static_cast<std::uint32_t>(ValueType::ARRAY) ? read_array(c, what)
                                                                   : read_scalar(c, static_cast<ValueType>(type), what);
  return {std::move(key), std::move(v)};
}

// Every tensor lies inside the file and no two overlap (an overlap means a corrupt offset or size).
void check_tensor_data(const Cursor& c, const std::vector<TensorInfo>& tensors, std::uint64_t data_offset) {
  const std::uint64_t size = c.size();
  for (const TensorInfo& t : tensors) {
    const std::uint64_t avail = data_offset > size || t.offset > size - data_offset ? 0 : size - data_offset - t.offset;
    if (t.n_bytes > avail)
      c.fail("tensor '" + t.name + "' " + std::string(dtype_name(t.type)) + " " + t.shape_string() + " needs " +
             std::to_string(t.n_bytes) + " bytes at data offset " + std::to_string(t.offset) + " (file offset " +
             (t.offset > std::numeric_limits<std::uint64_t>::max() - data_offset ? std::string("past 2^64")
                                                                                : std::to_string(data_offset + t.offset)) +
             ") but only " + std::to_string(avail) + " bytes are available: file truncated or corrupt");
  }
  std::vector<std::size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return tensors[a].offset < tensors[b].offset; });
  for (std::size_t i = 1; i < order.size(); ++i) {
    const TensorInfo& a = tensors[order[i - 1]];
    const TensorInfo& b = tensors[order[i]];
    if (a.offset + a.n_bytes > b.offset)  // both end inside the file, so no overflow
      c.fail("tensors '" + a.name + "' [" + std::to_string(a.offset) + ", " + std::to_string(a.offset + a.n_bytes) +
             ") and '" + b.name + "' [" + std::to_string(b.offset) + ", " + std::to_string(b.offset + b.n_bytes) +
             ") overlap");
  }
}

}  // namespace

File File::open(const std::filesystem::path& path) {
  File f;
  f.map_ = MappedFile::open(path);
  f.bytes_ = f.map_.bytes();
  f.path_ = path;
  f.parse();
  return f;
}

File File::from_bytes(std::vector<std::byte> bytes, const std::string& name) {
  File f;
  f.owned_ = std::move(bytes);
  f.bytes_ = f.owned_;
  f.path_ = name;
  f.parse();
  return f;
}

void File::parse() {
  Cursor c(bytes_, path_to_utf8(path_));
  if (bytes_.size() < 4) c.fail("file is " + std::to_string(bytes_.size()) + " bytes, too small for a GGUF header");
  const std::uint32_t magic = c.read<std::uint32_t>("magic");
  if (magic != kMagic) c.fail("bad magic " + hex(magic) + " (expected 0x46554747 \"GGUF\"): not a GGUF file");
  version_ = c.read<std::uint32_t>("version");
  if (version_ == 1) c.fail("GGUF version 1 (32-bit counts) is not supported; convert the file to version 3");
  if (version_ == 0x02000000u || version_ == 0x03000000u) c.fail("big-endian GGUF files are not supported");
  if (version_ != 2 && version_ != 3) c.fail("unsupported GGUF version " + std::to_string(version_) + " (expected 2 or 3)");

  // Counts are checked against the bytes left before anything is allocated for them.
  const std::uint64_t n_tensors = c.read<std::uint64_t>("tensor count");
  const std::uint64_t n_kv = c.read<std::uint64_t>("metadata count");
  check_count(c, n_kv, kMinKvBytes, "metadata count", "header");
  check_count(c, n_tensors, kMinTensorInfoBytes, "tensor count", "header");

  kv_.reserve(n_kv);
  for (std::uint64_t i = 0; i < n_kv; ++i) {
    auto [key, v] = read_kv(c, i);
    if (kv_index_.count(key)) c.fail("duplicate metadata key '" + key + "'");
    if (key == "general.alignment") alignment_ = read_alignment(v, c);
    kv_index_.emplace(key, kv_.size());
    kv_.emplace_back(std::move(key), std::move(v));
  }

  check_count(c, n_tensors, kMinTensorInfoBytes, "tensor count", "metadata");
  tensors_.resize(n_tensors);
  for (std::uint64_t i = 0; i < n_tensors; ++i) {
    TensorInfo& t = tensors_[i];
    read_tensor_info(c, i, t);
    if (!tensor_index_.emplace(t.name, i).second) c.fail("duplicate tensor name '" + t.name + "'");
    if (t.offset % alignment_ != 0)
      c.fail("tensor '" + t.name + "' offset " + std::to_string(t.offset) + " is not a multiple of the alignment " +
             std::to_string(alignment_));
  }

  // The data section starts at the first aligned offset after the tensor infos.
  const std::uint64_t pos = c.pos();
  data_offset_ = pos + (alignment_ - pos % alignment_) % alignment_;  // < 2^63 + 2^31: no overflow
  check_tensor_data(c, tensors_, data_offset_);
}

const TensorInfo* File::find_tensor(std::string_view name) const {
  const auto it = tensor_index_.find(std::string(name));
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& File::tensor(std::string_view name) const {
  const TensorInfo* t = find_tensor(name);
  if (!t) throw Error("[gguf] " + path_to_utf8(path()) + ": tensor '" + std::string(name) + "' not found");
  return *t;
}

std::span<const std::byte> File::data(const TensorInfo& t) const {
  const std::uint64_t size = bytes_.size();
  if (data_offset_ > size || t.offset > size - data_offset_ || t.n_bytes > size - data_offset_ - t.offset)
    throw Error("[gguf] " + path_to_utf8(path()) + ": tensor '" + t.name + "' lies outside the file");
  return bytes_.subspan(data_offset_ + t.offset, t.n_bytes);
}

std::uint64_t TensorInfo::rows() const { return ne.empty() ? 0 : n_elements / ne[0]; }

std::string TensorInfo::shape_string() const {
  std::string s = "[";
  for (std::size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
  return s + "]";
}

}  // namespace tessera::gguf
