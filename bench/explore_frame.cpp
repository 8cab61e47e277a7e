// The explorer's frame: one key that recomputes the trace (t, then T: the temperature down and up by √2;
// with the trained model, whose temperature is fixed, l then L: its other layer) and the screen composed
// again, for a 30-token sentence. The target is one frame at 60 Hz (16 ms).
// Built as attnviz_bench_explore; run: build/release/attnviz_bench_explore [FRAMES]
// Prints, per embeddings and screen size, the median, 90th percentile and largest time of press + compose
// (writing the frame to the terminal is left out: the terminal emulator's time, not attnviz's).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <time.h>

#include <fmt/format.h>

#include "attnviz/data.hpp"
#include "attnviz/explore.hpp"
#include "attnviz/train.hpp"

using namespace attnviz;

namespace {
// This thread's CPU time in milliseconds: unlike the wall clock, it leaves out time other processes took.
double cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}
}  // namespace

int main(int argc, char** argv) {
  const int frames = argc > 1 ? std::max(10, std::atoi(argv[1])) : 400;
  // 30 words, every one in both the toy and the GloVe vocabularies.
  const std::string sentence =
      "clever little mouse and the hungry cat watched the dog in the kitchen as mickey and donald drew the cartoon on the "
      "computer screen at night by the river bank";
  fmt::print("sentence: {} words; {} frames each (a frame: t or T pressed, l or L for wordnet-lm, the trace recomputed, the screen composed)\n",
             std::count(sentence.begin(), sentence.end(), ' ') + 1, frames);
  fmt::print("{:<12} {:>9} {:>7} |       {:>9} {:>9} {:>9} |      {:>9} {:>9}\n", "embeddings", "screen", "colour", "wall med", "p90", "max",
             "CPU med", "p90");
  for (const std::string name : {"toy", "glove", "wordnet-lm"}) {
    const bool trained = name == "wordnet-lm";  // the trained model reads its own embeddings
    Embeddings emb;
    Model model;
    if (trained) {
      model = resolve_model(name, 0, 0, std::nullopt);
      emb = model.language_model->emb;
    } else {
      emb = resolve_embeddings(name, std::nullopt);
      model = resolve_model(name == "toy" ? "toy" : "identity", emb.dim, 0, std::nullopt);
    }
    for (const auto& [width, height, color] : std::vector<std::tuple<int, int, ColorDepth>>{
             {80, 24, ColorDepth::none}, {160, 50, ColorDepth::truecolor}}) {
      explore::Context context;
      context.embeddings = &emb;
      context.model = &model;
      context.layers = explore::model_layers(model);
      context.render.color = color;
      explore::State state = explore::initial_state(context, sentence, width, height);
      state = explore::press(context, state, explore::Key{explore::KeyCode::down, "", 0, 0});
      std::vector<double> ms, cpu;
      std::size_t bytes = 0;
      for (int i = 0; i < frames; ++i) {
        const auto start = std::chrono::steady_clock::now();
        const double cpu_start = cpu_ms();
        state = explore::press(context, std::move(state), explore::Key::character(trained ? (i % 2 ? "L" : "l") : (i % 2 ? "T" : "t")));
        const std::string screen = explore::compose_screen(context, state);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
        cpu.push_back(cpu_ms() - cpu_start);
        bytes += screen.size();
      }
      std::sort(ms.begin(), ms.end());
      std::sort(cpu.begin(), cpu.end());
      fmt::print("{:<12} {:>9} {:>7} | wall: {:>7.3f}ms {:>7.3f}ms {:>7.3f}ms | CPU: {:>7.3f}ms {:>7.3f}ms   ({} bytes a screen)\n", trained ? name : emb.name,
                 fmt::format("{}x{}", width, height), color == ColorDepth::none ? "none" : "24-bit", ms[ms.size() / 2], ms[ms.size() * 9 / 10],
                 ms.back(), cpu[cpu.size() / 2], cpu[cpu.size() * 9 / 10], bytes / ms.size());
    }
  }
  return 0;
}
