// attnviz flash SENTENCE: FlashAttention tile by tile (the running m and ℓ, the rescale factors, the partial
// output), the final output beside the reference's, and with --io the slow-memory traffic.
#include <algorithm>
#include <cmath>
#include <iostream>

#include <fmt/format.h>

#include "attnviz/data.hpp"
#include "attnviz/error.hpp"
#include "attnviz/export.hpp"
#include "attnviz/flash.hpp"
#include "attnviz/stages.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

constexpr int kMaxSteps = 2000;  // a walkthrough longer than this is a mistake, not a lesson

struct FlashArgs {
  std::vector<std::string> sentence;
  CommonOptions common;
  int block_rows = 4;
  int block_cols = 4;
  int head = 1;
  bool io = false;
  double sram_kib = 128;
};

std::vector<std::string> slice(const std::vector<std::string>& labels, int from, int count) {
  return {labels.begin() + from, labels.begin() + from + count};
}

Matrix row_matrix(const Vector& v) { return Matrix(v); }

float max_abs_difference(const Trace& a, const Trace& b, const std::string& name) {
  float worst = 0;
  for (const auto& s : a.stages) {
    if (s.name != name) continue;
    const Stage* other = b.find(name, s.head);
    if (!other || other->data.rows() != s.data.rows() || other->data.cols() != s.data.cols())
      throw Error(fmt::format("the two backends disagree on the shape of '{}'", name));
    worst = std::max(worst, (s.data - other->data).cwiseAbs().maxCoeff());
  }
  return worst;
}

struct Views {
  std::vector<std::string> q, k;  // query and key tokens
};

// The four tables of one step, as Stage objects so that render_stage draws them like every other matrix.
std::vector<Stage> step_stages(const FlashStep& s, const Views& v, int head, int d_v, bool unicode) {
  const std::string ij = fmt::format("{},{}", s.i, s.j);  // from 0, as everywhere (screen, JSON, docs)
  const auto rows = slice(v.q, s.row0, s.rows), cols = slice(v.k, s.col0, s.cols);
  const std::string l = unicode ? "ℓ" : "l", minus = unicode ? "−" : "-";
  Matrix stats(s.rows, 5);
  stats.col(0) = s.m_old.transpose();
  stats.col(1) = s.m_new.transpose();
  stats.col(2) = s.rescale.transpose();
  stats.col(3) = s.l_old.transpose();
  stats.col(4) = s.l_new.transpose();
  std::vector<std::string> a_labels;
  for (int c = 0; c < d_v; ++c) a_labels.push_back(fmt::format("a{}", c));
  return {
      Stage{"scores tile", "S_" + ij, head, "queries", "keys", rows, cols, s.S},
      Stage{"exp tile", "P_" + ij + " = exp(S " + minus + " m_new)", head, "queries", "keys", rows, cols, s.P},
      Stage{"running statistics", "", head, "queries", "statistics", rows,
            {"m_old", "m_new", "rescale", l + "_old", l + "_new"}, stats},
      Stage{"unnormalised output", fmt::format("O_{}", s.i), head, "queries", "dimensions", rows, a_labels, s.O},
  };
}

std::string io_text(const FlashIo& io) {
  auto row = [](const std::string& what, const IoCount& c, const std::string& model, double model_value) {
    return fmt::format("  {:<34} {:>12.4g} {:>12.4g} {:>12.4g} {:>12.4g}  {:<12} {:>12.4g} {:>8.2f}\n", what, c.reads, c.writes,
                       c.total(), c.total() * 4, model, model_value, c.total() / model_value);
  };
  std::string s = fmt::format(
      "Slow memory (HBM) traffic, float32 elements: n = {} queries, m = {} keys, d_k = {}, d_v = {}, {} head{}, "
      "fast memory (SRAM) M = {:.0f} floats ({:.4g} KiB)\n",
      io.n, io.m, io.d_k, io.d_v, io.heads, io.heads == 1 ? "" : "s", io.sram_floats, io.sram_floats * 4 / 1024);
  s += fmt::format("  {:<34} {:>12} {:>12} {:>12} {:>12}  {:<12} {:>12} {:>8}\n", "", "reads", "writes", "total", "bytes",
                   "model", "model value", "ratio");
  s += row("standard attention (S, P in HBM)", io.standard, "Θ(nd + n²)", io.standard_model);
  s += row(fmt::format("tiled, Br = {}, Bc = {}", io.Br, io.Bc), io.tiled, "Θ(n²d²/M)", io.tiled_model);
  s += row(fmt::format("tiled, paper's Br = {}, Bc = {}", io.paper_Br, io.paper_Bc), io.paper_tiled, "Θ(n²d²/M)", io.tiled_model);
  s += fmt::format("  standard / tiled: {:.2f}× with Br = {}, Bc = {}; {:.2f}× with the paper's tiles for this M\n",
                   io.standard.total() / io.tiled.total(), io.Br, io.Bc, io.standard.total() / io.paper_tiled.total());
  s += fmt::format("  the {} × {} tiles need {:.0f} floats of fast memory (Q_i, K_j, V_j, O_i, S_ij, m, ℓ): {}\n", io.Br, io.Bc,
                   io.tiles_floats, io.tiles_floats <= io.sram_floats ? "they fit in M" : "MORE than M, so they would not fit");
  s += "  (ratio = counted / model value: the Θ formulas drop constants, so only its trend with n, d and M is meaningful)\n";
  return s;
}

