// ops::topk against std::partial_sort with the same order (value descending, ties to the lower
// index, NaN as -inf): one and several passes (segments of 1024), the vocabulary size, k up to
// the limit, fewer values than k, duplicates, -inf and NaN; and the input checks.
#include "engine/ops/topk.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tests/ops/ops_test.h"

namespace tessera::test {
namespace {

class TopkTest : public OpsTest {
 protected:
  // n values: random in [-4, 4) rounded to 1/8 (many exact ties), with -inf and NaN sprinkled.
  static std::vector<float> values(std::uint32_t n, std::uint32_t seed) {
    std::vector<float> v = random_floats(n, seed, -4.0f, 4.0f);
    for (std::uint32_t i = 0; i < n; ++i) {
      v[i] = std::round(v[i] * 8.0f) / 8.0f;
      if (i % 97 == 5) v[i] = -std::numeric_limits<float>::infinity();
      if (i % 89 == 7) v[i] = std::numeric_limits<float>::quiet_NaN();
    }
    return v;
  }

  void check(std::uint32_t n, std::uint32_t k, std::uint32_t seed) {
    const std::string what = "n=" + std::to_string(n) + " k=" + std::to_string(k);
    const std::vector<float> v = values(n, seed);
    Buffer bv = upload_vec(v), a = make(ops::topk_scratch_bytes(n, k)), b = make(ops::topk_scratch_bytes(n, k)),
           out = make(8ull * k);
    run([&](Context& ctx, CommandList& cmd) { ops::topk(ctx, cmd, {&bv}, n, k, {&a}, {&b}, {&out}); });
    std::vector<ops::TopkEntry> got(k);
    download(*ctx_, out.range(), std::as_writable_bytes(std::span(got)));

    std::vector<std::uint32_t> idx(n);
    for (std::uint32_t i = 0; i < n; ++i) idx[i] = i;
    const auto key = [&](std::uint32_t i) { return std::isnan(v[i]) ? -std::numeric_limits<float>::infinity() : v[i]; };
    const std::uint32_t want_n = std::min(n, k);
    std::partial_sort(idx.begin(), idx.begin() + want_n, idx.end(), [&](std::uint32_t x, std::uint32_t y) {
      return key(x) > key(y) || (key(x) == key(y) && x < y);
    });
    for (std::uint32_t i = 0; i < k; ++i) {
      const float gv = std::bit_cast<float>(got[i].value_bits);
      if (i < want_n) {
        ASSERT_EQ(got[i].index, idx[i]) << what << " rank " << i;
        ASSERT_EQ(gv, key(idx[i])) << what << " rank " << i;
      } else {
        ASSERT_EQ(got[i].index, 0xffffffffu) << what << " padding " << i;
        ASSERT_TRUE(std::isinf(gv) && gv < 0) << what << " padding " << i;
      }
    }
  }
};

TEST_P(TopkTest, OnePassAndSeveral) {
  std::uint32_t seed = 1;
  for (const std::uint32_t n : {1u, 5u, 1023u, 1024u, 1025u, 4000u})
    for (const std::uint32_t k : {1u, 40u, 64u}) check(n, k, seed++);
  check(3000, ops::kTopkMax, seed++);  // three segments of up to 512 kept each
}

TEST_P(TopkTest, VocabularySized) {
  check(262144, 64, 77);  // three passes: 256 segments -> 16 -> 1
  check(262144 + 19, 1, 78);
}

TEST_P(TopkTest, RejectsBadSizes) {
  Buffer v = make(4 * 2048), a = make(4096), out = make(8 * 600);
  const auto throws = [&](std::uint32_t n, std::uint32_t k, const BufferRange& scratch, const std::string& part) {
    try {
      CommandList cmd(*ctx_);  // left recording by the throw
      cmd.begin();
      ops::topk(*ctx_, cmd, {&v}, n, k, scratch, scratch, {&out});
      ADD_FAILURE() << "no error for n=" << n << " k=" << k;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  };
  throws(0, 4, {&a}, "n = 0");
  throws(100, 0, {&a}, "outside 1..512");
  throws(100, 513, {&a}, "outside 1..512");
  throws(4096, 4, {&a}, "values needs");
  throws(2048, 512, {&a, 0, 16}, "scratch_a needs");
}

TESSERA_INSTANTIATE_PROFILES(TopkTest);

}  // namespace
}  // namespace tessera::test
