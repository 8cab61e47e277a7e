// attnviz demo [NAME]: the bundled lessons (data/lessons), e.g. the two "mouse" sentences.
#include <iostream>

#include <fmt/format.h>

#include "attnviz/data.hpp"
#include "attnviz/error.hpp"
#include "attnviz/explain.hpp"
#include "attnviz/export.hpp"
#include "attnviz/lesson.hpp"
#include "attnviz/lesson_truth.hpp"
#include "attnviz/limits.hpp"
#include "attnviz/step.hpp"
#include "../render/text_table.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

struct DemoArgs {
  std::optional<std::string> name;
  CommonOptions common;
  ClassroomFlags classroom;
};

int list_lessons(const DataOptions& data) {
  auto names = list_data("lessons", data.data_dir);
  if (names.empty()) throw InputError("no bundled lessons were found; point --data-dir or ATTNVIZ_DATA at attnviz's data folder");
  std::cout << "Bundled lessons (run one with: attnviz demo NAME)\n";
  for (const auto& n : names) {
    const Lesson l = load_lesson(find_data_file("lessons", n, data.data_dir));
    std::cout << fmt::format("  {:<12} {}\n", n, l.title);
  }
  return 0;
}

// The lesson's attention (--backend, --kernel, --threads and --max-memory stay the user's).
AttentionFlags lesson_flags(const LessonOptions& o, const AttentionFlags& user) {
  AttentionFlags f;
  f.backend = user.backend;
  f.kernel = user.kernel;
  f.threads = user.threads;
  f.max_memory = user.max_memory;
  f.heads = o.heads;
  f.layer = o.layer;
  f.causal = o.causal;
  f.temperature = o.temperature;
  f.no_scale = o.no_scale;
  f.positions = o.positions;
  return f;
}

// A word-order lesson: sentence 1 against each reordering, without positions and with sinusoidal ones.
std::string word_order_section(const Embeddings& emb, const Model& model, const Lesson& lesson, PipelineOptions options,
                               const RenderOptions& ro) {
  std::string out;
  for (const char* positions : {"none", "sinusoidal"}) {
    options.positions = positions;
    const Trace first = run_attention(emb, model, lesson.sentences[0], options);
    for (std::size_t i = 1; i < lesson.sentences.size(); ++i) {
      const Trace other = run_attention(emb, model, lesson.sentences[i], options);
      out += "\n" + render_word_order(first, other, compare_word_order(first, other), ro);
    }
  }
  return out;
}

