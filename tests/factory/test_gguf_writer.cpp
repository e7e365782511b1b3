// GGUF writer: every value type, tensor layout and alignment, chunked and skipped (sparse)
// tensor data, read back with the GGUF reader; misuse raises errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <vector>

#include "engine/error.h"
#include "factory/temp_dir.h"
#include "runtime/gguf/gguf.h"
#include "runtime/gguf/gguf_writer.h"

namespace tessera {
namespace {

using gguf::ValueType;

std::span<const std::byte> as_bytes(const std::vector<std::uint8_t>& v) {
  return std::as_bytes(std::span<const std::uint8_t>(v));
}

TEST(GgufWriter, MetadataOfEveryTypeRoundTrips) {
  test::TempDir dir;
  gguf::Writer w;
  w.set_u8("k.u8", 200);
  w.set_i8("k.i8", -100);
  w.set_u16("k.u16", 60000);
  w.set_i16("k.i16", -30000);
  w.set_u32("k.u32", 4000000000u);
  w.set_i32("k.i32", -2000000000);
  w.set_u64("k.u64", 1ull << 40);
  w.set_i64("k.i64", -(1ll << 40));
  w.set_f32("k.f32", 0.25f);
  w.set_f64("k.f64", 1e-300);
  w.set_bool("k.bool", true);
  w.set_string("k.str", "h\xC3\xA9llo\n");
  w.set_array("k.astr", std::vector<std::string>{"a", "", "\xE2\x96\x81the"});
  w.set_array("k.ai32", std::vector<std::int32_t>{8, 8, -1});
  w.set_array("k.au32", std::vector<std::uint32_t>{1, 2});
  w.set_array("k.ai64", std::vector<std::int64_t>{-5});
  w.set_array("k.af32", std::vector<float>{1.0f, -1000.0f});
  w.set_array("k.abool", std::vector<bool>{true, false, true});
  w.set_array("k.empty", std::vector<std::string>{});
  w.set_u32("k.u32", 7);  // a second set keeps the position, replaces the value
  w.begin(dir / "meta.gguf");
  w.finish();

  const gguf::File f = gguf::File::open(dir / "meta.gguf");
  EXPECT_EQ(f.version(), 3u);
  ASSERT_EQ(f.metadata().size(), 19u);
  EXPECT_EQ(f.metadata()[4].first, "k.u32");
  EXPECT_EQ(f.find("k.u8")->type, ValueType::U8);
  EXPECT_EQ(f.get_uint("k.u8"), 200u);
  EXPECT_EQ(f.get_int("k.i8"), -100);
  EXPECT_EQ(f.find("k.u16")->type, ValueType::U16);
  EXPECT_EQ(f.get_uint("k.u16"), 60000u);
  EXPECT_EQ(f.get_int("k.i16"), -30000);
  EXPECT_EQ(f.get_uint("k.u32"), 7u);
  EXPECT_EQ(f.get_int("k.i32"), -2000000000);
  EXPECT_EQ(f.get_uint("k.u64"), 1ull << 40);
  EXPECT_EQ(f.get_int("k.i64"), -(1ll << 40));
  EXPECT_EQ(f.find("k.f32")->type, ValueType::F32);
  EXPECT_EQ(f.get_float("k.f32"), 0.25);
  EXPECT_EQ(f.find("k.f64")->type, ValueType::F64);
  EXPECT_EQ(f.get_float("k.f64"), 1e-300);
  EXPECT_TRUE(f.get_bool("k.bool"));
  EXPECT_EQ(f.get_string("k.str"), "h\xC3\xA9llo\n");
  EXPECT_EQ(f.get_string_array("k.astr"), (std::vector<std::string>{"a", "", "\xE2\x96\x81the"}));
  EXPECT_EQ(f.find("k.ai32")->array_type, ValueType::I32);
  EXPECT_EQ(f.get_int_array("k.ai32"), (std::vector<std::int64_t>{8, 8, -1}));
  EXPECT_EQ(f.find("k.au32")->array_type, ValueType::U32);
  EXPECT_EQ(f.get_int_array("k.ai64"), (std::vector<std::int64_t>{-5}));
  EXPECT_EQ(f.get_float_array("k.af32"), (std::vector<double>{1.0, -1000.0}));
  EXPECT_EQ(f.get_bool_array("k.abool"), (std::vector<bool>{true, false, true}));
  EXPECT_TRUE(f.get_string_array("k.empty").empty());
  EXPECT_TRUE(f.tensors().empty());
}

TEST(GgufWriter, TensorsAreAlignedAndChunkedWritesConcatenate) {
  test::TempDir dir;
  for (std::uint32_t align : {32u, 64u, 256u}) {
    gguf::Writer w;
    if (align != 32) w.set_u32("general.alignment", align);
    w.add_tensor("a", DType::F32, {3});                // 12 bytes
    w.add_tensor("b", DType::Q8_0, {64, 2});           // 4 blocks of 34 bytes
    w.add_tensor("c", DType::F16, {5, 1, 1});          // 10 bytes
    w.add_tensor("d", DType::Q4_K, {256, 2, 1, 2});    // 4 blocks of 144 bytes
    const auto path = dir / ("t" + std::to_string(align) + ".gguf");
    w.begin(path);
    std::vector<std::uint8_t> a(12), b(136), c(10), d(576);
    std::iota(a.begin(), a.end(), 1);
    std::iota(b.begin(), b.end(), 50);
    std::iota(c.begin(), c.end(), 200);
    for (std::size_t i = 0; i < d.size(); ++i) d[i] = static_cast<std::uint8_t>(i * 7);
    w.write_data(as_bytes(a));
    w.write_data(as_bytes(b).subspan(0, 100));  // one tensor in two pieces
    w.write_data(as_bytes(b).subspan(100));
    std::vector<std::uint8_t> cd(c);            // two tensors in one call
    cd.insert(cd.end(), d.begin(), d.end());
    w.write_data(as_bytes(cd));
    EXPECT_EQ(w.current_tensor(), 4u);
    w.finish();

    const gguf::File f = gguf::File::open(path);
    EXPECT_EQ(f.alignment(), align);
    EXPECT_EQ(f.data_offset() % align, 0u);
    EXPECT_EQ(f.data_offset(), w.header_bytes());
    EXPECT_EQ(f.file_size(), w.file_size());
    ASSERT_EQ(f.tensors().size(), 4u);
    const std::vector<std::uint8_t>* want[] = {&a, &b, &c, &d};
    for (std::size_t i = 0; i < 4; ++i) {
      const gguf::TensorInfo& t = f.tensors()[i];
      EXPECT_EQ(t.name, w.tensors()[i].name);
      EXPECT_EQ(t.type, w.tensors()[i].type);
      EXPECT_EQ(t.ne, w.tensors()[i].ne);
      EXPECT_EQ(t.offset % align, 0u) << t.name;
      const std::span<const std::byte> got = f.data(t);
      ASSERT_EQ(got.size(), want[i]->size()) << t.name;
      EXPECT_EQ(0, std::memcmp(got.data(), want[i]->data(), got.size())) << t.name;
    }
    EXPECT_EQ(f.tensor("d").ne, (std::vector<std::uint64_t>{256, 2, 1, 2}));
  }
}

TEST(GgufWriter, SkippedTensorsReadAsZerosWithoutBeingWritten) {
  test::TempDir dir;
  gguf::Writer w;
  w.set_string("general.architecture", "test");
  w.add_tensor("big", DType::F32, {1024, 1024});  // 4 MiB, skipped
  w.add_tensor("small", DType::F32, {4});
  w.add_tensor("tail", DType::F16, {1 << 20});    // 2 MiB at the end, skipped
  w.begin(dir / "sparse.gguf");
  w.skip_tensor();
  const float vals[4] = {1, 2, 3, 4};
  w.write_data(std::as_bytes(std::span<const float>(vals)));
  w.skip_tensor();
  w.finish();

  const gguf::File f = gguf::File::open(dir / "sparse.gguf");
  EXPECT_EQ(f.file_size(), w.file_size());
  const auto big = f.data(f.tensor("big"));
  EXPECT_EQ(big.size(), 4u << 20);
  EXPECT_TRUE(std::all_of(big.begin(), big.end(), [](std::byte b) { return b == std::byte{0}; }));
  float got[4];
  std::memcpy(got, f.data(f.tensor("small")).data(), sizeof got);
  EXPECT_EQ(got[3], 4.0f);
  const auto tail = f.data(f.tensor("tail"));
  EXPECT_EQ(tail.size(), 2u << 20);
  EXPECT_EQ(tail.back(), std::byte{0});
}

TEST(GgufWriter, MisuseThrows) {
  test::TempDir dir;
  {
    gguf::Writer w;
    EXPECT_THROW(w.add_tensor("q", DType::Q4_K, {128, 2}), Error);  // row not a multiple of 256
    EXPECT_THROW(w.add_tensor("x", DType::F32, {}), Error);
    EXPECT_THROW(w.add_tensor("x", DType::F32, {1, 1, 1, 1, 1}), Error);
    w.add_tensor("t", DType::F32, {2});
    EXPECT_THROW(w.add_tensor("t", DType::F32, {2}), Error);  // duplicate name
    w.begin(dir / "m.gguf");
    EXPECT_THROW(w.set_u32("late", 1), Error);
    EXPECT_THROW(w.add_tensor("late", DType::F32, {1}), Error);
    const std::vector<std::uint8_t> too_many(12);
    EXPECT_THROW(w.write_data(as_bytes(too_many)), Error);
  }
  {
    gguf::Writer w;
    w.add_tensor("t", DType::F32, {2});
    w.begin(dir / "n.gguf");
    EXPECT_THROW(w.finish(), Error);  // tensor never written
  }
  {
    gguf::Writer w;
    w.set_u32("general.alignment", 48);
    EXPECT_THROW(w.begin(dir / "a.gguf"), Error);  // not a power of two
  }
  {
    gguf::Writer w;
    w.add_tensor("t", DType::F32, {1});
    EXPECT_THROW(w.begin(dir / "no/such/dir/x.gguf"), Error);
  }
}

}  // namespace
}  // namespace tessera
