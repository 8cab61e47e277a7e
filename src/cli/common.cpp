#include "common.hpp"

#include "attnviz/limits.hpp"

#include <algorithm>
#include <cstdlib>
#include <cctype>
#include <cmath>
#include <iostream>
#include <new>

#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "attnviz/attention.hpp"
#include "attnviz/data.hpp"
#include "attnviz/error.hpp"
#include "attnviz/export.hpp"
#include "attnviz/mask.hpp"
#include "attnviz/tokenizer.hpp"
#include "attnviz/train.hpp"

namespace attnviz::cli {

namespace {

// One shared option: its name, its group, and how it is added to a command, bound to CommonOptions.
struct SharedOption {
  const char* name;
  Group group;
  std::function<void(CLI::App&, CommonOptions&)> add;
};

// Every shared option, group by group, in the order --help lists them.
const std::vector<SharedOption>& shared_options() {
  static const std::vector<SharedOption> table{
      {"--embeddings", Group::data,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--embeddings", o.data.embeddings,
                        "Word vectors: a bundled name (toy, glove) or a file: attnviz or wink JSON, GloVe or word2vec text "
                        "(a bundled name always means the bundled data: a file named like one is ./toy)")
             ->type_name("NAME|PATH");
       }},
      {"--model", Group::data,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--model", o.data.model,
                        "Attention weights: a bundled name (toy), 'identity', or a JSON file (default: toy for the toy "
                        "embeddings, identity for others; a bundled name always means the bundled model: a file named "
                        "like one is ./toy)")
             ->type_name("NAME|PATH");
       }},
      {"--gain", Group::data,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--gain", o.data.gain,
                        "With the identity model: W_q = G times the identity, so every score is G times the dot product of "
                        "two embeddings (a readable pattern from small embeddings, whose rows are otherwise nearly uniform; "
                        "default 1)")
             ->type_name("G");
       }},
      {"--json", Group::output,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--json", o.output.json,
                        "Write the trace of every stage as JSON to PATH ('-': standard output, tables suppressed)")
             ->check(output_path())
             ->type_name("PATH|-");
       }},
      {"--html", Group::output,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--html", o.output.html,
                        "Write every stage as one self-contained HTML page to PATH (works offline; '-': standard output)")
             ->check(output_path())
             ->type_name("PATH|-");
       }},
      {"--html-range", Group::output,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--html-range", o.output.html_range,
                        "With --html: the weights' colours run from 0 to 1 in every matrix (unit, the default) or from 0 to "
                        "each matrix's largest weight (matrix: a pattern of small weights gets every colour; its legend says so)")
             ->check(CLI::IsMember({"unit", "matrix"}))
             ->type_name("RANGE");
       }},
      {"--color", Group::display,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--color", o.display.color, "Colour: auto (a terminal, unless NO_COLOR), always, never")
             ->check(CLI::IsMember({"auto", "always", "never"}))
             ->type_name("WHEN");
       }},
      {"--ascii", Group::display,
       [](CLI::App& app, CommonOptions& o) { app.add_flag("--ascii", o.display.ascii, "ASCII tables instead of Unicode box drawing"); }},
      {"--width", Group::display,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--width", o.display.width, "Wrap tables to N columns (default: COLUMNS or the terminal's width)")
             ->check(in_range(20, 100000))
             ->type_name("N");
       }},
      {"--precision", Group::display,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--precision", o.display.precision, "Digits after the decimal point (0-9, default 3)")
             ->check(in_range(0, 9))
             ->type_name("N");
       }},
      {"--layout", Group::display,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--layout", o.display.layout,
                        "Matrices: full (every number, split into column blocks when too wide), compact (one shaded cell "
                        "per value, columns by number: 16 × 16 fits 80 columns), auto (compact when full would be split; "
                        "the default)")
             ->check(CLI::IsMember({"auto", "full", "compact"}))
             ->type_name("KIND");
       }},
      {"--stages", Group::display,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--stages", o.display.stages, "Comma-separated stages to print, e.g. weights,output (default: all)")
             ->type_name("LIST");
       }},
      {"--backend", Group::attention,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--backend", o.attention.backend,
                        fmt::format("Where attention is computed: {} (cpu, the Eigen reference, is the default; flash computes "
                                    "tile by tile and never stores the n × n matrices)",
                                    fmt::join(backend_names(), ", ")))
             ->type_name("NAME");
       }},
      {"--kernel", Group::attention,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--kernel", o.attention.kernel,
                        "With --backend cuda-flash: the fused kernel version to run (as ATTNVIZ_FLASH_VERSION; default: the GPU's)")
             ->check(in_range(1, 99))
             ->type_name("N");
       }},
      {"--timings", Group::output,
       [](CLI::App& app, CommonOptions& o) {
         app.add_flag("--timings", o.output.timings,
                      "After the report, the time of each step of the backend (the CUDA backends measure them)");
       }},
      {"--unknown", Group::data,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--unknown", o.data.unknown,
                        "A word the embeddings lack: error (name it, suggest close words), subword (split it into known "
                        "pieces, co ##created), zero (a zero vector and a warning)")
             ->check(CLI::IsMember({"error", "subword", "zero"}))
             ->type_name("MODE");
       }},
      {"--vocab-limit", Group::data,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--vocab-limit", o.data.vocab_limit,
                        "Of a big embeddings file keep the sentence's words plus the first N words (default 50000)")
             ->check(in_range(std::size_t{1}, std::size_t{100'000'000}))
             ->type_name("N");
       }},
      {"--data-dir", Group::data,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--data-dir", o.data.data_dir, "Folder of the bundled data (default: found automatically; or ATTNVIZ_DATA)")
             ->type_name("DIR");
       }},
      {"--glyphs", Group::display,
       [](CLI::App& app, CommonOptions& o) {
         app.add_flag("--glyphs", o.display.glyphs,
                      "Shade every cell with a character too (survives a washed-out projector and black-and-white print)");
       }},
      {"--palette", Group::display,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--palette", o.display.palette,
                        "Colours: standard (viridis, blue-white-red) or colorblind (cividis, purple-white-orange)")
             ->check(CLI::IsMember({"standard", "colorblind"}))
             ->type_name("NAME");
       }},
      {"--heads", Group::attention,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--heads", o.attention.heads, "Number of heads (the identity model: any divisor of the embedding size)")
             ->check(in_range(1, 4096))
             ->type_name("H");
       }},
      {"--layer", Group::attention,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--layer", o.attention.layer,
                        "With a trained model (--model wordnet-lm): the layer whose attention to show, from 1 (default 1); "
                        "the last layer also shows the next-word predictions")
             ->check(in_range(1, 64))
             ->type_name("N");
       }},
      {"--causal", Group::attention,
       [](CLI::App& app, CommonOptions& o) {
         app.add_flag("--causal", o.attention.causal, "GPT-style mask: each token attends only to itself and earlier tokens");
       }},
      {"--mask", Group::attention,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--mask", o.attention.mask_file, "Custom n × n mask: a JSON array of rows of 0 (masked) and 1 (may attend)")
             ->type_name("FILE");
       }},
      {"--temperature", Group::attention,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--temperature", o.attention.temperature, "Divide the scaled scores by T > 0 (small T: sharper softmax)")
             ->check(number())
             ->type_name("T");
       }},
      {"--no-scale", Group::attention,
       [](CLI::App& app, CommonOptions& o) {
         app.add_flag("--no-scale", o.attention.no_scale, "Drop the 1/√d_k factor, to watch the softmax saturate");
       }},
      {"--exclude-self", Group::attention,
       [](CLI::App& app, CommonOptions& o) {
         app.add_flag("--exclude-self", o.attention.exclude_self,
                      "Mask the diagonal: no word attends to itself, so the weights show what the context contributes");
       }},
      {"--positions", Group::attention,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--positions", o.attention.positions, "Positional encoding added to the embeddings: none or sinusoidal")
             ->check(CLI::IsMember({"none", "sinusoidal"}))
             ->type_name("KIND");
       }},
      {"--context", Group::attention,
       [](CLI::App& app, CommonOptions& o) {
         app.add_option("--context", o.attention.context, "Cross-attention: keys and values come from this sentence")
             ->type_name("SENTENCE");
       }},
      {"--threads", Group::attention,
       [](CLI::App& app, CommonOptions& o) { add_performance_options(app, o.attention.threads, o.attention.max_memory); }},
  };
  return table;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

