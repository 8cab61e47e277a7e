// attnviz explore: the whole mechanism in one terminal screen. The explorer's state and its key handling
// are pure functions (a state and a key in, the next state out; a state in, the screen as text out), so
// they are tested without a terminal (`attnviz explore --dump-after KEYS`); src/explore/session.cpp adds
// the terminal around them (raw keys, the alternate screen, mouse, resizes).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "attnviz/embeddings.hpp"
#include "attnviz/model.hpp"
#include "attnviz/pipeline.hpp"
#include "attnviz/render.hpp"
#include "attnviz/trace.hpp"

namespace attnviz::explore {

// ---- Keys ----

enum class KeyCode { character, up, down, left, right, tab, backtab, enter, escape, backspace, ctrl_c, ctrl_u, click, resize };

struct Key {
  KeyCode code = KeyCode::character;
  std::string text;  // character: one UTF-8 character
  int x = 0, y = 0;  // click: the screen column and row, from 0; resize: the new width and height

  static Key character(std::string_view ch) { return {KeyCode::character, std::string(ch), 0, 0}; }
  bool is(char ch) const { return code == KeyCode::character && text.size() == 1 && text[0] == ch; }
};

// Terminal input bytes to keys: UTF-8 characters, Enter, Tab, Backspace, Ctrl-C, Ctrl-U, and the escape
// sequences of arrows (CSI and SS3), Shift-Tab (CSI Z) and SGR mouse presses (CSI < b;x;y M). An incomplete
// sequence at the end stays in `pending` for the next read, unless `final` (then a lone ESC is Escape).
std::vector<Key> decode_input(std::string& pending, bool final);

// The --dump-after notation: characters stand for themselves; <up> <down> <left> <right> <tab> <s-tab>
// <enter> <esc> <bs> <space> <lt> (a '<'), <c-c>, <c-u>, <click:X,Y> (screen column and row from 0) and
// <resize:WxH> name the others. InputError naming a bad <...>.
std::vector<Key> parse_key_script(std::string_view script);

// ---- State ----

// What does not change while exploring: the data, the model, the options of run, how to draw.
struct Context {
  const Embeddings* embeddings = nullptr;
  const Model* model = nullptr;  // as given (a trained model: its --layer)
  std::vector<Model> layers;     // a trained model's every layer (model_layers), for l / L; empty for one layer
  PipelineOptions pipeline;  // the options of run as given (temperature, scale, mask, positions, ...)
  RenderOptions render;      // colour, Unicode, precision
};

enum class Mode { browse, edit, help, guess };

struct State {
  std::string sentence;
  int temperature_steps = 0;  // the temperature is the given one × √2^steps (t: one down, T: one up)
  bool scale = true, causal = false, sinusoidal = false, exclude_self = false;
  std::string stage = "weights";  // the stage shown (its name)
  int head = 0;                   // 0-based
  int layer = 0;                  // 0-based (l / L)
  int row = 0;                    // the cursor: a query (attention stages) or a token
  int key = 0;                    // the cursor's column on the attention stages
  int dim = 0;                    // the cursor's column on the other stages
  Mode mode = Mode::browse;
  std::string edit_text;     // the sentence being typed (Mode::edit)
  bool nearest = false;      // n: the nearest words of the selected token's output instead of the explanation
  std::string message;       // one line for the user: what a key did, or why it did nothing
  bool quit = false;
  int width = 80, height = 24;
  Trace trace;

  double temperature(const Context& context) const;
};

// The first state: `sentence` computed with the context's options. InputError as `attnviz run` gives it
// (unknown words, a mask of the wrong size), and when the backend does not keep the attention matrices.
State initial_state(const Context& context, const std::string& sentence, int width, int height);

// The next state after `key`. Every change recomputes the trace; a change the options cannot take (x with
// the causal mask leaves the first word nothing to attend to) keeps the state and says why in `message`.
State press(const Context& context, State state, const Key& key);

// Every layer of a trained language model as the Model of that layer (language_model_layer), from the
// first; empty for a model of one layer. The explorer's l / L move between them.
std::vector<Model> model_layers(const Model& model);

// The attention layers of the context's model (1 unless it is a trained model with several).
int layer_count(const Context& context);

// The model whose attention the state shows: its layer's when the context has layers.
const Model& model_of(const Context& context, const State& state);

// The stages the cursor moves through with Tab, in the trace's order (per-head stages once).
std::vector<std::string> stage_names(const Trace& trace);

// ---- The screen ----

inline constexpr int kMinWidth = 80, kMinHeight = 24;

// The screen as `state.height` lines of at most `state.width` columns, joined by '\n' (colour escapes by
// context.render.color): the configuration, the stage's heatmap with the cursor, the explanation of the
// selected cell, the message line and the help line. Below 80 × 24, a message asking for a bigger one.
std::string compose_screen(const Context& context, const State& state);

// The cell of the heatmap at screen column `x`, row `y` (as compose_screen draws it): {row, column}.
std::optional<std::pair<int, int>> cell_at(const Context& context, const State& state, int x, int y);

// Every key, one per line, as `?` shows them and `--help` lists them.
std::string key_help();

// ---- The terminal ----

// Runs the explorer full-screen on the controlling terminal until `q` or Ctrl-C: the alternate screen, raw
// keys and mouse reporting on, and the terminal restored on every way out (q, Ctrl-C, an exception,
// SIGTERM, SIGHUP, a crash signal). Returns the exit code.
int run_terminal(const Context& context, const std::string& sentence);

}  // namespace attnviz::explore
