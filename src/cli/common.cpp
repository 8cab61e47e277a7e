#include "common.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "../io/json_util.hpp"
#include "attnviz/error.hpp"

namespace attnviz::cli {

void add_common_options(CLI::App& app, CommonOptions& o) {
  app.add_option("--embeddings", o.embeddings, "Word vectors: a bundled name (toy) or a JSON file")->type_name("NAME|PATH");
  app.add_option("--model", o.model, "Attention weights: a bundled name (toy), 'identity', or a JSON file")->type_name("NAME|PATH");
  app.add_option("--json", o.json, "Write the trace of every stage as JSON to PATH ('-': standard output, tables suppressed)")
      ->type_name("PATH|-");
  app.add_option("--color", o.color, "Colour: auto (a terminal, unless NO_COLOR), always, never")
      ->check(CLI::IsMember({"auto", "always", "never"}))
      ->type_name("WHEN");
  app.add_flag("--ascii", o.ascii, "ASCII tables instead of Unicode box drawing");
  app.add_option("--width", o.width, "Wrap tables to N columns (default: COLUMNS or the terminal's width)")
      ->check(CLI::Range(20, 100000))
      ->type_name("N");
  app.add_option("--precision", o.precision, "Digits after the decimal point (0-9, default 3)")->check(CLI::Range(0, 9))->type_name("N");
  app.add_option("--stages", o.stages, "Comma-separated stages to print, e.g. weights,output (default: all)")->type_name("LIST");
  app.add_option("--backend", o.backend, fmt::format("Where attention is computed: {} (cpu, the Eigen reference, is the default)",
                                                     fmt::join(backend_names(), ", ")))
      ->type_name("NAME");
  app.add_flag("--timings", o.timings, "After the report, the time of each step of the backend (the CUDA backends measure them)");
  app.add_option("--data-dir", o.data_dir, "Folder of the bundled data (default: found automatically; or ATTNVIZ_DATA)")
      ->type_name("DIR");
}

void add_attention_options(CLI::App& app, AttentionFlags& f) {
  app.add_option("--heads", f.heads, "Number of heads (the identity model: any divisor of the embedding size)")
      ->check(CLI::Range(1, 4096))
      ->type_name("H");
  app.add_flag("--causal", f.causal, "GPT-style mask: each token attends only to itself and earlier tokens");
  app.add_option("--mask", f.mask_file, "Custom n × n mask: a JSON array of rows of 0 (masked) and 1 (may attend)")->type_name("FILE");
  app.add_option("--temperature", f.temperature, "Divide the scaled scores by T > 0 (small T: sharper softmax)")->type_name("T");
  app.add_flag("--no-scale", f.no_scale, "Drop the 1/√d_k factor, to watch the softmax saturate");
  app.add_option("--positions", f.positions, "Positional encoding added to the embeddings: none or sinusoidal")
      ->check(CLI::IsMember({"none", "sinusoidal"}))
      ->type_name("KIND");
  app.add_option("--context", f.context, "Cross-attention: keys and values come from this sentence")->type_name("SENTENCE");
}

RenderOptions render_options(const CommonOptions& o) {
  RenderOptions r;
  const bool to_terminal = isatty(1) != 0;
  r.color = decide_color(color_environment_from_process(o.color, to_terminal));
  r.unicode = decide_unicode_from_process(o.ascii);
  r.width = decide_width(o.width);
  r.precision = o.precision;
  return r;
}

ReportOptions report_options(const CommonOptions& o) {
  ReportOptions r;
  r.render = render_options(o);
  if (o.stages) r.stages = parse_stage_list(*o.stages);
  return r;
}

namespace {

Matrix load_mask(const std::string& path) {
  const io::json doc = io::parse_json(io::read_file(path, "mask file"), path);
  Matrix mask = io::get_matrix(doc, "mask", -1, -1, path);
  for (Eigen::Index i = 0; i < mask.rows(); ++i)
    for (Eigen::Index j = 0; j < mask.cols(); ++j)
      if (mask(i, j) != 0.0f && mask(i, j) != 1.0f)
        throw InputError(fmt::format("{}: --mask cell [{}][{}] is {}; use 1 (may attend) or 0 (masked)", path, i, j, mask(i, j)));
  return mask;
}

}  // namespace

PipelineOptions pipeline_options(const CommonOptions& common, const AttentionFlags& f) {
  PipelineOptions p;
  p.backend = common.backend;
  p.attention.causal = f.causal;
  p.attention.temperature = f.temperature;
  p.attention.scale = !f.no_scale;
  if (f.mask_file) p.attention.mask = load_mask(*f.mask_file);
  p.positions = f.positions;
  p.context = f.context;
  return p;
}

std::string join_words(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

}  // namespace attnviz::cli