nlohmann::ordered_json io_json(const FlashIo& io) {
  auto count = [](const IoCount& c) { return nlohmann::ordered_json{{"reads", c.reads}, {"writes", c.writes}, {"total", c.total()}}; };
  return {{"unit", "float32 elements"}, {"sram_floats", io.sram_floats},
          {"standard", count(io.standard)}, {"standard_model", io.standard_model},
          {"tiled", {{"block_rows", io.Br}, {"block_cols", io.Bc}, {"count", count(io.tiled)}, {"fast_memory_floats", io.tiles_floats}}},
          {"paper_tiled", {{"block_rows", io.paper_Br}, {"block_cols", io.paper_Bc}, {"count", count(io.paper_tiled)}}},
          {"tiled_model", io.tiled_model}};
}

// The walkthrough keeps every step (S_ij and P̃_ij of each tile, O_i and the row statistics) and prints or
// exports them all, and the reference beside it keeps its n × m matrices: refuse before computing when the
// steps are too many to read, or when all this would exceed --max-memory.
void check_walkthrough_size(const AttentionInput& in, const Model& model, const AttentionOptions& options, const FlashArgs& a,
                            double max_memory_bytes) {
  const auto n = static_cast<int>(in.X.rows()), m = static_cast<int>(in.X_kv.rows());
  const double tiles = std::ceil(static_cast<double>(n) / a.block_rows) * std::ceil(static_cast<double>(m) / a.block_cols);
  if (tiles > kMaxSteps)
    throw InputError(fmt::format("the walkthrough would print {:.0f} tile steps (more than {}); give larger --block-rows and "
                                 "--block-cols, or a shorter sentence",
                                 tiles, kMaxSteps));
  // Cells the steps keep, counted tile by tile as flash_query_block visits them (skipped tiles keep nothing).
  double step_cells = 0;
  for (int row0 = 0; row0 < n; row0 += a.block_rows) {
    const int rows = std::min(a.block_rows, n - row0);
    for (int col0 = 0; col0 < m; col0 += a.block_cols) {
      const int cols = std::min(a.block_cols, m - col0);
      if (flash_tile_needed(options, row0, rows, col0, cols)) step_cells += 2.0 * rows * cols + rows * (model.d_v + 5.0);
    }
  }
  // --json - writes only the JSON; --json FILE writes it and prints the tables too.
  const bool json = a.common.output.json.has_value(), tables = a.common.output.json != "-";
  const double per_cell = sizeof(float) + (json ? kJsonBytesPerCell : 0) + (tables ? kTableBytesPerCell : 0);
  const double steps_bytes = step_cells * per_cell;
  const double reference_bytes = 3.0 * n * m * model.heads * sizeof(float);
  if (steps_bytes + reference_bytes > max_memory_bytes)
    throw InputError(fmt::format("the walkthrough of {} × {} tokens needs about {} (every tile's S and P, {}) and the reference "
                                 "beside it {}, more than --max-memory allows ({})\n"
                                 "hint: use a shorter sentence, or raise --max-memory; attnviz run --backend flash computes "
                                 "long sentences without storing the tiles",
                                 n, m, format_bytes(steps_bytes + reference_bytes),
                                 json && tables ? "as JSON and tables" : json ? "as JSON" : "as tables",
                                 format_bytes(reference_bytes), format_bytes(max_memory_bytes)));
}

