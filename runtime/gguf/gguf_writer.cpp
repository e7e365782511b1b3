#include "runtime/gguf/gguf_writer.h"

#include <algorithm>
#include <cstring>
#include <system_error>
#include <type_traits>

#include "engine/error.h"
#include "engine/platform/console.h"

namespace tessera::gguf {
namespace {

constexpr std::uint32_t kVersion = 3;
constexpr std::size_t kStreamBuffer = 1 << 20;

std::uint64_t align_up(std::uint64_t x, std::uint64_t a) { return (x + a - 1) / a * a; }

template <typename T>
Value array_value(ValueType elem, std::vector<T> v) {
  Value out;
  out.type = ValueType::ARRAY;
  out.array_type = elem;
  out.data = Value::Array(std::move(v));
  return out;
}

Value scalar_u(ValueType t, std::uint64_t v) {
  Value out;
  out.type = t;
  out.data = v;
  return out;
}

Value scalar_i(ValueType t, std::int64_t v) {
  Value out;
  out.type = t;
  out.data = v;
  return out;
}

Value scalar_f(ValueType t, double v) {
  Value out;
  out.type = t;
  out.data = v;
  return out;
}

// Serialized size of a string: u64 length + bytes.
std::uint64_t string_bytes(std::string_view s) { return 8 + s.size(); }

std::uint64_t scalar_bytes(ValueType t) {
  switch (t) {
    case ValueType::U8: case ValueType::I8: case ValueType::BOOL: return 1;
    case ValueType::U16: case ValueType::I16: return 2;
    case ValueType::U32: case ValueType::I32: case ValueType::F32: return 4;
    case ValueType::U64: case ValueType::I64: case ValueType::F64: return 8;
    default: return 0;
  }
}

std::uint64_t value_bytes(const Value& v) {
  if (v.type == ValueType::STRING) return string_bytes(std::get<std::string>(v.data));
  if (v.type != ValueType::ARRAY) return scalar_bytes(v.type);
  std::uint64_t n = 4 + 8;  // element type + count
  std::visit(
      [&](const auto& vec) {
        using E = typename std::decay_t<decltype(vec)>::value_type;
        if constexpr (std::is_same_v<E, std::string>) {
          for (const std::string& s : vec) n += string_bytes(s);
        } else {
          n += vec.size() * scalar_bytes(v.array_type);
        }
      },
      std::get<Value::Array>(v.data));
  return n;
}

// The scalar held by a Value as a number of type T, whatever variant alternative stores it.
template <typename T>
T scalar_as(const Value& v) {
  return std::visit(
      [](const auto& x) -> T {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_arithmetic_v<X>) return static_cast<T>(x);
        else return T{};
      },
      v.data);
}

}  // namespace

Writer::~Writer() = default;

void Writer::set(std::string key, Value v) {
  if (begun_) fail("metadata '" + key + "' set after begin()");
  if (v.type == ValueType::ARRAY && !std::holds_alternative<Value::Array>(v.data))
    fail("metadata '" + key + "' is an array without elements");
  if (v.type == ValueType::STRING && !std::holds_alternative<std::string>(v.data))
    fail("metadata '" + key + "' is a string without text");
  auto it = kv_index_.find(key);
  if (it != kv_index_.end()) {
    kv_[it->second].second = std::move(v);
    return;
  }
  kv_index_.emplace(key, kv_.size());
  kv_.emplace_back(std::move(key), std::move(v));
}

