// attnviz explain SENTENCE --query WORD --key WORD: the full arithmetic behind one attention weight.

#include "attnviz/data.hpp"
#include "attnviz/explain.hpp"
#include "attnviz/export.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

struct ExplainArgs {
  std::vector<std::string> sentence;
  std::string query, key;
  int head = 1;
  CommonOptions common;
};

int explain(const ExplainArgs& a) {
  Settings settings = build_settings(a.common, false);
  const RenderOptions& render = settings.report.render;
  const std::string sentence = join_words(a.sentence);
  const auto [emb, model] = load_embeddings_and_model(a.common, {sentence});
  settings.pipeline.backend = "cpu";  // the arithmetic shown is the reference's
  const Trace trace = run_attention(emb, model, sentence, settings.pipeline);
  print_warnings(trace);
  const int query = find_token(trace.tokens, a.query, "--query", trace.sentence);
  const bool cross = !trace.context_tokens.empty();
  const int key = find_token(cross ? trace.context_tokens : trace.tokens, a.key, "--key", cross ? *trace.config.context : trace.sentence);
  const CellExplanation e = explain_cell(trace, a.head - 1, query, key);
  settings.output.write([&] { return trace_to_json(trace); });
  std::string out = render_explanation(e, trace, render);
  if (settings.output.timings()) out += "\n" + render_timings(trace, render);
  settings.output.print(out);
  return 0;
}

}  // namespace

Command add_explain_command(CLI::App& app) {
  auto args = std::make_shared<ExplainArgs>();
  CLI::App* cmd = app.add_subcommand("explain", "The arithmetic behind one attention weight, from q·k to its share of the context");
  cmd->add_option("sentence", args->sentence, "The sentence (quote it, or give its words as separate arguments)")
      ->required()
      ->type_name("SENTENCE");
  cmd->add_option("--query", args->query, "The token that looks (a row); WORD#2 for its second occurrence")->required()->type_name("WORD");
  cmd->add_option("--key", args->key, "The token looked at (a column); WORD#2 for its second occurrence")->required()->type_name("WORD");
  cmd->add_option("--head", args->head, "Which head, from 1 as the tables label them (default 1)")->check(in_range(1, 4096))->type_name("H");
  // Text computed by the reference: no stage tables to choose or shade, no page, no other backend.
  add_common_options(*cmd, args->common,
                     {{Group::data, Group::attention, Group::display, Group::output},
                      {"--stages", "--html", "--html-range", "--backend", "--kernel", "--glyphs", "--layout"},
                      {}});
  cmd->footer(R"(Examples:
  attnviz explain "the cat chased the mouse" --query mouse --key cat
  attnviz explain "the cat chased the mouse" --query cat --key mouse --causal      a masked cell: weight exactly 0
  attnviz explain "the cat chased the mouse" --query the#2 --key cat --precision 5
  attnviz explain "the cat chased the mouse" --query mouse --key cat --model identity --heads 2 --head 2
Every number equals the trace's (attnviz run ... --json -) at the printed precision.)");
  return {cmd, [args] { return explain(*args); }, reset_to_defaults(args)};
}

}  // namespace attnviz::cli
