// attnviz demo [NAME]: the bundled lessons (data/lessons), e.g. the two "mouse" sentences.
#include <iostream>

#include <fmt/format.h>

#include "attnviz/data.hpp"
#include "attnviz/error.hpp"
#include "attnviz/export.hpp"
#include "attnviz/lesson.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

struct DemoArgs {
  std::optional<std::string> name;
  CommonOptions common;
};

int list_lessons(const CommonOptions& common) {
  auto names = list_data("lessons", common.data_dir);
  if (names.empty()) throw InputError("no bundled lessons were found; point --data-dir or ATTNVIZ_DATA at attnviz's data folder");
  std::cout << "Bundled lessons (run one with: attnviz demo NAME)\n";
  for (const auto& n : names) {
    const Lesson l = load_lesson(find_data_file("lessons", n, common.data_dir));
    std::cout << fmt::format("  {:<12} {}\n", n, l.title);
  }
  return 0;
}

int demo(const DemoArgs& a) {
  if (!a.name) return list_lessons(a.common);
  const ReportOptions report = report_options(a.common);
  const Lesson lesson = load_lesson(find_data_file("lessons", *a.name, a.common.data_dir));
  const Embeddings emb = resolve_embeddings(a.common.embeddings.value_or(lesson.embeddings), a.common.data_dir);
  const Model model = resolve_model(a.common.model.value_or(lesson.model), emb.dim, 0, a.common.data_dir);
  PipelineOptions options;
  options.backend = a.common.backend;

  // Compute every sentence first: an unknown word fails the demo before anything is printed or written.
  std::vector<Trace> traces;
  std::vector<std::vector<Shift>> shifts;
  for (const auto& sentence : lesson.sentences) {
    traces.push_back(run_attention(emb, model, sentence, options));
    shifts.push_back(word_shift(traces.back(), emb, lesson.word, lesson.neighbourhoods));
  }
  if (a.common.json) {
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (const auto& t : traces) all.push_back(trace_to_json(t));
    write_output(*a.common.json, to_pretty_json(traces.size() == 1 ? all[0] : all));
  }
  if (a.common.json == "-") return 0;

  const RenderOptions& ro = report.render;
  std::string out = fmt::format("{}\n{}\n", lesson.title, lesson.description);
  for (std::size_t i = 0; i < traces.size(); ++i) {
    out += fmt::format("\n{} sentence {} of {} {}\n", ro.unicode ? "━━━" : "===", i + 1, traces.size(), ro.unicode ? "━━━" : "===");
    out += render_report(traces[i], report);
    out += "\n" + render_shift(lesson.word, shifts[i], ro);
    if (a.common.timings) out += "\n" + render_timings(traces[i], ro);
  }
  out += fmt::format("\n{} summary {}\n", ro.unicode ? "━━━" : "===", ro.unicode ? "━━━" : "===");
  for (std::size_t i = 0; i < traces.size(); ++i) {
    out += fmt::format("sentence {}: \"{}\"\n", i + 1, traces[i].sentence);
    out += render_shift(lesson.word, shifts[i], ro);
  }
  std::cout << out << std::flush;
  return 0;
}

}  // namespace

Command add_demo_command(CLI::App& app) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* cmd = app.add_subcommand("demo", "A bundled lesson; without NAME, the list of lessons");
  cmd->add_option("name", args->name, "The lesson to run, e.g. mouse")->type_name("NAME");
  add_common_options(*cmd, args->common);
  cmd->footer(R"(Examples:
  attnviz demo                     list the bundled lessons
  attnviz demo mouse               "mouse" next to Mickey, then next to a computer
  attnviz demo mouse --stages weights,output --color always)");
  return {cmd, [args] { return demo(*args); }};
}

}  // namespace attnviz::cli
