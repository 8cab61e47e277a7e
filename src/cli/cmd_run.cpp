// attnviz run SENTENCE: every stage of one sentence.
#include <iostream>

#include <fmt/format.h>

#include "attnviz/compare.hpp"
#include "attnviz/data.hpp"
#include "attnviz/error.hpp"
#include "attnviz/explain.hpp"
#include "attnviz/export.hpp"
#include "attnviz/step.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

struct RunArgs {
  std::vector<std::string> sentence;
  CommonOptions common;
  ClassroomFlags classroom;
  int neighbours = 0;
  std::optional<int> head;  // --head H, from 1
};

int run(const RunArgs& a) {
  Settings settings = build_settings(a.common, true);  // checks every option before any work
  ReportOptions& report = settings.report;
  const std::string sentence = join_words(a.sentence);
  const auto [emb, model] = load_embeddings_and_model(a.common, {sentence});
  const Trace trace = run_attention(emb, model, sentence, settings.pipeline);
  print_warnings(trace);
  if (a.classroom.query) find_token(trace.tokens, *a.classroom.query, "--query", trace.sentence);
  if (a.head && *a.head > trace.config.heads)
    throw InputError(fmt::format("--head {} does not exist: the model '{}' has {} head{}", *a.head, trace.config.model, trace.config.heads,
                                 trace.config.heads == 1 ? "" : "s"));
  if (a.head) report.head = settings.html.open_head = *a.head - 1;
  settings.output.write([&] { return trace_to_json(trace); }, [&] { return render_html(trace, settings.html); });
  if (!settings.output.tables()) return 0;

  report.narrate = a.classroom.narrate;
  StepController step(std::cin, std::cout, step_is_interactive(), report.render.unicode, report.render.precision, report.render.width);
  step.set_guess_query(a.classroom.query);
  if (a.classroom.step)
    report.before_stage = [&](const std::string& shown, const Stage& next) { return step.before_stage(shown, next, trace.config.heads); };
  std::string out = render_report(trace, report);
  if (step.quit()) return 0;
  if (a.neighbours > 0) out += "\n" + render_output_neighbours(trace, emb, a.neighbours, report.render);
  if (settings.output.timings()) out += "\n" + render_timings(trace, report.render);
  settings.output.print(out);
  return 0;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* cmd = app.add_subcommand("run", "Every attention stage of one sentence, as tables (and JSON)");
  cmd->add_option("sentence", args->sentence, "The sentence (quote it, or give its words as separate arguments)")
      ->required()
      ->type_name("SENTENCE");
  add_common_options(*cmd, args->common, {{Group::data, Group::attention, Group::display, Group::output}, {}, {}});
  add_classroom_options(*cmd, args->classroom);
  cmd->add_option("--neighbours", args->neighbours, "Also list the K nearest vocabulary words of every token's output")
      ->check(in_range(1, 1000))
      ->type_name("K");
  cmd->add_option("--head", args->head, "Print only head H's per-head tables (from 1); the page keeps every head but unfolds only H's, the JSON keeps every head")
      ->check(in_range(1, 4096))
      ->type_name("H");
  cmd->footer(R"(Examples:
  attnviz run "the cat chased the mouse"
  attnviz run "the cat chased the mouse" --stages weights,output --precision 2
  attnviz run "the cat chased the mouse" --step --query mouse --narrate     a lesson, one stage at a time
  attnviz run "a computer mouse is a pointing device" --neighbours 3 --glyphs --palette colorblind
  attnviz run "a computer mouse is a pointing device" --json trace.json
  attnviz run "the mouse clicked on the screen" --embeddings glove          (GloVe, identity model)
  attnviz run "mickey cocreated cartoons" --embeddings glove --unknown subword
  attnviz run "the cat sat" --embeddings ~/glove.6B.300d.txt --vocab-limit 20000
  attnviz run "the cat chased the mouse" --html cat.html   (one page, works offline)
  attnviz run "the cat chased the mouse" --backend cuda --timings
  attnviz run "the computer mouse" --model wordnet-lm --layer 2 --head 1   (the trained model's own forward)
  attnviz "the cat chased the mouse"                 (run is the default command))");
  return {cmd, [args] { return run(*args); }, reset_to_defaults(args)};
}

}  // namespace attnviz::cli
