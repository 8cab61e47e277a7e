// attnviz run SENTENCE: every stage of one sentence.
#include <iostream>

#include "attnviz/data.hpp"
#include "attnviz/export.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

struct RunArgs {
  std::vector<std::string> sentence;
  CommonOptions common;
  AttentionFlags attention;
};

int run(const RunArgs& a) {
  const ReportOptions report = report_options(a.common);  // checks --stages before any work
  const Embeddings emb = resolve_embeddings(a.common.embeddings.value_or("toy"), a.common.data_dir);
  const Model model = resolve_model(a.common.model.value_or("toy"), emb.dim, a.attention.heads, a.common.data_dir);
  const Trace trace = run_attention(emb, model, join_words(a.sentence), pipeline_options(a.common, a.attention));
  // Everything is computed before anything is written, so a failure leaves no partial output.
  if (a.common.json) write_output(*a.common.json, to_pretty_json(trace_to_json(trace)));
  if (a.common.json != "-") {
    std::cout << render_report(trace, report);
    if (a.common.timings) std::cout << "\n" << render_timings(trace, report.render);
    std::cout << std::flush;
  }
  return 0;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Every attention stage of one sentence, as tables (and JSON)");
  cmd->add_option("sentence", args->sentence, "The sentence (quote it, or give its words as separate arguments)")
      ->required()
      ->type_name("SENTENCE");
  add_common_options(*cmd, args->common);
  add_attention_options(*cmd, args->attention);
  cmd->footer(R"(Examples:
  attnviz run "the cat chased the mouse"
  attnviz run "the cat chased the mouse" --stages weights,output --precision 2
  attnviz run "a computer mouse is a pointing device" --json trace.json
  attnviz run "the cat chased the mouse" --backend cuda --timings
  attnviz "the cat chased the mouse"                 (run is the default command))");
  return {cmd, [args] { return run(*args); }};
}

}  // namespace attnviz::cli
