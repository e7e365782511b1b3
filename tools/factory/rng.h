// The factory's portable random streams: splitmix64 seeded per (--seed, stream name, row), so
// every row of every tensor (and of the pair design's hidden matrices) can be drawn alone, the
// same on every platform and thread count.
#pragma once
#include <cstdint>
#include <string_view>

namespace tessera::factory {

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

inline std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

// The seed of row `row` of stream `name` (a tensor name for tensor rows).
inline std::uint64_t stream_seed(std::uint64_t seed, std::string_view name, std::uint64_t row) {
  std::uint64_t s = seed ^ 0x5445535345524131ull;  // "TESSERA1"
  std::uint64_t mixed = splitmix64(s) ^ fnv1a(name);
  mixed = splitmix64(mixed) + row * 0xD1B54A32D192ED03ull;
  return splitmix64(mixed);
}

// A small portable generator: splitmix64 over a per-row seed.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  // Uniform in [0, 1).
  float uniform() { return static_cast<float>(splitmix64(state_) >> 40) * (1.0f / 16777216.0f); }
  // Approximately N(0, 1): the sum of four 16-bit uniforms, centred and scaled (Irwin-Hall).
  float normal() {
    const std::uint64_t r = splitmix64(state_);
    const float s = static_cast<float>((r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48));
    return (s * (1.0f / 65536.0f) - 2.0f) * 1.7320508f;
  }

 private:
  std::uint64_t state_;
};

}  // namespace tessera::factory
