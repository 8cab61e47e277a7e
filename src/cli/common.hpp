// Options every command shares, in groups, turned once into the run's settings; the one output writer.
#pragma once

#include <cctype>
#include <charconv>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "attnviz/html.hpp"
#include "attnviz/output_file.hpp"
#include "attnviz/pipeline.hpp"
#include "attnviz/render.hpp"
#include "attnviz/report.hpp"

namespace attnviz::cli {

// The options commands share, in four groups. A command opts into the groups it honours (and may leave out
// single options of them it cannot honour), so every option a command accepts changes what it does: the
// parser's tables are the list of what each command honours (tests/test_option_matrix.cpp checks it).
enum class Group { data, attention, display, output };

// data: where the words and weights come from.
struct DataOptions {
  std::optional<std::string> embeddings;  // NAME|PATH; default from the lesson or "toy"
  std::optional<std::string> model;       // NAME|PATH; default from the lesson or "toy"
  double gain = 1.0;                      // --gain G: the identity model's W_q = G · I
  std::string unknown = "error";                 // --unknown error|subword|zero
  std::size_t vocab_limit = kDefaultVocabLimit;  // --vocab-limit N
  std::optional<std::string> data_dir;
};

// attention: what is computed, and where.
struct AttentionFlags {
  int heads = 0;  // 0: the model's own
  int layer = 1;  // --layer N: which layer of a trained language model (from 1)
  bool causal = false;
  std::optional<std::string> mask_file;
  double temperature = 1.0;  // checked, then narrowed to float32, in build_settings
  bool no_scale = false;
  bool exclude_self = false;        // --exclude-self: the diagonal masked
  std::string positions = "none";
  std::optional<std::string> context;
  std::string backend = "cpu";
  int kernel = 0;                   // --kernel N: cuda-flash's kernel version (0: ATTNVIZ_FLASH_VERSION or the default)
  int threads = 0;                  // 0: the hardware's concurrency
  std::string max_memory = "2G";    // the standard backend's n × n matrices may use at most this
};

// display: how the terminal tables look.
struct DisplayOptions {
  std::string color = "auto";
  bool ascii = false;
  std::optional<int> width;
  int precision = 3;
  std::optional<std::string> stages;
  bool glyphs = false;                 // shading characters in each cell (projectors, printouts)
  std::string palette = "standard";    // standard | colorblind
  std::string layout = "auto";         // auto | full | compact (render.hpp's Layout)
};

// output: what is written besides the tables.
struct OutputOptions {
  std::optional<std::string> json;  // PATH or "-"
  std::optional<std::string> html;  // PATH or "-": the self-contained HTML report
  std::string html_range = "unit";   // --html-range unit|matrix: the weights' colour range on the page
  bool timings = false;
};

struct CommonOptions {
  DataOptions data;
  AttentionFlags attention;
  DisplayOptions display;
  OutputOptions output;
};

// The groups a command takes, less the options of them it leaves out, plus single options of other groups.
struct OptIn {
  std::vector<Group> groups;
  std::vector<std::string> without;  // e.g. "--html" for a command that writes no page
  std::vector<std::string> also;     // e.g. "--backend" for a command without the attention group
};

// Adds the options of `opt_in` to `app`, bound to `options`.
void add_common_options(CLI::App& app, CommonOptions& options, const OptIn& opt_in);
// The group an option belongs to (for the docs and tests); nullopt for a command's own option.
std::optional<Group> group_of(const std::string& option);

// The classroom options of run and demo: pause after each stage, narrate, the query the class guesses for.
struct ClassroomFlags {
  bool step = false;
  bool narrate = false;
  std::optional<std::string> query;
};

void add_classroom_options(CLI::App& app, ClassroomFlags& flags);
// --threads and --max-memory (part of the attention group; `attnviz bench` adds them alone).
void add_performance_options(CLI::App& app, int& threads, std::string& max_memory);
// --max-memory alone (the commands on a trained model, corpus); the command sets the budget from it
// (set_memory_budget(parse_memory_size(...))) before it reads any file.
void add_memory_option(CLI::App& app, std::string& max_memory);

// The one writer of a command's outputs: --json and --html files (through write_output) and the tables on
// standard output. InputError, when built, if --json - and --html - both want standard output.
class Output {
 public:
  Output() = default;
  explicit Output(const OutputOptions& options);
  // Whether the tables are printed: not when --json - or --html - writes to standard output.
  bool tables() const { return tables_; }
  bool json() const { return options_.json.has_value(); }
  bool html() const { return options_.html.has_value(); }
  bool timings() const { return options_.timings; }
  // Writes what --json and --html ask for; both are made before either is written, so a failure in making
  // them leaves no file. `html` may be empty for a command that does not take --html.
  void write(const std::function<nlohmann::ordered_json()>& json, const std::function<std::string()>& html = {}) const;
  // Prints the tables (when tables()).
  void print(const std::string& text) const;

