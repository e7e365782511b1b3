// `tessera bench -m model.gguf [-p 512] [-n 128] [-r 3] [--json]`: llama-bench style model
// throughput. pp<N>: a prefill of N tokens from an empty cache; tg<N>: N single-token decode
// steps after it. Wall-clock tokens/s (mean ± stddev over the repetitions), plus for decode the
// weight bytes streamed per second and their share of the device's measured streaming bandwidth.
//
// `tessera bench attention [--kv 512,4096,32768,131072] [--rows 1,512] [--kv-type f16,q8_0]`: flash
// attention on the 12B layer shapes.
// `tessera bench kernels [--types Q4_K,Q6_K,Q8_0] [--batches 1,4,16,512] [--json]`: every matmul
// variant on the 12B linear-layer shapes (tools/bench/matmul_bench.h).
// `tessera bench mm [--image-tokens 280,1120] [--audio-seconds 30]`: image and audio input
// (cmd_bench_mm.cpp). `tessera bench spec`: speculative decoding (cmd_bench_spec.cpp).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <chrono>
#include <nlohmann/json.hpp>
#include <random>

#include "engine/error.h"
#include "engine/log.h"
#include "tools/bench/bench_util.h"
#include "tools/bench/attention_bench.h"
#include "tools/bench/matmul_bench.h"
#include "tools/cli/model_setup.h"
#include "engine/platform/console.h"

