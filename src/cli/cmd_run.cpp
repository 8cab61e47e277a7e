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
  const bool quiet = output_to_stdout(a.common);
  const std::string sentence = join_words(a.sentence);
  std::vector<std::string> sentences{sentence};
  if (a.attention.context) sentences.push_back(*a.attention.context);
  const Embeddings emb = load_embeddings_for_sentences(a.common, "toy", sentences);
  const Model model = resolve_model(a.common.model.value_or(default_model_for(emb, a.common.data_dir)), emb.dim, a.attention.heads,
                                    a.common.data_dir);
  const Trace trace = run_attention(emb, model, sentence, pipeline_options(a.common, a.attention));
  print_warnings(trace);
  // Everything is computed before anything is written, so a failure leaves no partial output.
  const std::string json = a.common.json ? to_pretty_json(trace_to_json(trace)) : std::string();
  const std::string html = a.common.html ? render_html(trace, html_options(a.common)) : std::string();
  if (a.common.json) write_output(*a.common.json, json);
  if (a.common.html) write_output(*a.common.html, html);
  if (!quiet) {
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
  attnviz run "the mouse clicked on the screen" --embeddings glove          (GloVe, identity model)
  attnviz run "mickey cocreated cartoons" --embeddings glove --unknown subword
  attnviz run "the cat sat" --embeddings ~/glove.6B.300d.txt --vocab-limit 20000
  attnviz run "the cat chased the mouse" --html cat.html   (one page, works offline)
  attnviz run "the cat chased the mouse" --backend cuda --timings
  attnviz "the cat chased the mouse"                 (run is the default command))");
  return {cmd, [args] { return run(*args); }};
}

}  // namespace attnviz::cli