void add_common_options(CLI::App& app, CommonOptions& options, const OptIn& opt_in) {
  for (const auto& option : shared_options()) {
    const bool in_group = std::find(opt_in.groups.begin(), opt_in.groups.end(), option.group) != opt_in.groups.end();
    if ((in_group && !contains(opt_in.without, option.name)) || contains(opt_in.also, option.name)) option.add(app, options);
  }
}

std::optional<Group> group_of(const std::string& name) {
  if (name == "--max-memory") return Group::attention;  // added with --threads
  for (const auto& option : shared_options())
    if (option.name == name) return option.group;
  return std::nullopt;
}

void add_classroom_options(CLI::App& app, ClassroomFlags& f) {
  CLI::Option* step = app.add_flag("--step", f.step, "Pause after each stage (any key: continue, q: quit, no Enter needed) and ask the class to guess "
               "before the softmax (a wrong guess gets a second try); "
               "waits only when input and output are terminals");
  app.add_flag("--narrate", f.narrate, "A short plain-language paragraph before each stage");
  app.add_option("--query", f.query, "With --step: the query whose strongest key the class guesses (default: the clearest one whose strongest key is another word)")
      ->type_name("WORD")
      ->needs(step);
}

bool step_is_interactive() { return isatty(0) != 0 && isatty(1) != 0; }

