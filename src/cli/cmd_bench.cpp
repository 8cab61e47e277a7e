// attnviz bench: one backend on random inputs, against this machine's matrix-product rate.
#include <unistd.h>

#include <iostream>

#include "../bench/bench.hpp"
#include "attnviz/export.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

struct BenchArgs {
  BenchOptions bench;
  std::string max_memory = "2G";
  OutputOptions output;  // --json only
};

int bench(BenchArgs& a) {
  const Output output(a.output);
  a.bench.max_memory_bytes = parse_memory_size(a.max_memory, "--max-memory");
  // The estimate and the runs so far on one line of standard error, redrawn, when it is a terminal.
  const bool terminal = isatty(2) != 0;
  if (terminal) a.bench.progress = [](const std::string& line) { std::cerr << "\r" << line << "\033[K" << std::flush; };
  const BenchResult result = [&] {
    struct Erase {
      bool on;
      ~Erase() {
        if (on) std::cerr << "\r\033[K" << std::flush;
      }
    } erase{terminal};
    return run_bench(a.bench);
  }();
  output.write([&] { return bench_json(result); });
  output.print(bench_text(result));
  return 0;
}

}  // namespace

Command add_bench_command(CLI::App& app) {
  auto args = std::make_shared<BenchArgs>();
  CLI::App* cmd = app.add_subcommand("bench", "Time a backend on random inputs: GFLOP/s, peak memory, error against float64");
  BenchOptions& b = args->bench;
  cmd->add_option("--seq", b.seq, "Tokens n (self-attention: n queries, n keys; default 1024)")->check(in_range(1, 1 << 24))->type_name("N");
  cmd->add_option("--dim", b.dim, "Width d_k = d_v of each head (default 64)")->check(in_range(1, 65536))->type_name("D");
  cmd->add_option("--heads", b.heads, "Heads H (default 1)")->check(in_range(1, 4096))->type_name("H");
  cmd->add_flag("--causal", b.causal, "GPT-style mask (half the work)");
  cmd->add_option("--backend", b.backend, "The backend to time (default flash)")->type_name("NAME");
  cmd->add_option("--block-rows", b.block_rows, "flash: query rows per tile Br (default: the backend's)")->check(in_range(1, 1 << 20))->type_name("R");
  cmd->add_option("--block-cols", b.block_cols, "flash: key columns per tile Bc (default: the backend's)")->check(in_range(1, 1 << 20))->type_name("C");
  cmd->add_option("--seed", b.seed, "Seed of the random inputs (default 1)")->check(in_range<unsigned>(0, std::numeric_limits<unsigned>::max()))->type_name("S");
  cmd->add_option("--min-time", b.min_seconds, "Repeat until this many seconds are measured (default 0.5)")->check(in_range(0.0, 3600.0))->type_name("SECONDS");
  cmd->add_option("--max-time", b.max_seconds,
                  "Refuse when the run is estimated (from short runs first) to take longer than this (default 300; 0: no limit)")
      ->check(in_range(0.0, 1e9))
      ->type_name("SECONDS");
  add_performance_options(*cmd, b.threads, args->max_memory);
  cmd->add_option("--json", args->output.json, "Write the results as JSON to PATH ('-': standard output only)")->check(output_path())->type_name("PATH|-");
  cmd->footer(R"(Examples:
  attnviz bench --seq 4096 --dim 64 --backend flash --threads 1
  attnviz bench --seq 1024 --backend cpu --threads 1
  attnviz bench --seq 16384 --backend flash --json results.json
The rate counts 4·n²·d flops per head (halved with --causal); the matrix-product rate is that of the CPU
kernel path in use (ATTNVIZ_CPU=baseline|avx2|avx512 forces a lower one), float32, one thread, measured in
the same run. Peak memory is the whole process's (getrusage ru_maxrss).)");
  return {cmd, [args] { return bench(*args); }, reset_to_defaults(args)};
}

}  // namespace attnviz::cli
