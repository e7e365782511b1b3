// A tiny in-test GGUF byte builder: writes headers, metadata and tensors byte by byte (no
// dependency on the factory), remembers where every length/count field sits so fuzz tests can
// corrupt them, and writes the bytes to self-deleting temp files.
#pragma once
#include <fcntl.h>
#ifdef _WIN32
#include <io.h>
#include <process.h>
#include <sys/stat.h>
#else
#include <unistd.h>
#endif

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tessera::test {

// Little-endian byte sink.
class Bytes {
 public:
  template <class T>
  void put(T v) {
    char b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    s_.append(b, sizeof(T));
  }
  void u8(std::uint8_t v) { put(v); }
  void u32(std::uint32_t v) { put(v); }
  void u64(std::uint64_t v) { put(v); }
  // A u64 length/count whose position is recorded in `fields` (when given).
  void count(std::uint64_t v, std::vector<std::size_t>* fields) {
    if (fields) fields->push_back(s_.size());
    u64(v);
  }
  void str(std::string_view v, std::vector<std::size_t>* fields = nullptr) {
    count(v.size(), fields);
    s_.append(v);
  }
  void raw(std::string_view v) { s_.append(v); }
  void zeros(std::size_t n) { s_.append(n, '\0'); }
  std::size_t size() const { return s_.size(); }
  std::string& str_ref() { return s_; }
  const std::string& data() const { return s_; }

 private:
  std::string s_;
};

// GGUF value type ids (gguf::ValueType), spelled out so the tests do not lean on the reader.
enum : std::uint32_t { kU8 = 0, kI8, kU16, kI16, kU32, kI32, kF32, kBool, kString, kArray, kU64, kI64, kF64 };

class GgufBuilder {
 public:
  std::uint32_t version = 3;
  std::uint64_t alignment = 32;        // used to lay out tensor data (set general.alignment yourself)
  std::vector<std::size_t> len_fields;  // byte offsets of every u64 length/count field (after build())
  std::uint64_t file_size = 0;          // full size after build(), including sized tensors' zeros

  // ---- metadata: each call appends one key/value in order ----
  // `payload` is written verbatim after the type (for arrays: element type, count and items).
  GgufBuilder& kv_raw(std::string_view key, std::uint32_t type, const std::string& payload) {
    kvs_.push_back({std::string(key), type, payload, {}});
    return *this;
  }
  template <class T>
  GgufBuilder& kv_scalar(std::string_view key, std::uint32_t type, T v) {
    Bytes b;
    b.put(v);
    return kv_raw(key, type, b.data());
  }
  GgufBuilder& kv_u32(std::string_view key, std::uint32_t v) { return kv_scalar(key, kU32, v); }
  GgufBuilder& kv_i32(std::string_view key, std::int32_t v) { return kv_scalar(key, kI32, v); }
  GgufBuilder& kv_u64(std::string_view key, std::uint64_t v) { return kv_scalar(key, kU64, v); }
  GgufBuilder& kv_f32(std::string_view key, float v) { return kv_scalar(key, kF32, v); }
  GgufBuilder& kv_bool(std::string_view key, bool v) { return kv_scalar(key, kBool, std::uint8_t{v}); }
  // Drops every key/value named `key` (to build files with a key missing or replaced).
  GgufBuilder& remove(std::string_view key) {
    std::erase_if(kvs_, [&](const Kv& kv) { return kv.key == key; });
    return *this;
  }
  GgufBuilder& kv_str(std::string_view key, std::string_view v) {
    kvs_.push_back({std::string(key), kString, {}, {std::string(v)}});
    kvs_.back().is_string = true;
    return *this;
  }
  // Array of a fixed-size element type: elements given as raw values of type T.
  template <class T>
  GgufBuilder& kv_array(std::string_view key, std::uint32_t elem_type, std::initializer_list<T> items) {
    return kv_array(key, elem_type, std::vector<T>(items));
  }
  template <class T>
  GgufBuilder& kv_array(std::string_view key, std::uint32_t elem_type, const std::vector<T>& items) {
    Kv kv{std::string(key), kArray, {}, {}};
    kv.array_elem = elem_type;
    kv.array_count = items.size();
    kv.is_array = true;
    Bytes b;
    for (const T& x : items) b.put(x);
    kv.payload = b.data();
    kvs_.push_back(std::move(kv));
    return *this;
  }
  GgufBuilder& kv_bool_array(std::string_view key, const std::vector<bool>& items) {
    std::vector<std::uint8_t> v(items.begin(), items.end());
    return kv_array(key, kBool, v);
  }
  GgufBuilder& kv_str_array(std::string_view key, const std::vector<std::string>& items) {
    Kv kv{std::string(key), kArray, {}, items};
    kv.array_elem = kString;
    kv.array_count = items.size();
    kv.is_array = true;
    kv.is_string = true;
    kvs_.push_back(std::move(kv));
    return *this;
  }

  // ---- tensors: data is laid out at aligned offsets in call order ----
  GgufBuilder& tensor(std::string_view name, std::uint32_t type_id, std::vector<std::uint64_t> ne, std::string data) {
    tensors_.push_back({std::string(name), type_id, std::move(ne), std::move(data), std::nullopt, 0});
    return *this;
  }
  // A tensor of `n_bytes` zero bytes that build() does not materialise: write the file with
  // TempFile::write(bytes, file_size) to get a sparse file. Must come after all real tensors.
  GgufBuilder& tensor_sized(std::string_view name, std::uint32_t type_id, std::vector<std::uint64_t> ne,
                            std::uint64_t n_bytes) {
    tensors_.push_back({std::string(name), type_id, std::move(ne), {}, std::nullopt, n_bytes});
    return *this;
  }
  // Overrides the offset written for the last tensor (data still laid out normally).
  GgufBuilder& offset_override(std::uint64_t off) {
    tensors_.back().offset_override = off;
    return *this;
  }

  std::string build() {
    len_fields.clear();
    Bytes b;
    b.u32(0x46554747);
    b.u32(version);
    b.count(tensors_.size(), &len_fields);
    b.count(kvs_.size(), &len_fields);
    for (const Kv& kv : kvs_) {
      b.str(kv.key, &len_fields);
      b.u32(kv.type);
      if (kv.is_array) {
        b.u32(kv.array_elem);
        b.count(kv.array_count, &len_fields);
      }
      if (kv.is_string) {
        for (const std::string& s : kv.strings) b.str(s, &len_fields);
      } else {
        b.raw(kv.payload);
      }
    }
    std::uint64_t off = 0;
    std::vector<std::uint64_t> offsets;
    for (const T& t : tensors_) {
      offsets.push_back(off);
      off += (t.size() + alignment - 1) / alignment * alignment;
    }
    for (std::size_t i = 0; i < tensors_.size(); ++i) {
      const T& t = tensors_[i];
      b.str(t.name, &len_fields);
      b.u32(static_cast<std::uint32_t>(t.ne.size()));
      for (const std::uint64_t d : t.ne) b.count(d, &len_fields);
      b.u32(t.type);
      b.count(t.offset_override.value_or(offsets[i]), &len_fields);
    }
    if (!tensors_.empty()) b.zeros((alignment - b.size() % alignment) % alignment);
    file_size = b.size() + off;
    for (const T& t : tensors_) {
      if (t.sized) break;  // sized tensors come last and stay sparse
      b.raw(t.data);
      b.zeros((alignment - t.data.size() % alignment) % alignment);
    }
    return b.data();
  }

 private:
  struct Kv {
    std::string key;
    std::uint32_t type;
    std::string payload;               // encoded value(s) for non-strings
    std::vector<std::string> strings;  // string value or string array items
    std::uint32_t array_elem = 0;
    std::uint64_t array_count = 0;
    bool is_string = false;
    bool is_array = false;  // element type and count are written from array_elem / array_count
  };
  struct T {
    std::string name;
    std::uint32_t type;
    std::vector<std::uint64_t> ne;
    std::string data;
    std::optional<std::uint64_t> offset_override;
    std::uint64_t sized = 0;  // n_bytes of a tensor_sized() tensor, else 0
    std::uint64_t size() const { return sized ? sized : data.size(); }
  };
  std::vector<Kv> kvs_;
  std::vector<T> tensors_;
};

// A file in the temp directory, removed when this goes out of scope.
class TempFile {
 public:
  explicit TempFile(std::string_view tag) {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("tessera_test_" + std::to_string(process_id()) + "_" + std::to_string(counter++) + "_" + std::string(tag) +
             ".gguf");
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  ~TempFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  // Writes `bytes`, then extends the file with a sparse run of zeros up to `size`.
  // The file is overwritten in place and then cut to length (no truncate-to-zero, which makes
  // ext4 flush on close and slows the fuzz test's hundreds of rewrites down to seconds).
  const std::filesystem::path& write(const std::string& bytes, std::uint64_t size = 0) const {
    const std::uint64_t length = std::max<std::uint64_t>(size, bytes.size());
#ifdef _WIN32
    const int fd = ::_wopen(path_.c_str(), _O_WRONLY | _O_CREAT | _O_BINARY | _O_NOINHERIT, _S_IREAD | _S_IWRITE);
    if (fd < 0) throw std::runtime_error("cannot create " + path_.string());
    std::size_t done = 0;
    while (done < bytes.size()) {
      const int n = ::_write(fd, bytes.data() + done, static_cast<unsigned>(std::min<std::size_t>(bytes.size() - done, 1u << 30)));
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    const bool ok = done == bytes.size() && ::_chsize_s(fd, static_cast<long long>(length)) == 0;
    ::_close(fd);
#else
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot create " + path_.string());
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ::ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    const bool ok = done == bytes.size() && ::ftruncate(fd, static_cast<::off_t>(length)) == 0;
    ::close(fd);
#endif
    if (!ok) throw std::runtime_error("cannot write " + path_.string());
    return path_;
  }

 private:
#ifdef _WIN32
  static int process_id() { return ::_getpid(); }
#else
  static int process_id() { return static_cast<int>(::getpid()); }
#endif
  std::filesystem::path path_;
};

// Raw bytes of a value (e.g. f16 bits) as a std::string, for tensor data.
template <class V>
std::string bytes_of(const std::vector<V>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(V));
}

}  // namespace tessera::test
