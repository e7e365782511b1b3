// GGUF reader: a valid file of every value type, v2/v3, and one test per kind of malformed input,
// each checking that the error names the file and what is wrong.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "engine/error.h"
#include "gguf/gguf_builder.h"
#include "runtime/gguf/gguf.h"

namespace tessera::gguf {
namespace {

using test::GgufBuilder;
using test::TempFile;

// Opens `bytes` and returns the error message (fails the test when it opens).
std::string open_error(const std::string& bytes) {
  TempFile tmp("err");
  tmp.write(bytes);
  try {
    File::open(tmp.path());
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("[gguf] " + tmp.path().string() + ": "), std::string::npos) << msg;
    return msg;
  }
  ADD_FAILURE() << "file opened although it is malformed";
  return {};
}

#define EXPECT_HAS(haystack, needle) EXPECT_NE((haystack).find(needle), std::string::npos) << (haystack)

// Three small tensors: F32 [4, 2], Q8_0 [32], F16 [8].
GgufBuilder small_model() {
  GgufBuilder b;
  b.kv_str("general.architecture", "test");
  b.kv_u32("test.block_count", 2);
  std::string f32(32, '\0');
  for (int i = 0; i < 8; ++i) {
    const float v = static_cast<float>(i) + 0.5f;
    std::memcpy(f32.data() + 4 * i, &v, 4);
  }
  std::string q8(34, '\x01');
  std::string f16(16, '\x3c');
  b.tensor("a.weight", 0, {4, 2}, f32).tensor("b.weight", 8, {32}, q8).tensor("c.weight", 1, {8}, f16);
  return b;
}

TEST(GgufReader, ReadsEveryValueType) {
  GgufBuilder b;
  b.kv_scalar("t.u8", test::kU8, std::uint8_t{200})
      .kv_scalar("t.i8", test::kI8, std::int8_t{-100})
      .kv_scalar("t.u16", test::kU16, std::uint16_t{60000})
      .kv_scalar("t.i16", test::kI16, std::int16_t{-30000})
      .kv_u32("t.u32", 4000000000u)
      .kv_i32("t.i32", -2000000000)
      .kv_f32("t.f32", 0.25f)
      .kv_bool("t.bool", true)
      .kv_str("t.string", "hello")
      .kv_u64("t.u64", 0xffffffffffffffffull)
      .kv_scalar("t.i64", test::kI64, std::int64_t{-5})
      .kv_scalar("t.f64", test::kF64, 1e300)
      .kv_array<std::int32_t>("t.arr_i32", test::kI32, {1, -2, 3})
      .kv_array<float>("t.arr_f32", test::kF32, {1.5f, 2.5f})
      .kv_array<double>("t.arr_f64", test::kF64, {3.25})
      .kv_array<std::uint8_t>("t.arr_u8", test::kU8, {})
      .kv_bool_array("t.arr_bool", {true, false, true})
      .kv_str_array("t.arr_str", {"a", "", "ccc"});
  TempFile tmp("types");
  const File f = File::open(tmp.write(b.build()));
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.metadata().size(), 18u);
  EXPECT_EQ(f.metadata()[0].first, "t.u8");
  EXPECT_EQ(f.get_uint("t.u8"), 200u);
  EXPECT_EQ(f.get_int("t.i8"), -100);
  EXPECT_EQ(f.get_uint("t.u16"), 60000u);
  EXPECT_EQ(f.get_int("t.i16"), -30000);
  EXPECT_EQ(f.get_uint("t.u32"), 4000000000u);
  EXPECT_EQ(f.get_int("t.u32"), 4000000000);
  EXPECT_EQ(f.get_int("t.i32"), -2000000000);
  EXPECT_EQ(f.get_float("t.f32"), 0.25);
  EXPECT_TRUE(f.get_bool("t.bool"));
  EXPECT_EQ(f.get_string("t.string"), "hello");
  EXPECT_EQ(f.get_uint("t.u64"), 0xffffffffffffffffull);
  EXPECT_EQ(f.get_int("t.i64"), -5);
  EXPECT_EQ(f.get_float("t.f64"), 1e300);
  EXPECT_EQ(f.get_int_array("t.arr_i32"), (std::vector<std::int64_t>{1, -2, 3}));
  EXPECT_EQ(f.get_float_array("t.arr_f32"), (std::vector<double>{1.5, 2.5}));
  EXPECT_EQ(f.get_float_array("t.arr_f64"), (std::vector<double>{3.25}));
  EXPECT_TRUE(f.get_int_array("t.arr_u8").empty());
  EXPECT_EQ(f.get_bool_array("t.arr_bool"), (std::vector<bool>{true, false, true}));
  EXPECT_EQ(f.get_string_array("t.arr_str"), (std::vector<std::string>{"a", "", "ccc"}));
  EXPECT_EQ(f.find("t.arr_str")->array_size(), 3u);
  EXPECT_EQ(describe_type(*f.find("t.arr_str")), "array[string; 3]");
  EXPECT_EQ(describe_type(*f.find("t.u32")), "u32");
  EXPECT_EQ(f.find("missing"), nullptr);
  EXPECT_TRUE(f.tensors().empty());
  EXPECT_EQ(f.architecture(), "");
}