void Writer::set_u8(std::string k, std::uint8_t v) { set(std::move(k), scalar_u(ValueType::U8, v)); }
void Writer::set_i8(std::string k, std::int8_t v) { set(std::move(k), scalar_i(ValueType::I8, v)); }
void Writer::set_u16(std::string k, std::uint16_t v) { set(std::move(k), scalar_u(ValueType::U16, v)); }
void Writer::set_i16(std::string k, std::int16_t v) { set(std::move(k), scalar_i(ValueType::I16, v)); }
void Writer::set_u32(std::string k, std::uint32_t v) { set(std::move(k), scalar_u(ValueType::U32, v)); }
void Writer::set_i32(std::string k, std::int32_t v) { set(std::move(k), scalar_i(ValueType::I32, v)); }
void Writer::set_u64(std::string k, std::uint64_t v) { set(std::move(k), scalar_u(ValueType::U64, v)); }
void Writer::set_i64(std::string k, std::int64_t v) { set(std::move(k), scalar_i(ValueType::I64, v)); }
void Writer::set_f32(std::string k, float v) { set(std::move(k), scalar_f(ValueType::F32, v)); }
void Writer::set_f64(std::string k, double v) { set(std::move(k), scalar_f(ValueType::F64, v)); }

void Writer::set_bool(std::string k, bool v) {
  Value out;
  out.type = ValueType::BOOL;
  out.data = v;
  set(std::move(k), std::move(out));
}

void Writer::set_string(std::string k, std::string v) {
  Value out;
  out.type = ValueType::STRING;
  out.data = std::move(v);
  set(std::move(k), std::move(out));
}

void Writer::set_array(std::string k, std::vector<std::string> v) {
  set(std::move(k), array_value(ValueType::STRING, std::move(v)));
}
void Writer::set_array(std::string k, std::vector<std::int32_t> v) {
  set(std::move(k), array_value(ValueType::I32, std::move(v)));
}
void Writer::set_array(std::string k, std::vector<std::uint32_t> v) {
  set(std::move(k), array_value(ValueType::U32, std::move(v)));
}
void Writer::set_array(std::string k, std::vector<std::int64_t> v) {
  set(std::move(k), array_value(ValueType::I64, std::move(v)));
}
void Writer::set_array(std::string k, std::vector<float> v) {
  set(std::move(k), array_value(ValueType::F32, std::move(v)));
}
void Writer::set_array(std::string k, std::vector<bool> v) {
  set(std::move(k), array_value(ValueType::BOOL, std::move(v)));
}

std::size_t Writer::add_tensor(std::string name, DType type, std::vector<std::uint64_t> ne) {
  if (begun_) fail("tensor '" + name + "' added after begin()");
  if (ne.empty() || ne.size() > kMaxDims)
    fail("tensor '" + name + "' has " + std::to_string(ne.size()) + " dims (1.." +
         std::to_string(kMaxDims) + " allowed)");
  for (const WriterTensor& t : tensors_)
    if (t.name == name) fail("tensor '" + name + "' added twice");
  std::uint64_t n = 1;
  for (std::uint64_t d : ne) n *= d;
  const DTypeInfo& info = dtype_info(type);
  if (ne[0] % info.block_size != 0)
    fail("tensor '" + name + "' row of " + std::to_string(ne[0]) + " is not a multiple of " +
         std::string(info.name) + "'s block of " + std::to_string(info.block_size));
  WriterTensor t;
  t.name = std::move(name);
  t.type = type;
  t.ne = std::move(ne);
  t.n_bytes = dtype_bytes(type, n);
  tensors_.push_back(std::move(t));
  return tensors_.size() - 1;
}

std::uint64_t Writer::alignment() const {
  auto it = kv_index_.find("general.alignment");
  if (it == kv_index_.end()) return kDefaultAlignment;
  const Value& v = kv_[it->second].second;
  if (v.type != ValueType::U32) fail("general.alignment must be a u32");
  const std::uint64_t a = scalar_as<std::uint64_t>(v);
  if (a == 0 || (a & (a - 1)) != 0) fail("general.alignment " + std::to_string(a) + " is not a power of two");
  return a;
}

std::uint64_t Writer::header_bytes() const {
  std::uint64_t n = 4 + 4 + 8 + 8;
  for (const auto& [k, v] : kv_) n += string_bytes(k) + 4 + value_bytes(v);
  for (const WriterTensor& t : tensors_) n += string_bytes(t.name) + 4 + 8 * t.ne.size() + 4 + 8;
  return align_up(n, alignment());
}