int flash(const FlashArgs& a) {
  Settings settings = build_settings(a.common, false);
  const RenderOptions& ro = settings.report.render;
  const std::string sentence = join_words(a.sentence);
  // The same embeddings and default model as run (toy with toy, identity with other embeddings).
  const auto [emb, model] = load_embeddings_and_model(a.common, {sentence});
  if (model.language_model)
    throw InputError(fmt::format("flash walks one attention over the embeddings; the trained model '{}' has layers: use attnviz run "
                                 "--model {} --backend flash",
                                 model.name, model.name));
  if (a.head < 1 || a.head > model.heads)
    throw InputError(fmt::format("--head {} does not exist: the model '{}' has {} head{}", a.head, model.name, model.heads,
                                 model.heads == 1 ? "" : "s"));

  PipelineOptions& options = settings.pipeline;
  options.attention.block_rows = a.block_rows;
  options.attention.block_cols = a.block_cols;
  add_output_memory(options, false, false);  // the traces are compared, never exported: check_walkthrough_size counts the output
  // Tokens and mask first (cheap), then the size checks, and only then anything n × m.
  Trace scratch;
  const AttentionInput in = prepare_input(emb, model, sentence, options, scratch);
  check_walkthrough_size(in, model, options.attention, a, options.max_memory_bytes);
  options.backend = "flash";
  const Trace flash_trace = run_attention(emb, model, sentence, options);
  options.backend = "cpu";
  const Trace reference = run_attention(emb, model, sentence, options);
  const FlashWalkthrough w = flash_walkthrough(model, in, options.attention, a.head - 1, a.block_rows, a.block_cols);
  const auto n = static_cast<int>(in.X.rows()), m = static_cast<int>(in.X_kv.rows());
  std::optional<FlashIo> io;
  if (a.io) io = flash_io(n, m, model.d_k, model.d_v, model.heads, options.attention, a.block_rows, a.block_cols, a.sram_kib);

  const Views views{in.query_tokens, in.key_tokens};
  const Stage* ref_context = reference.find(stage_name::context, a.head - 1);
  const Stage flash_context{"context (flash)", "A", a.head - 1, "tokens", "dimensions", in.query_tokens, ref_context->col_labels, w.O};
  const float context_diff = max_abs_difference(flash_trace, reference, "context");
  const float output_diff = max_abs_difference(flash_trace, reference, "output");
  const float head_diff = (w.O - ref_context->data).cwiseAbs().maxCoeff();

  settings.output.write([&] {
    nlohmann::ordered_json doc;
    doc["format"] = "attnviz-flash";
    doc["version"] = 1;
    doc["input"] = {{"sentence", flash_trace.sentence}};
    doc["tokens"] = in.query_tokens;
    doc["key_tokens"] = in.key_tokens;
    const TraceConfig& c = flash_trace.config;
    doc["config"] = {{"embeddings", c.embeddings}, {"model", c.model}, {"heads", c.heads}, {"head", a.head - 1},
                     {"d_k", c.d_k}, {"d_v", c.d_v}, {"scale", c.scale}, {"temperature", c.temperature},
                     {"causal", c.causal}, {"custom_mask", c.custom_mask}, {"block_rows", w.Br}, {"block_cols", w.Bc}};
    nlohmann::ordered_json steps = nlohmann::ordered_json::array();
    for (const auto& s : w.steps)
      steps.push_back({{"i", s.i}, {"j", s.j}, {"rows", {s.row0, s.row0 + s.rows}}, {"cols", {s.col0, s.col0 + s.cols}},
                       {"S", matrix_json(s.S)}, {"P", matrix_json(s.P)},
                       {"m_old", matrix_json(row_matrix(s.m_old))[0]}, {"m_new", matrix_json(row_matrix(s.m_new))[0]},
                       {"l_old", matrix_json(row_matrix(s.l_old))[0]}, {"l_new", matrix_json(row_matrix(s.l_new))[0]},
                       {"rescale", matrix_json(row_matrix(s.rescale))[0]}, {"O", matrix_json(s.O)}});
    doc["steps"] = std::move(steps);
    doc["final"] = {{"flash", matrix_json(w.O)}, {"reference", matrix_json(ref_context->data)},
                    {"max_abs_difference", {{"head", head_diff}, {"context", context_diff}, {"output", output_diff}}}};
    if (io) doc["io"] = io_json(*io);
    return doc;
  });
  if (!settings.output.tables()) return 0;

  const int Tr = (n + w.Br - 1) / w.Br, Tc = (m + w.Bc - 1) / w.Bc;
  const std::string l = ro.unicode ? "ℓ" : "l";
  std::string out;
  out += fmt::format("FlashAttention on \"{}\": head {} of {}, n = {} queries, m = {} keys, d_k = {}, d_v = {}\n",
                     flash_trace.sentence, a.head, model.heads, n, m, model.d_k, model.d_v);
  out += fmt::format("Tiles of Br = {} query rows × Bc = {} key columns: Tr = {} query blocks, Tc = {} key blocks, {} step{}"
                     "{} (FlashAttention-2 order: query blocks outside, key/value blocks inside)\n",
                     w.Br, w.Bc, Tr, Tc, w.steps.size(), w.steps.size() == 1 ? "" : "s",
                     Tr * Tc > static_cast<int>(w.steps.size()) ? fmt::format(", {} masked tiles skipped", Tr * Tc - static_cast<int>(w.steps.size())) : "");
  out += fmt::format("Per row: m = running max of S, {0} = running sum of exp(S {1} m); each step multiplies O and {0} by "
                     "rescale = exp(m_old {1} m_new), adds P V_j, and O is divided by {0} once at the end. m_old = {2} before "
                     "the first key.\n",
                     l, ro.unicode ? "−" : "-", ro.unicode ? "−∞" : "-inf");
  out += render_tokens(in.query_tokens, ro);
  int current = -1;
  for (const auto& s : w.steps) {
    if (s.i != current) {
      current = s.i;
      // Blocks count from 0, like the rows, the tokens, the JSON's "i" and "j" and docs/flash-attention.md.
      out += fmt::format("\n== query block i = {} (rows {}..{}) ==\n", s.i, s.row0, s.row0 + s.rows - 1);
    }
    out += fmt::format("\n-- step: i = {}, j = {} (keys {}..{}) --\n", s.i, s.j, s.col0, s.col0 + s.cols - 1);
    for (const auto& st : step_stages(s, views, a.head - 1, model.d_v, ro.unicode)) out += render_stage(st, model.heads, ro);
  }
  out += fmt::format("\n== the end: O = O / {} for each row ==\n", l);
  out += render_stage(flash_context, model.heads, ro);
  out += render_stage(*ref_context, model.heads, ro);
  out += fmt::format("largest |flash {} reference|: {:.3g} in this head's context; {:.3g} in every head's context, {:.3g} in the output O\n",
                     ro.unicode ? "−" : "-", head_diff, context_diff, output_diff);
  const std::string times = ro.unicode ? "×" : "x";
  out += fmt::format("the flash backend never stores the {1} {0} {2} matrices S, P; the largest tile held {3} {0} {4} cells\n", times, n,
                     m, std::min(w.Br, n), std::min(w.Bc, m));
  if (io) out += "\n" + io_text(*io);
  if (settings.output.timings()) out += "\n" + render_timings(flash_trace, ro);
  settings.output.print(out);
  return 0;
}

}  // namespace