TEST(GgufReader, GetterErrorsNameFileAndKey) {
  GgufBuilder b;
  b.kv_i32("k.neg", -1).kv_u64("k.big", 1ull << 63).kv_f32("k.f", 1.0f).kv_array<std::uint64_t>("k.arr", test::kU64, {1ull << 63});
  TempFile tmp("getters");
  const File f = File::open(tmp.write(b.build()));
  auto msg = [](auto&& fn) -> std::string {
    try {
      fn();
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_HAS(msg([&] { f.get_uint("k.neg"); }), "key 'k.neg' is -1");
  EXPECT_HAS(msg([&] { f.get_int("k.big"); }), "too large");
  EXPECT_HAS(msg([&] { f.get_uint("k.f"); }), "key 'k.f' is f32, expected an integer");
  EXPECT_HAS(msg([&] { f.get_string("nope"); }), "key 'nope' not found");
  EXPECT_HAS(msg([&] { f.get_bool_array("k.arr"); }), "array[u64; 1], expected an array of bools");
  EXPECT_HAS(msg([&] { f.get_int_array("k.arr"); }), "too large");
  EXPECT_HAS(msg([&] { f.tensor("x.weight"); }), "tensor 'x.weight' not found");
  EXPECT_HAS(msg([&] { f.get_uint("k.neg"); }), tmp.path().string());
}

TEST(GgufReader, TensorsAreMappedInPlace) {
  GgufBuilder b = small_model();
  TempFile tmp("tensors");
  const File f = File::open(tmp.write(b.build()));
  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.architecture(), "test");
  EXPECT_EQ(f.data_offset() % 32, 0u);
  const TensorInfo& a = f.tensor("a.weight");
  EXPECT_EQ(a.type, DType::F32);
  EXPECT_EQ(a.shape_string(), "[4, 2]");
  EXPECT_EQ(a.n_elements, 8u);
  EXPECT_EQ(a.rows(), 2u);
  EXPECT_EQ(a.n_bytes, 32u);
  EXPECT_EQ(a.offset, 0u);
  const TensorInfo& q = f.tensor("b.weight");
  EXPECT_EQ(q.type, DType::Q8_0);
  EXPECT_EQ(q.n_bytes, 34u);
  EXPECT_EQ(q.offset, 32u);
  EXPECT_EQ(f.tensor("c.weight").offset, 96u);
  const auto data = f.data(a);
  EXPECT_EQ(data.data(), f.mapping().bytes().data() + f.data_offset());  // no copy
  float v;
  std::memcpy(&v, data.data() + 12, 4);
  EXPECT_EQ(v, 3.5f);
  EXPECT_EQ(f.file_size(), f.data_offset() + 96 + 32);
}

TEST(GgufReader, AcceptsVersion2AndCustomAlignment) {
  GgufBuilder b = small_model();
  b.version = 2;
  b.alignment = 64;
  b.kv_u32("general.alignment", 64);
  TempFile tmp("v2");
  const File f = File::open(tmp.write(b.build()));
  EXPECT_EQ(f.version(), 2u);
  EXPECT_EQ(f.alignment(), 64u);
  EXPECT_EQ(f.data_offset() % 64, 0u);
  EXPECT_EQ(f.tensor("b.weight").offset, 64u);
}

TEST(GgufReader, RejectsBadHeaders) {
  EXPECT_HAS(open_error(""), "file is 0 bytes, too small");
  EXPECT_HAS(open_error("GGU"), "file is 3 bytes, too small");
  EXPECT_HAS(open_error("GGML1234567890123456789012"), "bad magic 0x4c4d4747");
  std::string full = small_model().build();
  EXPECT_HAS(open_error(full.substr(0, 6)), "truncated header: version needs 4 bytes at offset 4 but only 2 remain");
  EXPECT_HAS(open_error(full.substr(0, 20)), "truncated header: metadata count needs 8 bytes");
  GgufBuilder v1 = small_model();
  v1.version = 1;
  EXPECT_HAS(open_error(v1.build()), "GGUF version 1 (32-bit counts) is not supported");
  GgufBuilder v4 = small_model();
  v4.version = 4;
  EXPECT_HAS(open_error(v4.build()), "unsupported GGUF version 4");
  GgufBuilder be = small_model();
  be.version = 0x03000000;
  EXPECT_HAS(open_error(be.build()), "big-endian");
}

TEST(GgufReader, RejectsTruncatedTensorData) {
  const std::string full = small_model().build();
  // Cut into c.weight's 16 data bytes (it starts 96 bytes into the data section).
  const std::string cut = full.substr(0, full.size() - 32 + 10);
  const std::string msg = open_error(cut);
  EXPECT_HAS(msg, "tensor 'c.weight' F16 [8] needs 16 bytes at data offset 96");
  EXPECT_HAS(msg, "only 10 bytes are available");
  // Data section cut off entirely: the first tensor is named.
  EXPECT_HAS(open_error(full.substr(0, full.size() - 128)), "tensor 'a.weight' F32 [4, 2] needs 32 bytes");
}

TEST(GgufReader, RejectsBadAlignment) {
  for (std::uint32_t a : {0u, 48u}) {
    GgufBuilder b = small_model();
    b.kv_u32("general.alignment", a);
    EXPECT_HAS(open_error(b.build()), "general.alignment is " + std::to_string(a) + ": must be a power of two");
  }
  GgufBuilder s = small_model();
  s.kv_str("general.alignment", "32");
  EXPECT_HAS(open_error(s.build()), "general.alignment is string, expected an unsigned integer");
  GgufBuilder b = small_model();
  b.offset_override(100);
  EXPECT_HAS(open_error(b.build()), "tensor 'c.weight' offset 100 is not a multiple of the alignment 32");
}

TEST(GgufReader, RejectsUnknownAndUnsupportedTypes) {
  const std::pair<std::uint32_t, std::string> cases[] = {
      {10, "unsupported type Q2_K (id 10)"},  {11, "unsupported type Q3_K (id 11)"},
      {16, "unsupported type IQ2_XXS (id 16)"}, {23, "unsupported type IQ4_XS (id 23)"},
      {7, "unsupported type Q5_1 (id 7)"},    {99, "unknown type id 99"},
      {4, "unknown type id 4"}};
  for (const auto& [id, text] : cases) {
    GgufBuilder b;
    b.tensor("x.weight", id, {256}, std::string(1024, '\0'));
    const std::string msg = open_error(b.build());
    EXPECT_HAS(msg, "tensor 'x.weight' has " + text);
  }
}

TEST(GgufReader, RejectsBadShapes) {
  struct Case {
    std::uint32_t type;
    std::vector<std::uint64_t> ne;
    std::string text;
  };
  const Case cases[] = {
      {0, {}, "tensor 'x' has 0 dimensions (must be 1..4)"},
      {0, {1, 1, 1, 1, 1}, "tensor 'x' has 5 dimensions"},
      {0, {4, 0}, "tensor 'x' has a zero-sized dimension ne[1]"},
      {0, {1ull << 32, 1ull << 32}, "tensor 'x' shape overflows"},
      {0, {1ull << 63}, "tensor 'x' shape overflows"},
      {12, {100, 2}, "tensor 'x' [100, 2] Q4_K: ne[0] = 100 is not a multiple of the block size 256"},
      {2, {33}, "ne[0] = 33 is not a multiple of the block size 32"},
  };
  for (const Case& c : cases) {
    GgufBuilder b;
    b.tensor("x", c.type, c.ne, std::string(64, '\0'));
    EXPECT_HAS(open_error(b.build()), c.text);
  }
}

TEST(GgufReader, RejectsLengthsPastTheEnd) {
  {  // key length far past the end
    std::string s = small_model().build();
    GgufBuilder b = small_model();
    b.build();
    const std::uint64_t huge = 1ull << 40;
    std::memcpy(s.data() + b.len_fields[2], &huge, 8);  // first key's length
    EXPECT_HAS(open_error(s), "metadata key #0: string length 1099511627776 at offset 24 runs past the end");
  }
  {  // string value length
    GgufBuilder b;
    b.kv_str("k", "abc");
    std::string s = b.build();
    const std::uint64_t huge = 1000;
    std::memcpy(s.data() + b.len_fields[3], &huge, 8);
    EXPECT_HAS(open_error(s), "metadata 'k': string length 1000");
  }
  {  // array count
    GgufBuilder b;
    b.kv_array<std::int32_t>("arr", test::kI32, {1, 2});
    std::string s = b.build();
    const std::uint64_t huge = 1ull << 62;
    std::memcpy(s.data() + b.len_fields[3], &huge, 8);
    EXPECT_HAS(open_error(s), "metadata 'arr': array of 4611686018427387904 i32 elements cannot fit in the 8 bytes that remain");
  }
  {  // string array count
    GgufBuilder b;
    b.kv_str_array("arr", {"x"});
    std::string s = b.build();
    const std::uint64_t huge = 3;
    std::memcpy(s.data() + b.len_fields[3], &huge, 8);
    EXPECT_HAS(open_error(s), "array of 3 string elements cannot fit in the 9 bytes that remain");
  }
}

TEST(GgufReader, RejectsAbsurdCounts) {
  for (int field : {0, 1}) {
    std::string s = small_model().build();
    const std::uint64_t huge = 1ull << 60;
    std::memcpy(s.data() + 8 + 8 * field, &huge, 8);
    EXPECT_HAS(open_error(s), field == 0 ? "tensor count 1152921504606846976 cannot fit"
                                         : "metadata count 1152921504606846976 cannot fit");
  }
}

TEST(GgufReader, RejectsDuplicatesAndBadValues) {
  GgufBuilder dk;
  dk.kv_u32("a", 1).kv_u32("b", 2).kv_u32("a", 3);
  EXPECT_HAS(open_error(dk.build()), "duplicate metadata key 'a'");
  GgufBuilder dt = small_model();
  dt.tensor("a.weight", 0, {8}, std::string(32, '\0'));
  EXPECT_HAS(open_error(dt.build()), "duplicate tensor name 'a.weight'");
  GgufBuilder nested;
  test::Bytes p;
  p.u32(test::kArray);
  p.u64(1);
  nested.kv_raw("n", test::kArray, p.data());
  EXPECT_HAS(open_error(nested.build()), "metadata 'n': nested arrays are not supported");
  GgufBuilder ut;
  ut.kv_raw("u", 13, "\x01");
  EXPECT_HAS(open_error(ut.build()), "metadata 'u' has unknown value type 13");
  GgufBuilder ue;
  test::Bytes q;
  q.u32(77);
  q.u64(0);
  ue.kv_raw("ue", test::kArray, q.data());
  EXPECT_HAS(open_error(ue.build()), "unknown array element type 77");
  GgufBuilder bb;
  bb.kv_scalar("flag", test::kBool, std::uint8_t{2});
  EXPECT_HAS(open_error(bb.build()), "metadata 'flag': invalid bool value 2");
  GgufBuilder ek;
  ek.kv_u32("", 1);
  EXPECT_HAS(open_error(ek.build()), "metadata key #0 is empty");
  GgufBuilder en;
  en.tensor("", 0, {1}, std::string(4, '\0'));
  EXPECT_HAS(open_error(en.build()), "tensor info #0 has an empty name");
}

TEST(GgufReader, RejectsOverlappingTensors) {
  GgufBuilder b = small_model();
  b.offset_override(32);  // c.weight on top of b.weight
  EXPECT_HAS(open_error(b.build()), "tensors 'b.weight' [32, 66) and 'c.weight' [32, 48) overlap");
}

TEST(GgufReader, FromBytes) {
  const std::string s = small_model().build();
  const auto* p = reinterpret_cast<const std::byte*>(s.data());
  const File f = File::from_bytes(std::vector<std::byte>(p, p + s.size()), "mem.gguf");
  EXPECT_EQ(f.path(), "mem.gguf");
  EXPECT_EQ(f.file_size(), s.size());
  EXPECT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.data(f.tensor("b.weight"))[0], std::byte{1});
  try {
    File::from_bytes(std::vector<std::byte>(p, p + 7), "mem.gguf");
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_HAS(std::string(e.what()), "[gguf] mem.gguf: truncated header: version");
  }
}

