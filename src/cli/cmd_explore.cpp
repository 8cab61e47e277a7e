// attnviz explore SENTENCE: the whole mechanism live in one terminal screen (src/explore/).
#include <iostream>

#include <unistd.h>

#include "attnviz/error.hpp"
#include "attnviz/explore.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

struct ExploreArgs {
  std::vector<std::string> sentence;
  CommonOptions common;
  std::optional<std::string> dump_after;
  int height = explore::kMinHeight;
};

int explore_command(const ExploreArgs& a) {
  const Settings settings = build_settings(a.common, false);
  const std::vector<explore::Key> keys = explore::parse_key_script(a.dump_after.value_or(""));  // checked before any work
  if (!a.dump_after && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)))
    throw InputError("explore is a full-screen program and needs a terminal; to print its screen instead, use --dump-after KEYS");
  const std::string sentence = join_words(a.sentence);
  const auto [emb, model] = load_embeddings_and_model(a.common, {sentence});
  explore::Context context;
  context.embeddings = &emb;
  context.model = &model;
  context.layers = explore::model_layers(model);
  context.pipeline = settings.pipeline;
  context.render = settings.report.render;
  if (a.dump_after) {
    explore::State state = explore::initial_state(context, sentence, a.common.display.width.value_or(explore::kMinWidth), a.height);
    for (const explore::Key& key : keys) {
      if (state.quit) break;
      state = explore::press(context, std::move(state), key);
    }
    std::cout << explore::compose_screen(context, state) << std::flush;
    return 0;
  }
  return explore::run_terminal(context, sentence);
}

}  // namespace

Command add_explore_command(CLI::App& app) {
  auto args = std::make_shared<ExploreArgs>();
  CLI::App* cmd = app.add_subcommand("explore", "The whole mechanism live in one terminal screen: move, toggle, recompute");
  cmd->add_option("sentence", args->sentence, "The sentence (quote it, or give its words as separate arguments)")
      ->required()
      ->type_name("SENTENCE");
  // The options of run that change what is computed and how it looks; one screen, so no files and no --stages.
  // The heatmap is always the compact layout, whose cells are always shaded: no --layout, no --glyphs.
  add_common_options(*cmd, args->common, {{Group::data, Group::attention, Group::display}, {"--stages", "--layout", "--glyphs"}, {}});
  cmd->add_option("--dump-after", args->dump_after,
                  "Press KEYS, print the final screen as text and exit (no terminal needed): characters are keys; <up> <down> "
                  "<left> <right> <tab> <s-tab> <enter> <esc> <bs> <space> <lt> <c-c> <c-u> <click:X,Y> <resize:WxH> name the others")
      ->type_name("KEYS");
  cmd->add_option("--height", args->height, "With --dump-after: the screen's lines (default 24; the width is --width, default 80)")
      ->check(CLI::Range(1, 10000))
      ->type_name("N");
  cmd->footer("Keys:\n" + explore::key_help() + R"(
Examples:
  attnviz explore "the cat chased the mouse"
  attnviz explore "the cat chased the mouse" --model identity --heads 2 --causal
  attnviz explore "the mouse clicked on the screen" --embeddings glove
  attnviz explore "the cat chased the mouse" --model wordnet-lm --layer 2
  attnviz explore "the cat chased the mouse" --dump-after "<right><down>tt" --color never
The terminal must be at least 80 x 24. The heatmap is the compact layout: its cells are shaded with characters,
and coloured where the terminal has colours (not with NO_COLOR or --color never).)");
  return {cmd, [args] { return explore_command(*args); }, reset_to_defaults(args)};
}

}  // namespace attnviz::cli