std::uint64_t Writer::file_size() const {
  const std::uint64_t a = alignment();
  std::uint64_t data = 0;
  for (const WriterTensor& t : tensors_) data += align_up(t.n_bytes, a);
  return header_bytes() + data;
}

void Writer::fail(const std::string& what) const {
  throw Error("[gguf_writer] " + (path_.empty() ? std::string("<not begun>") : path_to_utf8(path_)) + ": " + what);
}

void Writer::put(const void* p, std::size_t n) {
  out_.write(static_cast<const char*>(p), static_cast<std::streamsize>(n));
  if (!out_) fail("write failed at offset " + std::to_string(pos_));
  pos_ += n;
}

void Writer::put_string(std::string_view s) {
  put_pod<std::uint64_t>(s.size());
  put(s.data(), s.size());
}

// Writes number `x` as scalar type `t`.
template <typename N>
void Writer::put_number(ValueType t, N x) {
  switch (t) {
    case ValueType::U8: put_pod(static_cast<std::uint8_t>(x)); return;
    case ValueType::I8: put_pod(static_cast<std::int8_t>(x)); return;
    case ValueType::U16: put_pod(static_cast<std::uint16_t>(x)); return;
    case ValueType::I16: put_pod(static_cast<std::int16_t>(x)); return;
    case ValueType::U32: put_pod(static_cast<std::uint32_t>(x)); return;
    case ValueType::I32: put_pod(static_cast<std::int32_t>(x)); return;
    case ValueType::U64: put_pod(static_cast<std::uint64_t>(x)); return;
    case ValueType::I64: put_pod(static_cast<std::int64_t>(x)); return;
    case ValueType::F32: put_pod(static_cast<float>(x)); return;
    case ValueType::F64: put_pod(static_cast<double>(x)); return;
    case ValueType::BOOL: put_pod<std::uint8_t>(x != N{} ? 1 : 0); return;
    case ValueType::STRING:
    case ValueType::ARRAY: break;
  }
  fail("a number cannot be written as value type " + std::to_string(static_cast<std::uint32_t>(t)));
}

void Writer::put_value(const Value& v) {
  if (v.type == ValueType::STRING) return put_string(std::get<std::string>(v.data));
  if (v.type != ValueType::ARRAY) {
    return std::visit(
        [&](const auto& x) {
          using X = std::decay_t<decltype(x)>;
          if constexpr (std::is_arithmetic_v<X>) put_number(v.type, x);
          else fail("scalar of value type " + std::to_string(static_cast<std::uint32_t>(v.type)) +
                    " holds no number");
        },
        v.data);
  }
  if (v.array_type == ValueType::ARRAY) fail("nested arrays are not supported");
  put_pod(static_cast<std::uint32_t>(v.array_type));
  std::visit(
      [&](const auto& vec) {
        using E = typename std::decay_t<decltype(vec)>::value_type;
        put_pod<std::uint64_t>(vec.size());
        if constexpr (std::is_same_v<E, std::string>) {
          if (v.array_type != ValueType::STRING) fail("array of strings tagged as another type");
          for (const std::string& e : vec) put_string(e);
        } else {
          if (v.array_type == ValueType::STRING) fail("string array holds numbers");
          for (const auto& e : vec) put_number(v.array_type, static_cast<E>(e));
        }
      },
      std::get<Value::Array>(v.data));
}

void Writer::pad_to_alignment() {
  static const char zeros[256] = {};
  std::uint64_t pad = align_up(pos_, alignment()) - pos_;
  while (pad > 0) {
    const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(pad, sizeof(zeros)));
    put(zeros, n);
    pad -= n;
  }
}