TEST(GgufReader, MissingFileIsAnError) {
  EXPECT_THROW(File::open("/nonexistent/dir/model.gguf"), Error);
}

TEST(GgufFormat, SummarizesValues) {
  GgufBuilder b;
  std::vector<std::string> toks;
  for (int i = 0; i < 100; ++i) toks.push_back("t" + std::to_string(i));
  b.kv_str_array("toks", toks)
      .kv_str("tmpl", std::string(200, 'x') + "\n")
      .kv_str("esc", "a\"b\\c\n\x01")
      .kv_f32("f", 0.1f)
      .kv_scalar("d", test::kF64, 0.1)
      .kv_array<float>("fs", test::kF32, {1e-6f, 30.0f})
      .kv_bool_array("bools", {true, false})
      .kv_array<std::int8_t>("i8s", test::kI8, {-1, 2});
  TempFile tmp("fmt");
  const File f = File::open(tmp.write(b.build()));
  EXPECT_EQ(format_value(*f.find("toks"), 3), "[\"t0\", \"t1\", \"t2\", ...] (100 items)");
  EXPECT_EQ(format_value(*f.find("tmpl"), 3, 4), "\"xxxx\"... (201 bytes)");
  EXPECT_EQ(format_value(*f.find("esc")), "\"a\\\"b\\\\c\\n\\x01\"");
  EXPECT_EQ(format_value(*f.find("f")), "0.1");
  EXPECT_EQ(format_value(*f.find("d")), "0.1");
  EXPECT_EQ(format_value(*f.find("fs")), "[1e-06, 30]");
  EXPECT_EQ(format_value(*f.find("bools")), "[true, false]");
  EXPECT_EQ(format_value(*f.find("i8s")), "[-1, 2]");
  EXPECT_EQ(ggml_type_name(10), "Q2_K");
  EXPECT_EQ(ggml_type_name(30), "BF16");
  EXPECT_EQ(ggml_type_name(5), "");
  EXPECT_EQ(ggml_type_name(1000), "");
}

}  // namespace
}  // namespace tessera::gguf
