#include "tools/factory/weights.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <thread>
#include <vector>

#include "engine/error.h"
#include "runtime/gguf/gguf_writer.h"
#include "runtime/quant/quantize.h"
#include "tools/factory/pair_design.h"
#include "tools/factory/rng.h"

namespace tessera::factory {
namespace {

constexpr std::uint64_t kBatchBytes = 8u << 20;  // output bytes generated per batch

}  // namespace

void generate_rows(const TensorSpec& t, std::uint64_t seed, std::uint64_t row0, std::uint64_t n_rows, float* out,
                   const PairDesign* design) {
  const std::uint64_t ne0 = t.ne.at(0);
  switch (t.init) {
    case Init::pair_embd:
    case Init::pair_out_norm:
    case Init::pair_pre_proj:
    case Init::pair_draft_embd:
      if (!design) throw Error("[factory] tensor '" + t.name + "' is set by the pair design, and there is none");
      design->generate_rows(t, row0, n_rows, out);
      return;
    default: break;
  }
  const float fan_in_scale = 1.0f / std::sqrt(static_cast<float>(ne0));
  for (std::uint64_t r = 0; r < n_rows; ++r) {
    Rng rng(stream_seed(seed, t.name, row0 + r));
    float* o = out + r * ne0;
    for (std::uint64_t i = 0; i < ne0; ++i) {
      float v = 0.0f;
      switch (t.init) {
        case Init::norm: v = 1.0f + 0.05f * rng.normal(); break;
        case Init::q_norm: v = 1.0f + 0.02f * rng.normal(); break;
        case Init::k_norm: v = 0.12f + 0.01f * rng.normal(); break;
        case Init::layer_scale: v = 0.3f + 0.6f * rng.uniform(); break;
        case Init::matrix: v = fan_in_scale * rng.normal(); break;
        case Init::bias: v = 0.02f * rng.normal(); break;
        case Init::pos_table: v = 0.2f * rng.normal(); break;
        case Init::rope_freqs: v = (row0 + r) * ne0 + i < t.rope_rotating ? 1.0f : 1e30f; break;
        case Init::zero: v = 0.0f; break;
        case Init::one: v = 1.0f; break;
        case Init::pair_embd:
        case Init::pair_out_norm:
        case Init::pair_pre_proj:
        case Init::pair_draft_embd: break;  // handled above
      }
      o[i] = v;
    }
  }
}

void write_tensor_data(gguf::Writer& w, const TensorSpec& t, std::uint64_t seed, unsigned threads,
                       const PairDesign* design) {
  const std::uint64_t ne0 = t.ne.at(0);
  const std::uint64_t rows = t.n_elements() / ne0;
  const std::uint64_t row_bytes = dtype_bytes(t.type, ne0);
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  const std::uint64_t batch_rows = std::max<std::uint64_t>(1, kBatchBytes / row_bytes);
  std::vector<std::byte> out(static_cast<std::size_t>(std::min(batch_rows, rows) * row_bytes));

  // Generates and quantizes rows [r0, r1) of the tensor into out at (r0 - base) * row_bytes.
  auto work = [&](std::uint64_t base, std::uint64_t r0, std::uint64_t r1, std::exception_ptr* error) {
    try {
      std::vector<float> row(static_cast<std::size_t>(ne0));
      for (std::uint64_t r = r0; r < r1; ++r) {
        generate_rows(t, seed, r, 1, row.data(), design);
        quantize_row(t.type, row.data(), out.data() + (r - base) * row_bytes, static_cast<std::int64_t>(ne0));
      }
    } catch (...) {
      *error = std::current_exception();
    }
  };

  for (std::uint64_t base = 0; base < rows; base += batch_rows) {
    const std::uint64_t n = std::min(batch_rows, rows - base);
    const unsigned nt = static_cast<unsigned>(std::min<std::uint64_t>(threads, n));
    std::vector<std::exception_ptr> errors(std::max(1u, nt));
    if (nt <= 1) {
      work(base, base, base + n, &errors[0]);
    } else {
      std::vector<std::thread> pool;
      for (unsigned k = 0; k < nt; ++k)
        pool.emplace_back(work, base, base + n * k / nt, base + n * (k + 1) / nt, &errors[k]);
      for (std::thread& th : pool) th.join();
    }
    for (const std::exception_ptr& e : errors)
      if (e) std::rethrow_exception(e);
    w.write_data(std::span<const std::byte>(out.data(), static_cast<std::size_t>(n * row_bytes)));
  }
}

}  // namespace tessera::factory