void Writer::begin(const std::filesystem::path& path) {
  if (begun_) fail("begin() called twice");
  path_ = path;
  const std::uint64_t a = alignment();
  std::uint64_t off = 0;
  for (WriterTensor& t : tensors_) {
    t.offset = off;
    off += align_up(t.n_bytes, a);
  }
  data_bytes_ = off;
  buf_.resize(kStreamBuffer);
  out_.rdbuf()->pubsetbuf(buf_.data(), static_cast<std::streamsize>(buf_.size()));
  out_.open(path, std::ios::binary | std::ios::out | std::ios::trunc);
  if (!out_) fail("cannot create file");
  begun_ = true;

  put_pod(kMagic);
  put_pod(kVersion);
  put_pod<std::uint64_t>(tensors_.size());
  put_pod<std::uint64_t>(kv_.size());
  for (const auto& [k, v] : kv_) {
    put_string(k);
    put_pod(static_cast<std::uint32_t>(v.type));
    put_value(v);
  }
  for (const WriterTensor& t : tensors_) {
    put_string(t.name);
    put_pod(static_cast<std::uint32_t>(t.ne.size()));
    for (std::uint64_t d : t.ne) put_pod(d);
    put_pod(static_cast<std::uint32_t>(t.type));
    put_pod(t.offset);
  }
  pad_to_alignment();
  data_start_ = pos_;
  if (data_start_ != header_bytes()) fail("internal: header size mismatch");
}

void Writer::write_data(std::span<const std::byte> bytes) {
  if (!begun_ || finished_) fail("write_data() outside begin()/finish()");
  while (!bytes.empty()) {
    if (cur_ >= tensors_.size())
      fail("write_data(): " + std::to_string(bytes.size()) + " bytes past the last tensor");
    const WriterTensor& t = tensors_[cur_];
    if (cur_written_ == 0) {
      const std::uint64_t target = data_start_ + t.offset;
      if (pos_ != target) {  // after skipped tensors: leave a hole
        out_.seekp(static_cast<std::streamoff>(target));
        if (!out_) fail("seek failed before tensor '" + t.name + "'");
        pos_ = target;
      }
    }
    const std::uint64_t n = std::min<std::uint64_t>(bytes.size(), t.n_bytes - cur_written_);
    put(bytes.data(), static_cast<std::size_t>(n));
    bytes = bytes.subspan(static_cast<std::size_t>(n));
    cur_written_ += n;
    if (cur_written_ == t.n_bytes) {
      pad_to_alignment();
      ++cur_;
      cur_written_ = 0;
    }
  }
}

void Writer::skip_tensor() {
  if (!begun_ || finished_) fail("skip_tensor() outside begin()/finish()");
  if (cur_ >= tensors_.size()) fail("skip_tensor(): no tensor left");
  if (cur_written_ != 0) fail("skip_tensor(): tensor '" + tensors_[cur_].name + "' is partly written");
  ++cur_;
}

void Writer::finish() {
  if (!begun_ || finished_) fail("finish() without begin()");
  if (cur_ != tensors_.size())
    fail("finish(): tensor '" + tensors_[cur_].name + "' (" + std::to_string(cur_) + " of " +
         std::to_string(tensors_.size()) + ") was not written");
  finished_ = true;
  out_.flush();
  if (!out_) fail("flush failed");
  out_.close();
  const std::uint64_t want = data_start_ + data_bytes_;
  std::error_code ec;
  const std::uint64_t have = std::filesystem::file_size(path_, ec);
  if (ec) fail("cannot stat the written file: " + ec.message());
  if (have < want) {  // trailing skipped tensors: extend with a hole
    std::filesystem::resize_file(path_, want, ec);
    if (ec) fail("cannot extend the file to " + std::to_string(want) + " bytes: " + ec.message());
  } else if (have != want) {
    fail("internal: file is " + std::to_string(have) + " bytes, expected " + std::to_string(want));
  }
}

}  // namespace tessera::gguf
