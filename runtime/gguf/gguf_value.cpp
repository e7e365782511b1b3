// GGUF metadata values: type names, typed getters with errors naming file and key, and the
// human-readable formatting used by `tessera info`.
#include <algorithm>
#include <charconv>
#include <cstdio>
#include <limits>
#include <type_traits>

#include "engine/error.h"
#include "runtime/gguf/gguf.h"
#include "engine/platform/console.h"

namespace tessera::gguf {

std::string_view value_type_name(ValueType t) {
  switch (t) {
    case ValueType::U8: return "u8";
    case ValueType::I8: return "i8";
    case ValueType::U16: return "u16";
    case ValueType::I16: return "i16";
    case ValueType::U32: return "u32";
    case ValueType::I32: return "i32";
    case ValueType::F32: return "f32";
    case ValueType::BOOL: return "bool";
    case ValueType::STRING: return "string";
    case ValueType::ARRAY: return "array";
    case ValueType::U64: return "u64";
    case ValueType::I64: return "i64";
    case ValueType::F64: return "f64";
  }
  return "?";
}

std::string_view ggml_type_name(std::uint32_t id) {
  // GGML type ids; the gaps (4, 5, 31-33, 36-38) were removed from GGML and never appear in files.
  static constexpr std::string_view kNames[] = {
      "F32",    "F16",     "Q4_0",    "Q4_1",   "",        "",       "Q5_0",       "Q5_1",       "Q8_0",
      "Q8_1",   "Q2_K",    "Q3_K",    "Q4_K",   "Q5_K",    "Q6_K",   "Q8_K",       "IQ2_XXS",    "IQ2_XS",
      "IQ3_XXS", "IQ1_S",  "IQ4_NL",  "IQ3_S",  "IQ2_S",   "IQ4_XS", "I8",         "I16",        "I32",
      "I64",    "F64",     "IQ1_M",   "BF16",   "Q4_0_4_4", "Q4_0_4_8", "Q4_0_8_8", "TQ1_0",      "TQ2_0",
      "IQ4_NL_4_4", "IQ4_NL_4_8", "IQ4_NL_8_8", "MXFP4", "NVFP4", "Q1_0"};
  return id < std::size(kNames) ? kNames[id] : std::string_view{};
}

bool Value::is_integer() const {
  switch (type) {
    case ValueType::U8: case ValueType::I8: case ValueType::U16: case ValueType::I16:
    case ValueType::U32: case ValueType::I32: case ValueType::U64: case ValueType::I64:
      return true;
    default:
      return false;
  }
}

std::size_t Value::array_size() const {
  const auto* a = std::get_if<Array>(&data);
  return a ? std::visit([](const auto& v) { return v.size(); }, *a) : 0;
}

std::string describe_type(const Value& v) {
  if (!v.is_array()) return std::string(value_type_name(v.type));
  return "array[" + std::string(value_type_name(v.array_type)) + "; " + std::to_string(v.array_size()) + "]";
}

namespace {

std::string quote(std::string_view s, std::size_t max_bytes) {
  std::string out = "\"";
  const std::size_t n = std::min(s.size(), max_bytes);
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  if (s.size() > max_bytes) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

// Shortest text that reads back to the same value ("1e-06" for the f32 nearest 1e-6).
template <class F>
std::string number(F v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

template <class T>
std::string item(const T& x, std::size_t max_string) {
  if constexpr (std::is_same_v<T, std::string>) return quote(x, max_string);
  else if constexpr (std::is_same_v<T, bool>) return x ? "true" : "false";
  else if constexpr (std::is_floating_point_v<T>) return number(x);
  else return std::to_string(x);
}

}  // namespace

std::string format_value(const Value& v, std::size_t max_items, std::size_t max_string) {
  if (const auto* a = std::get_if<Value::Array>(&v.data)) {
    return std::visit(
        [&](const auto& vec) {
          std::string s = "[";
          const std::size_t n = std::min(vec.size(), max_items);
          for (std::size_t i = 0; i < n; ++i) {
            if (i) s += ", ";
            s += item(static_cast<typename std::decay_t<decltype(vec)>::value_type>(vec[i]), max_string);
          }
          if (vec.size() > n) s += n ? ", ..." : "...";
          s += "]";
          if (vec.size() > n) s += " (" + std::to_string(vec.size()) + " items)";
          return s;
        },
        *a);
  }
  if (v.type == ValueType::F32) return number(static_cast<float>(std::get<double>(v.data)));
  return std::visit(
      [&](const auto& x) -> std::string {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, Value::Array>) return "";
        else return item(x, max_string);
      },
      v.data);
}

// ---- File metadata lookups ----

const Value* File::find(std::string_view key) const {
  const auto it = kv_index_.find(std::string(key));
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

std::string File::architecture() const {
  const Value* v = find("general.architecture");
  const auto* s = v ? std::get_if<std::string>(&v->data) : nullptr;
  return s ? *s : std::string();
}

namespace {

[[noreturn]] void key_error(const File& f, std::string_view key, const std::string& msg) {
  throw Error("[gguf] " + path_to_utf8(f.path()) + ": key '" + std::string(key) + "' " + msg);
}

const Value& require(const File& f, std::string_view key) {
  const Value* v = f.find(key);
  if (!v) key_error(f, key, "not found");
  return *v;
}

[[noreturn]] void wrong_type(const File& f, std::string_view key, const Value& v, std::string_view expected) {
  key_error(f, key, "is " + describe_type(v) + ", expected " + std::string(expected));
}

// Integer scalar as int64 or uint64, with a flag telling which.
struct Int {
  bool is_signed;
  std::int64_t s;
  std::uint64_t u;
};

Int scalar_int(const Value& v) {
  if (const auto* u = std::get_if<std::uint64_t>(&v.data)) return {false, 0, *u};
  const std::int64_t s = std::get<std::int64_t>(v.data);
  return {true, s, 0};
}

}  // namespace

std::string File::get_string(std::string_view key) const {
  const Value& v = require(*this, key);
  if (v.type != ValueType::STRING) wrong_type(*this, key, v, "a string");
  return std::get<std::string>(v.data);
}

std::uint64_t File::get_uint(std::string_view key) const {
  const Value& v = require(*this, key);
  if (!v.is_integer()) wrong_type(*this, key, v, "an integer");
  const Int i = scalar_int(v);
  if (i.is_signed && i.s < 0) key_error(*this, key, "is " + std::to_string(i.s) + ", expected a non-negative integer");
  return i.is_signed ? static_cast<std::uint64_t>(i.s) : i.u;
}

std::int64_t File::get_int(std::string_view key) const {
  const Value& v = require(*this, key);
  if (!v.is_integer()) wrong_type(*this, key, v, "an integer");
  const Int i = scalar_int(v);
  if (!i.is_signed && i.u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    key_error(*this, key, "is " + std::to_string(i.u) + ", too large for a signed 64-bit integer");
  return i.is_signed ? i.s : static_cast<std::int64_t>(i.u);
}

double File::get_float(std::string_view key) const {
  const Value& v = require(*this, key);
  if (v.type != ValueType::F32 && v.type != ValueType::F64) wrong_type(*this, key, v, "f32 or f64");
  return std::get<double>(v.data);
}

bool File::get_bool(std::string_view key) const {
  const Value& v = require(*this, key);
  if (v.type != ValueType::BOOL) wrong_type(*this, key, v, "bool");
  return std::get<bool>(v.data);
}

std::vector<std::int64_t> File::get_int_array(std::string_view key) const {
  const Value& v = require(*this, key);
  if (!v.is_array() || v.array_type == ValueType::F32 || v.array_type == ValueType::F64 ||
      v.array_type == ValueType::BOOL || v.array_type == ValueType::STRING)
    wrong_type(*this, key, v, "an array of integers");
  std::vector<std::int64_t> out;
  std::visit(
      [&](const auto& vec) {
        using T = typename std::decay_t<decltype(vec)>::value_type;
        if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
          out.reserve(vec.size());
          for (const T x : vec) {
            if constexpr (std::is_same_v<T, std::uint64_t>) {
              if (x > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
                key_error(*this, key, "holds " + std::to_string(x) + ", too large for a signed 64-bit integer");
            }
            out.push_back(static_cast<std::int64_t>(x));
          }
        }
      },
      std::get<Value::Array>(v.data));
  return out;
}

std::vector<double> File::get_float_array(std::string_view key) const {
  const Value& v = require(*this, key);
  if (!v.is_array() || (v.array_type != ValueType::F32 && v.array_type != ValueType::F64))
    wrong_type(*this, key, v, "an array of f32 or f64");
  const auto& a = std::get<Value::Array>(v.data);
  if (const auto* f = std::get_if<std::vector<float>>(&a)) return {f->begin(), f->end()};
  return std::get<std::vector<double>>(a);
}

std::vector<std::string> File::get_string_array(std::string_view key) const {
  const Value& v = require(*this, key);
  if (!v.is_array() || v.array_type != ValueType::STRING) wrong_type(*this, key, v, "an array of strings");
  return std::get<std::vector<std::string>>(std::get<Value::Array>(v.data));
}

std::vector<bool> File::get_bool_array(std::string_view key) const {
  const Value& v = require(*this, key);
  if (!v.is_array() || v.array_type != ValueType::BOOL) wrong_type(*this, key, v, "an array of bools");
  return std::get<std::vector<bool>>(std::get<Value::Array>(v.data));
}

}  // namespace tessera::gguf
