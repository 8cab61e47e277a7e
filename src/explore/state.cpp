// The explorer's state and its keys: every change that touches the attention recomputes the trace with the
// pipeline `attnviz run` uses, from the options of run as given plus what the keys toggled.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/explore.hpp"
#include "attnviz/utf8.hpp"
#include "attnviz/lm_trace.hpp"

namespace attnviz::explore {

namespace {

const Stage& weights_stage(const State& s) { return *s.trace.find("weights", s.head); }

// The stage shown: per-head stages of the selected head.
const Stage* shown_stage(const State& s) {
  if (const Stage* st = s.trace.find(s.stage, s.head)) return st;
  return s.trace.find(s.stage);
}

// The pipeline options of the state: the given ones with the keys' toggles.
PipelineOptions options_of(const Context& context, const State& s) {
  PipelineOptions options = context.pipeline;
  options.attention.temperature = static_cast<float>(s.temperature(context));
  options.attention.scale = s.scale;
  options.attention.causal = s.causal;
  options.positions = s.sinusoidal ? "sinusoidal" : "none";
  options.exclude_self = s.exclude_self;  // x: the diagonal masked (run_attention adds it to any --mask)
  return options;
}

// The trace of the state; InputError when the options cannot be computed.
Trace compute(const Context& context, const State& s) {
  PipelineOptions options = options_of(context, s);
  if (s.exclude_self && options.context)
    throw InputError("x (exclude the word itself) applies to self-attention, not to --context");
  Trace trace = run_attention(*context.embeddings, model_of(context, s), s.sentence, options);
  if (!trace.find("weights", 0))
    throw InputError(fmt::format("the {} backend does not keep the attention matrices that explore shows; use --backend cpu",
                                 trace.config.backend));
  return trace;
}

void clamp_cursor(State& s) {
  const Stage& w = weights_stage(s);
  s.row = std::clamp(s.row, 0, static_cast<int>(w.data.rows()) - 1);
  s.key = std::clamp(s.key, 0, static_cast<int>(w.data.cols()) - 1);
  const std::vector<std::string> names = stage_names(s.trace);
  if (std::find(names.begin(), names.end(), s.stage) == names.end()) s.stage = "weights";
  if (const Stage* st = shown_stage(s); st && !st->is_attention()) {
    s.row = std::min(s.row, static_cast<int>(st->data.rows()) - 1);
    s.dim = std::clamp(s.dim, 0, static_cast<int>(st->data.cols()) - 1);
  }
}

// `next` recomputed; on failure `old` with the reason in its message.
State recomputed(const Context& context, const State& old, State next, const std::string& done) {
  try {
    next.trace = compute(context, next);
  } catch (const InputError& e) {
    State kept = old;
    std::string why = e.what();
    kept.message = "not changed: " + why.substr(0, why.find('\n'));
    return kept;
  }
  clamp_cursor(next);
  next.message = done;
  return next;
}

std::string on_off(bool on) { return on ? "on" : "off"; }

// The row of P the cursor is on: its largest weight's key (the first of equal ones).
int winner(const State& s) {
  const Stage& w = weights_stage(s);
  Eigen::Index best = 0;
  for (Eigen::Index j = 1; j < w.data.cols(); ++j)
    if (w.data(s.row, j) > w.data(s.row, best)) best = j;
  return static_cast<int>(best);
}

void move(const Context& context, State& s, int drow, int dcol) {
  const Stage* st = shown_stage(s);
  if (!st) return;
  const int rows = static_cast<int>(st->data.rows()), cols = static_cast<int>(st->data.cols());
  s.row = std::clamp(s.row + drow, 0, rows - 1);
  if (s.mode == Mode::guess) s.row -= drow;  // the guess is about one row
  int& col = st->is_attention() ? s.key : s.dim;
  col = std::clamp(col + dcol, 0, cols - 1);
  (void)context;
}

State edit_key(const Context& context, const State& s, const Key& key) {
  State next = s;
  next.message.clear();
  switch (key.code) {
    case KeyCode::escape:
      next.mode = Mode::browse;
      next.message = "edit cancelled: the sentence is unchanged";
      return next;
    case KeyCode::backspace:
      next.edit_text.erase(previous_code_point_start(next.edit_text, next.edit_text.size()));  // one UTF-8 character
      return next;
    case KeyCode::ctrl_u: next.edit_text.clear(); return next;
    case KeyCode::character: next.edit_text += key.text; return next;
    case KeyCode::enter: {
      State candidate = s;
      candidate.sentence = s.edit_text;
      candidate.mode = Mode::browse;
      State result = recomputed(context, s, candidate, fmt::format("recomputed for \"{}\"", s.edit_text));
      if (result.mode == Mode::edit) result.message = "cannot use this sentence: " + result.message.substr(std::string("not changed: ").size());
      return result;
    }
    default: return next;
  }
}

}  // namespace

double State::temperature(const Context& context) const {
  // The given temperature times √2^steps, computed from the step count so t then T gives it back exactly.
  const double given = context.pipeline.attention.temperature;
  return temperature_steps % 2 == 0 ? given * std::ldexp(1.0, temperature_steps / 2)
                                    : given * std::ldexp(1.0, (temperature_steps - 1) / 2) * std::sqrt(2.0);
}

std::vector<Model> model_layers(const Model& model) {
  std::vector<Model> layers;
  if (model.language_model && model.layers > 1)
    for (int l = 0; l < model.layers; ++l) layers.push_back(language_model_layer(model.language_model, l));
  return layers;
}

int layer_count(const Context& context) { return context.layers.empty() ? 1 : static_cast<int>(context.layers.size()); }

const Model& model_of(const Context& context, const State& state) {
  if (context.layers.empty()) return *context.model;
  return context.layers[static_cast<std::size_t>(std::clamp(state.layer, 0, layer_count(context) - 1))];
}

std::vector<std::string> stage_names(const Trace& trace) {
  std::vector<std::string> names;
  for (const Stage& st : trace.stages)
    if (std::find(names.begin(), names.end(), st.name) == names.end()) names.push_back(st.name);
  return names;
}

State initial_state(const Context& context, const std::string& sentence, int width, int height) {
  State s;
  s.sentence = sentence;
  s.scale = context.pipeline.attention.scale;
  s.causal = context.pipeline.attention.causal;
  s.sinusoidal = context.pipeline.positions == "sinusoidal";
  s.exclude_self = context.pipeline.exclude_self;
  s.layer = context.layers.empty() ? 0 : context.model->layer;
  s.width = width;
  s.height = height;
  s.trace = compute(context, s);
  clamp_cursor(s);
  s.message = "arrows move the cell · Tab the stage · ? every key";
  return s;
}

State press(const Context& context, State s, const Key& key) {
  if (key.code == KeyCode::ctrl_c) {
    s.quit = true;
    return s;
  }
  if (key.code == KeyCode::resize) {
    s.width = key.x;
    s.height = key.y;
    return s;
  }
  if (s.mode == Mode::edit) return edit_key(context, s, key);
  if (s.mode == Mode::help) {
    s.mode = Mode::browse;  // any key closes the help; q still quits
    s.message.clear();
    if (key.is('q')) s.quit = true;
    return s;
  }
  const State old = s;
  s.message.clear();
  const std::vector<std::string> names = stage_names(s.trace);
  const auto stage_at = std::find(names.begin(), names.end(), s.stage) - names.begin();
  const int heads = s.trace.config.heads;
  switch (key.code) {
    case KeyCode::up: move(context, s, -1, 0); return s;
    case KeyCode::down: move(context, s, 1, 0); return s;
    case KeyCode::left: move(context, s, 0, -1); return s;
    case KeyCode::right: move(context, s, 0, 1); return s;
    case KeyCode::tab:
    case KeyCode::backtab: {
      if (s.mode == Mode::guess) {
        s.message = "first reveal the winner (g or Enter)";
        return s;
      }
      const auto count = static_cast<std::ptrdiff_t>(names.size());
      s.stage = names[static_cast<std::size_t>((stage_at + (key.code == KeyCode::tab ? 1 : count - 1)) % count)];
      clamp_cursor(s);
      return s;
    }
    case KeyCode::click:
      if (auto cell = cell_at(context, s, key.x, key.y)) {
        if (s.mode == Mode::guess && cell->first != s.row) {
          s.message = "the guess is about this row: click one of its cells";
          return s;
        }
        s.row = cell->first;
        (shown_stage(s)->is_attention() ? s.key : s.dim) = cell->second;
      }
      return s;
    case KeyCode::enter:
      if (s.mode != Mode::guess) return s;
      [[fallthrough]];
    case KeyCode::character: break;
    default: return s;
  }
  const char ch = key.code == KeyCode::enter ? 'g' : key.text.size() == 1 ? key.text[0] : '\0';
  if (s.mode == Mode::guess && ch != 'g' && ch != 'q') {
    s.message = "the class is guessing: ←→ to their guess, then g or Enter to reveal";
    return s;
  }
  switch (ch) {
    case 'q': s.quit = true; return s;
    case '?': s.mode = Mode::help; return s;
    case 'h':
    case 'H':
      if (heads == 1) {
        s.message = "the model has one head (try --model identity --heads 2)";
        return s;
      }
      s.head = (s.head + (ch == 'h' ? 1 : heads - 1)) % heads;
      s.message = fmt::format("head {} of {}", s.head + 1, heads);
      return s;
    case 'l':
    case 'L': {
      const int layers = layer_count(context);
      if (layers == 1) {
        s.message = "the model has one layer (l/L move between the layers of a trained model: --model wordnet-lm)";
        return s;
      }
      State next = s;
      next.layer = (s.layer + (ch == 'l' ? 1 : layers - 1)) % layers;
      return recomputed(context, old, next, fmt::format("layer {} of {}", next.layer + 1, layers));
    }
    case 't':
    case 'T': {
      State next = s;
      next.temperature_steps += ch == 't' ? -1 : 1;
      return recomputed(context, old, next,
                        fmt::format("temperature {} {:.4g}: {}", ch == 't' ? "down to" : "up to", next.temperature(context),
                                    ch == 't' ? "sharper weights" : "flatter weights"));
    }
    case 'c':
    case 'x':
      if (context.model->language_model) {  // its forward has one mask: the causal one it was trained with
        s.message = fmt::format("not changed: the trained model '{}' is causal, as it was trained, and takes no other mask", context.model->name);
        return s;
      }
      [[fallthrough]];
    case 's':
    case 'p': {
      // The four switches of the attention: which flag, and what its new value means.
      struct Toggle {
        char key;
        bool State::*flag;
        const char* what;
      };
      static constexpr Toggle kToggles[]{{'s', &State::scale, "the 1/√d_k scale"},
                                         {'c', &State::causal, "the causal mask"},
                                         {'p', &State::sinusoidal, "sinusoidal positions"},
                                         {'x', &State::exclude_self, "the diagonal mask (no word attends to itself)"}};
      const Toggle& t = *std::find_if(std::begin(kToggles), std::end(kToggles), [&](const Toggle& k) { return k.key == ch; });
      State next = s;
      next.*t.flag = !(s.*t.flag);
      return recomputed(context, old, next, fmt::format("{} {}", t.what, on_off(next.*t.flag)));
    }
    case 'e':
      s.mode = Mode::edit;
      s.edit_text = s.sentence;
      s.nearest = false;
      return s;
    case 'n': s.nearest = !s.nearest; return s;
    case 'g': {
      if (s.mode == Mode::guess) {
        const Stage& w = weights_stage(s);
        const int best = winner(s);
        const std::string& query = w.row_labels[static_cast<std::size_t>(s.row)];
        s.message = fmt::format("\"{}\" attends most to \"{}\" ({})", query, w.col_labels[static_cast<std::size_t>(best)],
                                format_number(w.data(s.row, best), context.render.precision, context.render.unicode));
        if (s.key != best)
          s.message += fmt::format("; the guess \"{}\" got {}", w.col_labels[static_cast<std::size_t>(s.key)],
                                   format_number(w.data(s.row, s.key), context.render.precision, context.render.unicode));
        else
          s.message += ": the guess was right";
        s.key = best;
        s.mode = Mode::browse;
        return s;
      }
      s.stage = "weights";
      s.mode = Mode::guess;
      s.nearest = false;
      clamp_cursor(s);
      s.message = fmt::format("guess: which word does \"{}\" attend to most? ←→ to the class's guess, g or Enter reveals",
                              weights_stage(s).row_labels[static_cast<std::size_t>(s.row)]);
      return s;
    }
    default: return s;
  }
}

}  // namespace attnviz::explore