void add_performance_options(CLI::App& app, int& threads, std::string& max_memory) {
  app.add_option("--threads", threads, "Worker threads over heads and query blocks (default: the hardware's; results do not depend on it)")
      ->check(in_range(1, 1024))
      ->type_name("T");
  add_memory_option(app, max_memory);
}

void add_memory_option(CLI::App& app, std::string& max_memory) {
  app.add_option("--max-memory", max_memory,
                 "Refuse, before allocating, what would take more than SIZE in all: the files read, the vectors kept, the "
                 "matrices of the run (default 2G; suffixes K, M, G)")
      ->type_name("SIZE");
}

CLI::Validator number() {
  return CLI::Validator(
      [](std::string& input) -> std::string {
        // strtod, not std::stod: a number too small or too large for a double ("1e-320", "1e999") is still a
        // number (std::stod throws out_of_range for both); the option's own range check judges its value.
        const char* begin = input.c_str();
        char* end = nullptr;
        const double value = std::strtod(begin, &end);
        const auto used = static_cast<std::size_t>(end - begin);
        if (used == 0 || used != input.size() || std::isnan(value)) return "'" + input + "' is not a number";
        return {};
      },
      "");
}

CLI::Validator output_path() {
  return CLI::Validator(
      [](std::string& input) -> std::string {
        // "-" is standard output; "--anything" and "-h" can only be an option given where the path belongs.
        if (input.size() > 2 && input.starts_with("--") && std::isalpha(static_cast<unsigned char>(input[2])))
          return input + " is an option, not a file name (a file of that name: ./" + input + ")";
        if (input == "-h") return "-h is an option, not a file name (a file of that name: ./-h)";
        return {};
      },
      "");
}

double parse_memory_size(const std::string& text, const std::string& option) {
  std::size_t used = 0;
  double value = -1;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string suffix = text.substr(std::min(used, text.size()));
  for (auto& ch : suffix) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (suffix.size() == 2 && (suffix[1] == 'B' || suffix[1] == 'I')) suffix.pop_back();  // "MB", "Mi" read as "M"
  double unit = 0;
  if (suffix.empty() || suffix == "B") unit = 1;
  else if (suffix == "K") unit = 1024.0;
  else if (suffix == "M") unit = 1024.0 * 1024;
  else if (suffix == "G") unit = 1024.0 * 1024 * 1024;
  else if (suffix == "T") unit = 1024.0 * 1024 * 1024 * 1024;
  // A size is a whole number of bytes, at least one: "0.4" (0 bytes) is refused as "0" is, "1.5K" is 1536.
  if (used == 0 || unit == 0 || !std::isfinite(value) || value * unit < 1)
    throw InputError(fmt::format("{} '{}' is not a size; give a positive number of bytes with an optional suffix K, M or G, e.g. 512M or 2G",
                                 option, text));
  return std::floor(value * unit);
}