int demo(const DemoArgs& a) {
  if (!a.name) return list_lessons(a.common.data);
  const DataOptions& data = a.common.data;
  // The lesson file is read within --max-memory too: the budget is set before it (build_settings needs the lesson).
  set_memory_budget(parse_memory_size(a.common.attention.max_memory, "--max-memory"));
  const Lesson lesson = resolve_lesson(*a.name, data.data_dir);
  const std::filesystem::path lesson_file = input_file("lessons", *a.name, data.data_dir);
  CommonOptions common = a.common;
  common.attention = lesson_flags(lesson.options, a.common.attention);
  Settings settings = build_settings(common, true);
  std::vector<NamedFile> lesson_inputs{{"demo", lesson_file.string()}};
  // The lesson's own model, read unless --model or --embeddings choose another.
  if (!data.model && !data.embeddings) add_input(lesson_inputs, "the lesson's model", "models", lesson.model, data.data_dir);
  check_command_files(common, lesson.embeddings, lesson_inputs);
  ReportOptions& report = settings.report;
  std::vector<std::string> extra;
  if (!lesson.word.empty()) extra.push_back(lesson.word);
  for (const auto& nb : lesson.neighbourhoods) extra.insert(extra.end(), nb.words.begin(), nb.words.end());
  const Embeddings emb = load_embeddings_for_sentences(data, lesson.embeddings, lesson.sentences, extra);
  // The lesson's model goes with the lesson's embeddings; with other embeddings, their default model.
  const std::string model_name = data.model.value_or(data.embeddings ? default_model_for(emb, data.data_dir) : lesson.model);
  const Model model = resolve_model(model_name, emb.dim, lesson.options.heads, data.data_dir,
                                    model_name == lesson.model ? lesson.options.layer - 1 : 0, data.gain);
  const PipelineOptions& options = settings.pipeline;
  const bool shows_shift = !lesson.word.empty();

  // Compute every sentence first: an unknown word fails the demo before anything is printed or written.
  // Every sentence's trace is kept: together they count against --max-memory, as compare's do.
  KeptTraces kept{options, "use a lesson with fewer or shorter sentences, or raise --max-memory"};
  const std::vector<Trace>& traces = kept.traces;
  std::vector<LessonNumbers> numbers;
  for (const auto& sentence : lesson.sentences) {
    kept.run(emb, model, sentence);
    if (shows_shift)
      numbers.push_back(lesson_numbers(traces.back(), emb, model, lesson.word, lesson.neighbourhoods, report.render.precision));
    if (a.classroom.query) find_token(traces.back().tokens, *a.classroom.query, "--query", traces.back().sentence);
  }
  // A claim of the lesson's that its numbers do not bear out is said, on standard error and in the summary.
  // The claims speak of the lesson's own embeddings and model: with others they are not checked (and said so).
  const bool own_data = !data.embeddings && !data.model && data.gain == 1.0;
  std::vector<std::string> failed_claims = shows_shift && own_data ? check_claims(lesson, traces, numbers) : std::vector<std::string>{};
  for (const auto& f : failed_claims) std::cerr << "attnviz: warning: " << f << "\n";
  if (!own_data && !lesson.claims.empty())
    failed_claims.push_back(fmt::format("the description speaks of the lesson's own embeddings ({}) and model ({}); with {} and {} its "
                                        "claims are not checked: read the numbers above",
                                        lesson.embeddings, lesson.model, emb.name, model.name));
  const RenderOptions& ro = report.render;
  const std::string word_order = lesson.options.word_order ? word_order_section(emb, model, lesson, options, ro) : "";
  // The page carries what the terminal prints after the sentences: the key to the summary, the claim notes
  // and the word-order comparison (plain text, as a wide terminal shows it).
  const auto closing_text = [&] {
    RenderOptions plain;
    plain.width = 100;
    plain.precision = ro.precision;
    std::string text = shows_shift ? render_lesson_key(plain) : "";
    text += render_claim_notes(failed_claims, plain);
    if (lesson.options.word_order) text += word_order_section(emb, model, lesson, options, plain);
    return text;
  };
  settings.output.write(
      [&] {
        nlohmann::ordered_json all = nlohmann::ordered_json::array();
        for (std::size_t i = 0; i < traces.size(); ++i) {
          all.push_back(trace_to_json(traces[i]));
          if (shows_shift) all.back()["lesson"] = lesson_to_json(numbers[i]);
        }
        return traces.size() == 1 ? all[0] : all;
      },
      [&] {
        // One page for the whole lesson: each sentence's stages, then how the lesson's word moved.
        std::vector<HtmlSection> sections;
        for (std::size_t i = 0; i < traces.size(); ++i)
          sections.push_back(HtmlSection{traces[i], lesson.word, shows_shift ? std::optional(numbers[i]) : std::nullopt});
        HtmlOptions page = settings.html;
        page.title = lesson.title;
        page.description = lesson.description;
        page.closing = closing_text();
        return render_html(sections, page);
      });
  if (!settings.output.tables()) return 0;

  // --step pauses inside each report and between the sentences; the class guesses for the lesson's word.
  StepController step(std::cin, std::cout, step_is_interactive(), ro.unicode, ro.precision);
  if (a.classroom.query || !lesson.word.empty()) step.set_guess_query(a.classroom.query.value_or(lesson.word));
  report.narrate = a.classroom.narrate;
  int heads = model.heads;
  if (a.classroom.step)
    report.before_stage = [&](const std::string& shown, const Stage& next) { return step.before_stage(shown, next, heads); };

  std::string out = render_detail::wrap_text(lesson.title, ro.width) + render_detail::wrap_text(lesson.description, ro.width);
  for (std::size_t i = 0; i < traces.size(); ++i) {
    if (a.classroom.step && i > 0 && !step.pause(out, fmt::format("sentence {} of {}", i + 1, traces.size()))) return 0;
    if (a.classroom.step && i > 0) out.clear();
    out += fmt::format("\n{} sentence {} of {} {}\n", ro.unicode ? "━━━" : "===", i + 1, traces.size(), ro.unicode ? "━━━" : "===");
    if (a.classroom.step) {  // the report's pauses print as they go: show what precedes it first
      std::cout << out;
      out.clear();
    }
    // The class's guess is scored against what the lesson claims the word attends to in this sentence.
    step.set_expected({});
    if (!a.classroom.query || *a.classroom.query == lesson.word)
      for (const auto& claim : lesson.claims)
        if (claim.sentence == static_cast<int>(i) + 1 && !claim.attends_to.empty()) step.set_expected(claim.attends_to, claim.head - 1);
    out += render_report(traces[i], report);
    if (step.quit()) return 0;
    if (shows_shift) out += "\n" + render_lesson_numbers(numbers[i], ro);
    if (settings.output.timings()) out += "\n" + render_timings(traces[i], ro);
  }
  if (a.classroom.step && !step.pause(out, "summary")) return 0;
  if (a.classroom.step) out.clear();
  out += fmt::format("\n{} summary {}\n", ro.unicode ? "━━━" : "===", ro.unicode ? "━━━" : "===");
  for (std::size_t i = 0; i < traces.size(); ++i) {
    out += render_detail::wrap_text(fmt::format("sentence {}: \"{}\"", i + 1, traces[i].sentence), ro.width, 2);
    if (shows_shift) out += render_lesson_numbers(numbers[i], ro);
  }
  if (shows_shift) out += render_lesson_key(ro);
  out += render_claim_notes(failed_claims, ro);
  out += word_order;
  settings.output.print(out);
  return 0;
}

}  // namespace

