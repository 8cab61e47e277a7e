// Options every command shares (DESIGN.md §4), and turning them into library settings.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "attnviz/html.hpp"
#include "attnviz/output_file.hpp"
#include "attnviz/pipeline.hpp"
#include "attnviz/render.hpp"
#include "attnviz/report.hpp"

namespace attnviz::cli {

struct CommonOptions {
  std::optional<std::string> embeddings;  // NAME|PATH; default from the lesson or "toy"
  std::optional<std::string> model;       // NAME|PATH; default from the lesson or "toy"
  std::optional<std::string> json;        // PATH or "-"
  std::optional<std::string> html;        // PATH or "-": the self-contained HTML report
  std::string color = "auto";
  bool ascii = false;
  std::optional<int> width;
  int precision = 3;
  std::optional<std::string> stages;
  std::string backend = "cpu";
  bool timings = false;
  std::optional<std::string> data_dir;
  bool glyphs = false;                 // shading characters in each cell (projectors, printouts)
  std::string palette = "standard";    // standard | colorblind
  std::string unknown = "error";                // --unknown error|subword|zero
  std::size_t vocab_limit = kDefaultVocabLimit;  // --vocab-limit N
};

struct AttentionFlags {
  int heads = 0;  // 0: the model's own
  bool causal = false;
  std::optional<std::string> mask_file;
  double temperature = 1.0;  // checked, then narrowed to float32, in pipeline_options
  bool no_scale = false;
  std::string positions = "none";
  std::optional<std::string> context;
  int threads = 0;                  // 0: the hardware's concurrency
  std::string max_memory = "2G";    // the standard backend's n × n matrices may use at most this
};

// The classroom options of run and demo: pause after each stage, narrate, the query the class guesses for.
struct ClassroomFlags {
  bool step = false;
  bool narrate = false;
  std::optional<std::string> query;
};

void add_common_options(CLI::App& app, CommonOptions& options);
void add_classroom_options(CLI::App& app, ClassroomFlags& flags);
void add_attention_options(CLI::App& app, AttentionFlags& flags);
// --threads and --max-memory (part of add_attention_options; `attnviz bench` adds them alone).
void add_performance_options(CLI::App& app, int& threads, std::string& max_memory);

// "512M", "2G", "64K", "1000" (bytes) -> bytes; InputError naming `option` otherwise.
double parse_memory_size(const std::string& text, const std::string& option);

// The embeddings for `sentences` (NAME|PATH, default `fallback`): a big file keeps only their words (and
// `extra_words`) plus the first --vocab-limit words.
Embeddings load_embeddings_for_sentences(const CommonOptions& options, const std::string& fallback,
                                         const std::vector<std::string>& sentences, const std::vector<std::string>& extra_words = {});
// The embeddings (a big file keeps the words of `sentences`, of --context and `extra_words`) and the model
// (--model, default the one that goes with the embeddings; --heads), as every sentence command loads them.
struct EmbeddingsAndModel {
  Embeddings emb;
  Model model;
};
EmbeddingsAndModel load_embeddings_and_model(const CommonOptions& options, const AttentionFlags& flags,
                                             std::vector<std::string> sentences, const std::vector<std::string>& extra_words = {});
// Prints a trace's warnings (split or zeroed words) to standard error.
void print_warnings(const Trace& trace);

RenderOptions render_options(const CommonOptions& options);
ReportOptions report_options(const CommonOptions& options);
HtmlOptions html_options(const CommonOptions& options);

// Whether --json or --html writes to standard output (then no tables are printed). InputError when both
// ask for it, before any work.
bool output_to_stdout(const CommonOptions& options);
// Refuses (InputError, before any work) --json and --html naming one file, or an output that is an input:
// the embeddings (default `default_embeddings`), the model, --mask FILE or `more_inputs` (src/cli/file_checks.cpp).
void check_command_files(const CommonOptions& options, const std::string& default_embeddings,
                         const std::optional<std::string>& mask_file, const std::vector<NamedFile>& more_inputs = {});
// The library settings of the flags; --json counts against --max-memory (add_output_memory).
PipelineOptions pipeline_options(const CommonOptions& common, const AttentionFlags& flags);
// Counts what the outputs add per stored n × m cell against --max-memory: the JSON export (`json`) and the
// terminal tables of scores, scaled_scores and weights (`attention_tables`).
void add_output_memory(PipelineOptions& options, bool json, bool attention_tables);
// Whether the report prints any n × m table (scores, scaled_scores, weights) with these --stages.
bool prints_attention_tables(const ReportOptions& report, bool quiet);

// Whether --step may wait for keys: standard input and output are both terminals.
bool step_is_interactive();

// Removes options a command accepts from the shared set but has no use for (so --help never lists them).
void remove_options(CLI::App& app, const std::vector<std::string>& names);

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

}  // namespace attnviz::cli