RenderOptions render_options(const DisplayOptions& o) {
  RenderOptions r;
  const bool to_terminal = isatty(1) != 0;
  r.color = decide_color(color_environment_from_process(o.color, to_terminal));
  r.unicode = decide_unicode_from_process(o.ascii);
  r.width = decide_width(o.width);
  r.precision = o.precision;
  r.glyphs = o.glyphs;
  r.palette = o.palette == "colorblind" ? Palette::colorblind : Palette::standard;
  r.layout = parse_layout(o.layout);
  return r;
}

namespace {

// The mask file; every message starts with "--mask FILE" so the user knows which option is at fault.
Matrix mask_option(const std::string& path) {
  try {
    return load_mask(path);
  } catch (const InputError& e) {
    const std::string what = e.what();
    throw InputError(what.starts_with(path + ":") ? "--mask " + what : "--mask: " + what);
  }
}

PipelineOptions pipeline_options(const CommonOptions& o) {
  const AttentionFlags& f = o.attention;
  PipelineOptions p;
  p.max_memory_bytes = parse_memory_size(f.max_memory, "--max-memory");
  set_memory_budget(p.max_memory_bytes);  // every loader's budget too (limits.hpp), set before any file is read (--mask below)
  p.unknown = parse_unknown_words(o.data.unknown);
  p.backend = f.backend;
  if (f.kernel != 0 && f.backend != "cuda-flash")
    throw InputError(fmt::format("--kernel picks a kernel of --backend cuda-flash, but this run uses --backend {}", f.backend));
  p.attention.kernel = f.kernel;
  p.attention.causal = f.causal;
  p.attention.temperature = checked_temperature(f.temperature);
  p.attention.scale = !f.no_scale;
  if (f.mask_file) {
    p.attention.mask = mask_option(*f.mask_file);
    p.mask_source = "--mask " + *f.mask_file;
  }
  p.exclude_self = f.exclude_self;
  p.positions = f.positions;
  p.context = f.context;
  p.attention.threads = f.threads;
  return p;
}

// Whether the report prints any n × m table (scores, scaled_scores, weights) with these --stages.
bool prints_attention_tables(const ReportOptions& report) {
  if (report.stages.empty()) return true;
  return std::any_of(report.stages.begin(), report.stages.end(),
                     [](const std::string& s) { return s == "scores" || s == "scaled_scores" || s == "weights"; });
}

}  // namespace

Output::Output(const OutputOptions& options) : options_(options) {
  if (options.json == "-" && options.html == "-")
    throw InputError("--json - and --html - both want standard output; give one of them a file name");
  tables_ = options.json != "-" && options.html != "-";
}

void Output::write(const std::function<nlohmann::ordered_json()>& json, const std::function<std::string()>& html) const {
  // Everything is computed before anything is written, so a failure leaves no partial output.
  const std::string json_text = options_.json ? to_pretty_json(json()) : std::string();
  const std::string html_text = options_.html && html ? html() : std::string();
  if (options_.json) write_output(*options_.json, json_text);
  if (options_.html && html) write_output(*options_.html, html_text);
}

void Output::print(const std::string& text) const {
  if (tables_) write_standard_output(text);
}

Settings build_settings(const CommonOptions& o, bool report_tables) {
  Settings s;
  s.output = Output(o.output);
  check_command_files(o, "toy");
  s.report.render = render_options(o.display);
  if (o.display.stages) s.report.stages = parse_stage_list(*o.display.stages);
  s.html.precision = o.display.precision;
  s.html.palette = s.report.render.palette;
  // --stages chooses what the terminal prints; the page keeps every stage and unfolds the chosen ones.
  s.html.open_stages = s.report.stages;
  s.html.matrix_range = o.output.html_range == "matrix";
  s.pipeline = pipeline_options(o);
  add_output_memory(s.pipeline, s.output.json(), report_tables && s.output.tables() && prints_attention_tables(s.report));
  return s;
}