namespace tessera::cli {

CLI::App* add_bench_mm_command(CLI::App* bench, const GlobalOptions& global, int& exit_code);    // cmd_bench_mm.cpp
CLI::App* add_bench_spec_command(CLI::App* bench, const GlobalOptions& global, int& exit_code);  // cmd_bench_spec.cpp

namespace {

struct BenchOptions {
  ModelArgs model;
  std::uint32_t n_prompt = 512;
  std::uint32_t n_gen = 128;
  int reps = 3;
  bool json = false;
};

struct Row {
  std::string test;
  std::vector<double> tps;
  double mean() const {
    double s = 0;
    for (double v : tps) s += v;
    return tps.empty() ? 0 : s / tps.size();
  }
  double stddev() const {
    if (tps.size() < 2) return 0;
    double s = 0;
    for (double v : tps) s += (v - mean()) * (v - mean());
    return std::sqrt(s / (tps.size() - 1));
  }
};

double seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int bench(BenchOptions o, const GlobalOptions& global) {
  if (o.n_prompt == 0 && o.n_gen == 0) throw Error("[bench] nothing to run: -p and -n are both 0");
  if (o.model.ctx == 0) o.model.ctx = o.n_prompt + o.n_gen + 16;
  LoadedModel lm = load_model(global, o.model);
  const Gemma4HParams& hp = lm.model->hparams();
  // The prompt (at least one token) and the decoded tokens must fit the context: checked before
  // a long prefill, not after it.
  const std::uint64_t need = std::max<std::uint64_t>(o.n_prompt, 1) + o.n_gen;
  if (need > lm.n_ctx)
    throw Error("[bench] -p " + std::to_string(o.n_prompt) + " + -n " + std::to_string(o.n_gen) + " needs " +
                std::to_string(need) + " positions but the context is " + std::to_string(lm.n_ctx) + " (raise --ctx)");
  Gemma4Session session(*lm.model, lm.session_options(o.model.ubatch));
  std::mt19937 rng(42);
  std::uniform_int_distribution<std::uint32_t> tok(0, hp.n_vocab - 1);
  std::vector<std::uint32_t> prompt(std::max<std::uint32_t>(o.n_prompt, 1));
  for (auto& id : prompt) id = tok(rng);

  session.decode(std::span(prompt).first(std::min<std::size_t>(prompt.size(), 8)));  // warm-up: pipelines
  Row pp{"pp" + std::to_string(o.n_prompt), {}}, tg{"tg" + std::to_string(o.n_gen), {}};
  for (int r = 0; r < o.reps; ++r) {
    session.reset();
    auto t0 = std::chrono::steady_clock::now();
    if (o.n_prompt > 0) {
      session.decode(prompt);
      pp.tps.push_back(o.n_prompt / seconds(t0));
    } else {
      session.decode(std::span(prompt).first(1));
    }
    t0 = std::chrono::steady_clock::now();
    for (std::uint32_t i = 0; i < o.n_gen; ++i) {
      const std::uint32_t id[] = {tok(rng)};
      session.decode(id);
    }
    if (o.n_gen > 0) tg.tps.push_back(o.n_gen / seconds(t0));
  }
  const double stream = bench::stream_bandwidth_gbs(*lm.ctx);
  const double weight_gb = lm.model->weights().bytes / 1e9;
  const double tg_gbs = tg.mean() * weight_gb;

  if (o.json) {
    nlohmann::json doc = {{"model", path_to_utf8(lm.path)},
                          {"model_bytes", lm.model->weights().bytes},
                          {"device", lm.ctx->caps().name},
                          {"driver", lm.ctx->caps().driver_info},
                          {"profile", lm.ctx->caps().profile},
                          {"stream_gb_per_s", stream},
                          {"n_ubatch", o.model.ubatch},
                          {"results", nlohmann::json::array()}};
    for (const Row* row : {&pp, &tg})
      if (!row->tps.empty())
        doc["results"].push_back({{"test", row->test},
                                  {"t_per_s", row->mean()},
                                  {"stddev", row->stddev()},
                                  {"samples", row->tps}});
    if (!tg.tps.empty()) doc["decode_weight_gb_per_s"] = tg_gbs;
    std::printf("%s\n", doc.dump(2).c_str());
    return 0;
  }
  std::printf("| %-28s | %10s | %-24s | %8s | %16s |\n", "model", "size", "device", "test", "t/s");
  std::printf("| %.28s | %10s | %.24s | %8s | %16s |\n", "-----------------------------------", "---------:",
              "------------------------------", "-------:", "---------------:");
  for (const Row* row : {&pp, &tg}) {
    if (row->tps.empty()) continue;
    char tps[64];
    std::snprintf(tps, sizeof tps, "%.2f ± %.2f", row->mean(), row->stddev());
    std::printf("| %-28.28s | %10s | %-24.24s | %8s | %16s |\n", path_to_utf8(lm.path.filename()).c_str(),
                format_bytes_short(lm.model->weights().bytes).c_str(), lm.ctx->caps().name.c_str(),
                row->test.c_str(), tps);
  }
  if (!tg.tps.empty())
    std::printf("decode streams %.2f GB/s of weights = %.1f%% of the measured %.2f GB/s streaming bandwidth\n",
                tg_gbs, stream > 0 ? 100.0 * tg_gbs / stream : 0.0, stream);
  return 0;
}

struct KernelBenchArgs {
  std::vector<std::string> types{"Q4_K", "Q6_K", "Q8_0"};
  std::vector<std::uint32_t> batches{1, 4, 16, 512};
  std::vector<std::string> shapes;  // names; empty = all
  bool plan_only = false;
  int runs = 3;
  double max_seconds = 5.0;
  bool json = false;
};

void print_kernel_row(const bench::MatmulBenchReport& rep, const bench::MatmulBenchRow& r) {
  const std::string kn = std::to_string(r.shape.k) + "->" + std::to_string(r.shape.n);
  const std::string kernel = std::string(matmul_kernel_name(r.kernel)) + (r.planned ? " *" : "");
  if (r.skipped) {
    std::printf("%-5s %-19s %-12s %4u %-15s   skipped (estimated %.1f s)\n", std::string(dtype_name(r.type)).c_str(),
                r.shape.name.c_str(), kn.c_str(), r.m, kernel.c_str(), r.estimate_ms / 1e3);
  } else {
    const double b1 = rep.batch1_ms(r);
    std::printf("%-5s %-19s %-12s %4u %-15s %10.3f %9.2f %9.1f %7.1f%% %6.2f\n", std::string(dtype_name(r.type)).c_str(),
                r.shape.name.c_str(), kn.c_str(), r.m, kernel.c_str(), r.ms, r.weight_gb_per_s(), r.gflops(),
                rep.copy_gb_per_s > 0 ? 100.0 * r.weight_gb_per_s() / rep.copy_gb_per_s : 0.0, b1 > 0 ? r.ms / b1 : 0.0);
  }
  std::fflush(stdout);
}

int bench_kernels(const KernelBenchArgs& a, const GlobalOptions& global) {
  bench::MatmulBenchOptions o;
  o.types.clear();
  for (const std::string& name : a.types) {
    const std::optional<DType> t = parse_dtype(name);
    if (!t) throw Error("[bench] unknown weight type '" + name + "' (F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q8_0, Q4_K, Q5_K, Q6_K)");
    o.types.push_back(*t);
  }
  o.batches = a.batches;
  if (!a.shapes.empty()) {
    std::erase_if(o.shapes, [&](const bench::MatmulShape& s) {
      return std::find(a.shapes.begin(), a.shapes.end(), s.name) == a.shapes.end();
    });
    if (o.shapes.size() != a.shapes.size()) {
      std::string known;
      for (const bench::MatmulShape& s : bench::gemma4_12b_matmul_shapes()) known += " " + s.name;
      throw Error("[bench] unknown shape name among --shapes; the 12B shapes are:" + known);
    }
  }
  o.all_variants = !a.plan_only;
  o.runs = a.runs;
  o.max_seconds = a.max_seconds;
  auto ctx = Context::create(engine_options(global));
  if (!a.json)
    std::printf("device: %s (%s)%s%s; GPU timestamps, best of %d runs; * = the plan's kernel\n", ctx->caps().name.c_str(),
                ctx->caps().driver_info.c_str(), ctx->caps().profile.empty() ? "" : ", profile ",
                ctx->caps().profile.c_str(), a.runs);
  const bench::MatmulBenchReport rep = bench::run_matmul_bench(*ctx, o, [&](const bench::MatmulBenchReport& so_far) {
    if (a.json) return;
    if (so_far.rows.size() == 1)
      std::printf("copy bandwidth: %.2f GB/s (vkCmdCopyBuffer of %s, bytes read + written); %% copy = weight GB/s "
                  "over it; x m=1 = time over the batch-1 time\n%-5s %-19s %-12s %4s %-15s %10s %9s %9s %8s %6s\n",
                  so_far.copy_gb_per_s, format_bytes_short(so_far.copy_bytes).c_str(), "type", "shape", "K->N", "m",
                  "kernel", "ms", "weight GB/s", "GFLOPS", "% copy", "x m=1");
    print_kernel_row(so_far, so_far.rows.back());
  });
  if (a.json) {
    std::printf("%s\n", rep.to_json().dump(2).c_str());
  }
  return 0;
}

struct AttentionBenchArgs {
  std::vector<std::uint32_t> kv{512, 4096, 32768, 131072};
  std::vector<std::uint32_t> rows{1, 512};
  std::vector<std::string> kv_types{"f16"};
  int runs = 3;
  double max_seconds = 5.0;
  bool json = false;
};

int bench_attention(const AttentionBenchArgs& a, const GlobalOptions& global) {
  bench::AttentionBenchOptions o;
  o.kv_lengths = a.kv;
  o.rows = a.rows;
  o.kv_types.clear();
  for (const std::string& name : a.kv_types) {
    const std::optional<ops::KvType> t = ops::parse_kv_type(name);
    if (!t) throw Error("[bench] unknown KV cache type '" + name + "' (f16, q8_0)");
    o.kv_types.push_back(*t);
  }
  o.runs = a.runs;
  o.max_seconds = a.max_seconds;
  auto ctx = Context::create(engine_options(global));
  if (!a.json)
    std::printf("device: %s (%s)%s%s; GPU timestamps, best of %d runs\n", ctx->caps().name.c_str(),
                ctx->caps().driver_info.c_str(), ctx->caps().profile.empty() ? "" : ", profile ",
                ctx->caps().profile.c_str(), a.runs);
  const bench::AttentionBenchReport rep =
      bench::run_attention_bench(*ctx, o, [&](const bench::AttentionBenchReport& so_far) {
        if (a.json) return;
        if (so_far.rows.size() == 1)
          std::printf("copy bandwidth: %.2f GB/s; KV GB/s = K and V bytes of the visible keys over the time\n"
                      "%-8s %-5s %7s %4s %7s %6s %10s %8s %9s %7s\n",
                      so_far.copy_gb_per_s, "layer", "kv", "context", "m", "cells", "splits", "ms", "KV GB/s",
                      "GFLOPS", "% copy");
        const bench::AttentionBenchRow& r = so_far.rows.back();
        if (r.skipped) {
          std::printf("%-8s %-5s %7u %4u %7u %6u   skipped (estimated %.1f s)\n", r.layer.c_str(),
                      ops::kv_type_name(r.shape.kv_type), r.kv_len, r.shape.m, r.shape.cells, r.n_split,
                      r.estimate_ms / 1e3);
        } else {
          std::printf("%-8s %-5s %7u %4u %7u %6u %10.3f %8.2f %9.1f %6.1f%%\n", r.layer.c_str(),
                      ops::kv_type_name(r.shape.kv_type), r.kv_len, r.shape.m, r.shape.cells, r.n_split, r.ms,
                      r.kv_gb_per_s(), r.gflops(),
                      so_far.copy_gb_per_s > 0 ? 100.0 * r.kv_gb_per_s() / so_far.copy_gb_per_s : 0.0);
        }
        std::fflush(stdout);
      });
  if (a.json) std::printf("%s\n", rep.to_json().dump(2).c_str());
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto opts = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "prefill and decode tokens/s (llama-bench style)");
  add_model_options(cmd, opts->model);
  cmd->add_option("-p,--n-prompt", opts->n_prompt, "prompt tokens of the prefill test (0: skip)");
  cmd->add_option("-n,--n-gen", opts->n_gen, "decoded tokens of the generation test (0: skip)");
  cmd->add_option("-r,--repetitions", opts->reps, "repetitions")->check(CLI::PositiveNumber);
  cmd->add_flag("--json", opts->json, "print JSON");
  auto kopts = std::make_shared<KernelBenchArgs>();
  CLI::App* kernels = cmd->add_subcommand(
      "kernels", "matmul kernels on the 12B shapes: ms, weight GB/s, GFLOPS, % of the measured copy bandwidth");
  kernels->add_option("--types", kopts->types, "weight types")->delimiter(',')->capture_default_str();
  kernels->add_option("--batches", kopts->batches, "activation rows per case")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  kernels->add_option("--shapes", kopts->shapes,
                      "shape names (attn_q, attn_k, ffn_up, ffn_down, attn_output.global, output); default all")
      ->delimiter(',');
  kernels->add_flag("--plan-only", kopts->plan_only, "only the plan's kernel per case, not every variant");
  kernels->add_option("-r,--runs", kopts->runs, "timed runs per case after a warm-up")->check(CLI::PositiveNumber);
  kernels->add_option("--max-seconds", kopts->max_seconds, "skip cases estimated to take longer per run")
      ->check(CLI::PositiveNumber)->capture_default_str();
  kernels->add_flag("--json", kopts->json, "print JSON");
  kernels->callback([kopts, &global, &exit_code] { exit_code = bench_kernels(*kopts, global); });
  auto aopts = std::make_shared<AttentionBenchArgs>();
  CLI::App* attention = cmd->add_subcommand(
      "attention", "flash attention on the 12B layer shapes: ms, KV GB/s, GFLOPS, % of the measured copy bandwidth");
  attention->add_option("--kv", aopts->kv, "context lengths (KV positions)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  attention->add_option("--rows", aopts->rows, "query rows per call (1: decode, 512: a prefill ubatch)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  attention->add_option("--kv-type", aopts->kv_types, "KV cache types (f16, q8_0)")->delimiter(',')->capture_default_str();
  attention->add_option("-r,--runs", aopts->runs, "timed runs per case after a warm-up")->check(CLI::PositiveNumber);
  attention->add_option("--max-seconds", aopts->max_seconds, "skip cases estimated to take longer per run")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  attention->add_flag("--json", aopts->json, "print JSON");
  attention->callback([aopts, &global, &exit_code] { exit_code = bench_attention(*aopts, global); });
  CLI::App* mm = add_bench_mm_command(cmd, global, exit_code);
  CLI::App* spec = add_bench_spec_command(cmd, global, exit_code);
  cmd->callback([opts, kernels, attention, mm, spec, &global, &exit_code] {
    if (kernels->parsed() || attention->parsed() || mm->parsed() || spec->parsed()) return;  // ran their own
    exit_code = bench(*opts, global);
  });
}

}  // namespace tessera::cli