Command add_demo_command(CLI::App& app) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* cmd = app.add_subcommand("demo", "A bundled lesson; without NAME, the list of lessons");
  cmd->add_option("name", args->name, "The lesson to run: a bundled one (e.g. mouse) or a lesson file (e.g. ./mylesson.json)")
      ->type_name("NAME|PATH");
  // The lesson sets the attention; --backend (and --kernel) choose where it is computed, --threads and
  // --max-memory (added with it) how.
  add_common_options(*cmd, args->common, {{Group::data, Group::display, Group::output}, {}, {"--backend", "--kernel", "--threads"}});
  add_classroom_options(*cmd, args->classroom);
  cmd->footer(R"(Examples:
  attnviz demo                     list the bundled lessons
  attnviz demo mouse               "mouse" next to Mickey, then next to a computer
  attnviz demo mouse-glove                   the same on real GloVe vectors (identity model)
  attnviz demo mouse --stages weights,output --color always
  attnviz demo mouse --step --narrate --glyphs    in class: one stage at a time, explained, projector-safe
  attnviz demo mouse --html mouse.html       the whole lesson as one page, for the projector or to keep
  attnviz demo word-order --stages weights   the same words reordered, without and with positions
  attnviz demo causal                        GPT-style: a word sees only itself and the words before it
  attnviz demo two-heads                     one head attends by meaning, the other to the previous word)");
  return {cmd, [args] { return demo(*args); }, reset_to_defaults(args)};
}

}  // namespace attnviz::cli