Embeddings load_embeddings_for_sentences(const DataOptions& o, const std::string& fallback, const std::vector<std::string>& sentences,
                                         const std::vector<std::string>& extra_words) {
  const UnknownWords unknown = parse_unknown_words(o.unknown);
  std::vector<std::string> words = extra_words;
  for (const auto& s : sentences)
    for (auto& w : words_for_lookup(s, unknown)) words.push_back(std::move(w));
  return resolve_embeddings(o.embeddings.value_or(fallback), o.data_dir, words, o.vocab_limit);
}

namespace {

EmbeddingsAndModel load_inputs(const CommonOptions& o, std::vector<std::string> sentences, const std::vector<std::string>& extra_words) {
  // A trained language model reads its own embeddings (every word of them: its vocabulary).
  if (o.data.model && *o.data.model != "identity" && !o.data.model->empty() &&
      is_language_model_file(input_file("models", *o.data.model, o.data.data_dir))) {
    Model model = resolve_model(*o.data.model, 0, o.attention.heads, o.data.data_dir, o.attention.layer - 1);
    const LoadedLm& lm = *model.language_model;
    check_outputs_against(o, trained_model_inputs(lm, std::nullopt, std::nullopt, o.data.data_dir));  // its embeddings too
    if (o.data.embeddings && embeddings_alias(*o.data.embeddings) != lm.model.embeddings)
      throw InputError(fmt::format("--embeddings {}: the trained model '{}' reads its own embeddings '{}'; leave out --embeddings",
                                   *o.data.embeddings, model.name, lm.model.embeddings));
    return {lm.emb, std::move(model)};
  }
  if (o.attention.context) sentences.push_back(*o.attention.context);
  Embeddings emb = load_embeddings_for_sentences(o.data, "toy", sentences, extra_words);
  Model model = resolve_model(o.data.model.value_or(default_model_for(emb, o.data.data_dir)), emb.dim, o.attention.heads, o.data.data_dir,
                              o.attention.layer - 1, o.data.gain);
  return {std::move(emb), std::move(model)};
}

}  // namespace

EmbeddingsAndModel load_embeddings_and_model(const CommonOptions& o, std::vector<std::string> sentences,
                                             const std::vector<std::string>& extra_words) {
  try {
    return load_inputs(o, std::move(sentences), extra_words);
  } catch (const std::bad_alloc&) {
    // Not the sentence's fault ("try a shorter sentence" is for the computation): the files, within
    // --max-memory, did not fit in what the machine could give.
    throw Error(fmt::format("out of memory while reading the embeddings and the model, within --max-memory ({}): the machine has less "
                            "free memory than that\nhint: lower --max-memory to have such files refused before they are read",
                            format_bytes(memory_budget())));
  }
}

void print_warnings(const Trace& trace) {
  for (const auto& w : trace.warnings) std::cerr << "attnviz: warning: " << escape_controls(w) << "\n";
}

const Trace& KeptTraces::run(const Embeddings& emb, const Model& model, const std::string& sentence) {
  PipelineOptions left = options;
  left.max_memory_bytes = options.max_memory_bytes - held;
  try {
    traces.push_back(run_attention(emb, model, sentence, left));
  } catch (const InputError& e) {
    if (held == 0) throw;
    throw InputError(fmt::format("sentence {}: {}\n(what --max-memory left after the {} sentence{} before it, which hold {})", traces.size() + 1,
                                 e.what(), traces.size(), traces.size() == 1 ? "" : "s", format_bytes(held)));
  }
  print_warnings(traces.back());
  for (const auto& stage : traces.back().stages)
    held += static_cast<double>(stage.data.size()) * (sizeof(float) + options.output_bytes_per_cell);
  check_memory(held, fmt::format("keeping the traces of {} sentences", traces.size()), hint);
  return traces.back();
}

void add_output_memory(PipelineOptions& p, bool json, bool attention_tables) {
  p.output_bytes_per_cell = (json ? kJsonBytesPerCell : 0) + (attention_tables ? kTableBytesPerCell : 0);
  p.outputs_named = json && attention_tables ? "their JSON export and tables" : json ? "their JSON export" : "their tables";
}

std::string join_words(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : " ") + w;
  return s;
}

}  // namespace attnviz::cli
