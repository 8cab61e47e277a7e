#include <cstring>
#include <iostream>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "attnviz/attention.hpp"
#include "cli.hpp"
#include "attnviz/error.hpp"
#include "attnviz/tokenizer.hpp"
#include "attnviz/output_file.hpp"
#include "attnviz/version.hpp"
#include "../backends/kernels/dispatch.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

constexpr const char* kUsageHint = "run 'attnviz --help' for the commands and options";

constexpr const char* kFooter = R"(Examples:
  attnviz demo mouse                                 the lesson: "mouse" beside Mickey, then beside a computer
  attnviz run "the cat chased the mouse"             every stage of one sentence
  attnviz "the cat chased the mouse" --stages weights
  attnviz flash "the cat chased the mouse" --block-rows 2 --block-cols 3   FlashAttention, tile by tile
  attnviz bench --seq 4096 --backend flash --threads 1                 GFLOP/s, memory and error
  attnviz explain "the cat chased the mouse" --query mouse --key cat      the arithmetic of one weight
  attnviz compare "Mickey Mouse is a cartoon" "a computer mouse" --word mouse
  attnviz explore "the cat chased the mouse"         the whole mechanism live: move, toggle, recompute
  attnviz words mo                                   the words the embeddings know (here: starting with "mo")
  attnviz lesson new bat                             your own lesson: writes bat.json; attnviz demo ./bat.json runs it
Exit codes: 0 success, 2 a usage or input error, 1 anything else.)";

}  // namespace

struct Parser::Impl {
  CLI::App app{"attnviz: the attention mechanism of transformers, stage by stage, on a real sentence", "attnviz"};
  std::vector<Command> commands;
};

Parser::Parser() : impl_(std::make_unique<Impl>()) {
  CLI::App& app = impl_->app;
  app.set_version_flag("--version", fmt::format("attnviz {} (backends: {})\nCPU kernels: {}", kVersion, fmt::join(backend_names(), ", "), kernels::describe()), "Print the version and exit");
  app.require_subcommand(0, 1);
  app.footer(kFooter);
  impl_->commands = {add_run_command(app),   add_demo_command(app),    add_flash_command(app),
                     add_bench_command(app), add_explain_command(app), add_compare_command(app),
                     add_corpus_command(app),  add_train_command(app),   add_evaluate_command(app),
                     add_heads_command(app),   add_generate_command(app), add_explore_command(app),
                     add_words_command(app),   add_lesson_command(app)};
}

Parser::~Parser() = default;

std::optional<int> Parser::parse(std::vector<std::string> args) {
  CLI::App& app = impl_->app;
  app.clear();
  for (const auto& c : impl_->commands) c.reset();
  // `attnviz SENTENCE ...` is `attnviz run SENTENCE ...`.
  if (!args.empty() && !args[0].empty() && args[0][0] != '-' &&
      std::none_of(impl_->commands.begin(), impl_->commands.end(), [&](const Command& c) { return c.app->get_name() == args[0]; }))
    args.insert(args.begin(), "run");
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
  try {
    app.parse(args);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    std::cerr << "attnviz: error: " << e.what() << "\n" << kUsageHint << "\n";
    return 2;
  }
  return std::nullopt;
}

int Parser::execute() {
  try {
    if (auto why = kernels::environment_error()) throw InputError(*why);
    for (const auto& c : impl_->commands)
      if (c.app->parsed()) return c.run();
    std::cout << impl_->app.help();
    return 0;
  } catch (const InputError& e) {
    // Messages quote files (words, names, keys): no control character of theirs reaches the terminal.
    std::cerr << "attnviz: error: " << escape_controls(e.what(), true) << "\n";
    return 2;
  } catch (const Error& e) {
    std::cerr << "attnviz: error: " << escape_controls(e.what(), true) << "\n";
    return 1;
  } catch (const std::bad_alloc&) {
    std::cerr << "attnviz: error: out of memory; try a shorter sentence\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "attnviz: internal error: " << e.what() << "\n";
    return 1;
  }
}

std::vector<std::pair<std::string, std::vector<std::string>>> Parser::command_options() const {
  std::vector<std::pair<std::string, std::vector<std::string>>> all;
  for (const auto& c : impl_->commands) {
    std::vector<std::string> names;
    for (const CLI::Option* o : c.app->get_options())
      for (const auto& name : o->get_lnames()) names.push_back("--" + name);
    all.emplace_back(c.app->get_name(), std::move(names));
  }
  return all;
}

int run(std::vector<std::string> args) {
  Parser parser;
  if (const auto done = parser.parse(std::move(args))) return *done;
  return parser.execute();
}

int main(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  // A failed write to standard output (a full disk, /dev/full) is an error, as in coreutils; a closed pipe
  // (`| head`) ends the process quietly by SIGPIPE.
  use_checked_standard_output();
  return finish_standard_output(run(std::move(args)));
}

}  // namespace attnviz::cli