 private:
  OutputOptions options_;
  bool tables_ = true;
};

// Refuses (InputError, before any work) --json and --html naming one file, or an output that is an input:
// the embeddings (default `default_embeddings`), the model, --mask or `more_inputs` (src/cli/file_checks.cpp).
// build_settings calls it with the default embeddings "toy"; demo again with the lesson's.
void check_command_files(const CommonOptions& options, const std::string& default_embeddings,
                         const std::vector<NamedFile>& more_inputs = {});

// check_output_files for the command's --json and --html against `inputs` (files known only once read: a
// trained model's own embeddings).
void check_outputs_against(const CommonOptions& options, const std::vector<NamedFile>& inputs);
// Adds to `inputs` the file a NAME|PATH input of `kind` ("embeddings", "models", "lessons") means, when it
// resolves (a name that does not is reported by its loader; "identity" is no file).
void add_input(std::vector<NamedFile>& inputs, const std::string& option, const std::string& kind, const std::string& spec,
               const std::optional<std::string>& data_dir);
// Adds a corpus directory's files (train.txt, dev.txt, test.txt, corpus.json), named by `option`.
void add_corpus_inputs(std::vector<NamedFile>& files, const std::string& option, const std::string& dir);
// What a command on a trained model reads, for check_output_files: the model file, its embeddings, and the
// sentences (every file of --corpus DIR, or --text FILE).
std::vector<NamedFile> trained_model_inputs(const LoadedLm& lm, const std::optional<std::string>& corpus,
                                            const std::optional<std::string>& text, const std::optional<std::string>& data_dir);

// The settings of one run, built and checked once from the options, before any work: a bad --stages,
// --temperature, --mask, --max-memory or pair of outputs fails here.
struct Settings {
  ReportOptions report;  // the render options and --stages
  HtmlOptions html;
  PipelineOptions pipeline;
  Output output;
};
// `report_tables`: the command prints the report's tables (run, demo), whose n × m tables count against
// --max-memory with the JSON export.
Settings build_settings(const CommonOptions& options, bool report_tables);
// The display options alone as render options (colour, locale, width), for a command that takes only those.
RenderOptions render_options(const DisplayOptions& display);

// CLI11's Range (its description and its "Value 3000 not in range 20 to 100000"), after a check that the
// value is a number at all: "--width abc" says "'abc' is not a number" and "--temperature ''" is refused
// instead of read as 0. `number()` is that check alone.
CLI::Validator number();
// Whether `input` is digits only (no sign) whose value fits T.
template <typename T>
bool unsigned_fits(const std::string& input) {
  T value{};
  const auto [end, error] = std::from_chars(input.data(), input.data() + input.size(), value);
  return !input.empty() && std::isdigit(static_cast<unsigned char>(input[0])) && error == std::errc() && end == input.data() + input.size();
}
template <typename T>
CLI::Validator in_range(T lo, T hi) {
  const CLI::Range range(lo, hi);
  const CLI::Validator is_number = number();
  return CLI::Validator(
      [range, is_number, lo, hi](std::string& input) {
        (void)lo, (void)hi;  // used only for unsigned T below (clang: -Wunused-lambda-capture)
        std::string why = is_number(input);
        T value{};
        if (why.empty() && std::is_integral_v<T> && !CLI::detail::lexical_cast(input, value)) why = "'" + input + "' is not a whole number";
        // CLI11 reads "-1" and anything past the largest value as the largest value: a seed of -1 or 2^70
        // would silently be 2^64 − 1.
        if constexpr (std::is_unsigned_v<T>)
          if (why.empty() && !unsigned_fits<T>(input)) why = "Value " + input + " not in range " + std::to_string(lo) + " to " + std::to_string(hi);
        return why.empty() ? range(input) : why;
      },
      range.get_description());
}

// Refuses an output path that is an option's name ("--json --color cat" would write a file named
// "--color"): "--color is an option, not a file name (a file of that name: ./--color)".
CLI::Validator output_path();

// "512M", "2G", "64K", "1000" (bytes) -> bytes; InputError naming `option` otherwise.
double parse_memory_size(const std::string& text, const std::string& option);

// The embeddings for `sentences` (--embeddings NAME|PATH, default `fallback`): a big file keeps only their
// words (and `extra_words`) plus the first --vocab-limit words.
Embeddings load_embeddings_for_sentences(const DataOptions& data, const std::string& fallback,
                                         const std::vector<std::string>& sentences, const std::vector<std::string>& extra_words = {});
// The embeddings (a big file keeps the words of `sentences`, of --context and `extra_words`) and the model
// (--model, default the one that goes with the embeddings; --heads), as every sentence command loads them.
struct EmbeddingsAndModel {
  Embeddings emb;
  Model model;
};
EmbeddingsAndModel load_embeddings_and_model(const CommonOptions& options, std::vector<std::string> sentences,
                                             const std::vector<std::string>& extra_words = {});
// Prints a trace's warnings (split or zeroed words) to standard error.
void print_warnings(const Trace& trace);

// The traces a command keeps while it computes the next (compare's sentences, a demo's lesson): together they
// count against --max-memory. Each sentence runs within what the ones before it left, and the total is
// checked after each; `hint` says what to do when they do not fit. run() also prints the trace's warnings.
struct KeptTraces {
  KeptTraces(PipelineOptions all, std::string what_to_do) : options(std::move(all)), hint(std::move(what_to_do)) {}
  PipelineOptions options;  // max_memory_bytes: the budget of them all
  std::string hint;
  std::vector<Trace> traces;
  double held = 0;  // bytes of the traces so far: their cells, each as the outputs asked for
  const Trace& run(const Embeddings& emb, const Model& model, const std::string& sentence);
};

// Counts what the outputs add per stored n × m cell against --max-memory: the JSON export (`json`) and the
// terminal tables of scores, scaled_scores and weights (`attention_tables`).
void add_output_memory(PipelineOptions& options, bool json, bool attention_tables);

// Whether --step may wait for keys: standard input and output are both terminals.
bool step_is_interactive();

// The joined words of a positional SENTENCE given as one or several arguments.
std::string join_words(const std::vector<std::string>& words);

// A registered command: its CLI11 subcommand, what runs when it was given (returns the exit code), and
// what puts its options back to their defaults before another parse with the same CLI11 app.
struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
  std::function<void()> reset;
};

// A Command's `reset`: a fresh, default-constructed T in place (the options stay bound to its members).
template <typename T>
std::function<void()> reset_to_defaults(const std::shared_ptr<T>& args) {
  return [args] {
    T fresh;
    std::swap(*args, fresh);
  };
}

// Registration of each command (one file each).
Command add_run_command(CLI::App& app);
Command add_demo_command(CLI::App& app);
Command add_flash_command(CLI::App& app);
Command add_bench_command(CLI::App& app);
Command add_explain_command(CLI::App& app);
Command add_compare_command(CLI::App& app);
Command add_corpus_command(CLI::App& app);
Command add_train_command(CLI::App& app);
Command add_evaluate_command(CLI::App& app);
Command add_heads_command(CLI::App& app);
Command add_generate_command(CLI::App& app);
Command add_explore_command(CLI::App& app);
Command add_words_command(CLI::App& app);
Command add_lesson_command(CLI::App& app);

}  // namespace attnviz::cli