Command add_flash_command(CLI::App& app) {
  auto args = std::make_shared<FlashArgs>();
  CLI::App* cmd = app.add_subcommand("flash", "FlashAttention tile by tile: running max m, sum ℓ, rescaling, and the memory traffic");
  cmd->add_option("sentence", args->sentence, "The sentence (quote it, or give its words as separate arguments)")
      ->required()
      ->type_name("SENTENCE");
  cmd->add_option("--block-rows", args->block_rows, "Br: query rows per tile (default 4)")->check(in_range(1, 1 << 20))->type_name("R");
  cmd->add_option("--block-cols", args->block_cols, "Bc: key columns per tile (default 4)")->check(in_range(1, 1 << 20))->type_name("C");
  cmd->add_option("--head", args->head, "Which head to walk through (1-based, default 1)")->check(in_range(1, 4096))->type_name("H");
  cmd->add_flag("--io", args->io, "Count reads and writes of slow memory (HBM): standard attention against the tiles");
  cmd->add_option("--sram-kib", args->sram_kib, "Fast memory (SRAM) M for --io, in KiB (default 128)")->check(in_range(0.001, 1e9))->type_name("M");
  // The walkthrough is the flash backend beside the cpu reference, as tile tables in the terminal or JSON:
  // no other backend, no stage list, no page (and the masks it walks are --causal and --mask).
  add_common_options(*cmd, args->common,
                     {{Group::data, Group::attention, Group::display, Group::output},
                      {"--backend", "--kernel", "--stages", "--html", "--html-range", "--exclude-self", "--layer"},
                      {}});
  cmd->footer(R"(Examples:
  attnviz flash "the cat chased the mouse" --block-rows 2 --block-cols 3
  attnviz flash "the cat chased the mouse" --causal --head 2
  attnviz flash "the cat chased the mouse" --io --sram-kib 64
  attnviz flash "the cat chased the mouse" --json walkthrough.json
The tables follow the FlashAttention paper: S_ij = Q_i K_jᵀ · scale, m and ℓ the running row max and sum,
P_ij = exp(S_ij − m_new), O_i the unnormalised output. The walkthrough is the flash backend, and the
reference is always the cpu backend.)");
  return {cmd, [args] { return flash(*args); }, reset_to_defaults(args)};
}

}  // namespace attnviz::cli
