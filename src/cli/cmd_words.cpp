// attnviz words [PREFIX]: the words of the embeddings, so a student can pick words the run will know.
#include <algorithm>
#include <iostream>

#include <fmt/format.h>

#include "attnviz/data.hpp"
#include "attnviz/pipeline.hpp"
#include "attnviz/tokenizer.hpp"
#include "../render/text_table.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

struct WordsArgs {
  std::optional<std::string> prefix;
  CommonOptions common;
};

int words(const WordsArgs& a) {
  const Settings settings = build_settings(a.common, false);
  const RenderOptions& ro = settings.report.render;
  const DataOptions& data = a.common.data;
  // A big file keeps its first --vocab-limit words (the listing says when the file has more).
  const Embeddings emb = resolve_embeddings(data.embeddings.value_or("toy"), data.data_dir, {}, data.vocab_limit);
  // Lower-cased and composed (NFC) as the tokenizer and the loaders store words: "É" lists "école".
  const std::string prefix = lower_case(a.prefix.value_or(""));
  std::vector<std::string> shown;
  for (const auto& w : emb.words)
    if (w.starts_with(prefix)) shown.push_back(w);
  std::sort(shown.begin(), shown.end());

  std::string out;
  const std::string kept = emb.file_words > emb.words.size()
                               ? fmt::format(" (the first {} of the file's {}; --vocab-limit keeps more)", emb.words.size(), emb.file_words)
                               : "";
  if (shown.empty()) {
    out = render_detail::wrap_text(fmt::format("no word of the embeddings '{}' starts with '{}'{}", emb.name, prefix, kept), ro.width);
    const auto close = suggest_words(emb, prefix);
    if (!close.empty()) out += render_detail::wrap_text(fmt::format("close words: {}", fmt::join(close, ", ")), ro.width, 2);
  } else {
    out = render_detail::wrap_text(
        fmt::format("{} word{} of the embeddings '{}'{}{}, in alphabetical order:", shown.size(), shown.size() == 1 ? "" : "s",
                    emb.name, prefix.empty() ? "" : fmt::format(" starting with '{}'", prefix), kept),
        ro.width);
    shown.front() = "  " + shown.front();  // every line indented by two, the first too
    out += render_detail::join_wrapped(shown, "  ", ro.width, 2);
  }
  // The function words that take another word's vector when the embeddings lack them.
  std::vector<std::string> stand_ins;
  for (const char* w : {"a", "i"})
    if (!emb.has(w) && std::string(w).starts_with(prefix))
      if (auto other = stand_in_for(w); other && emb.has(*other)) stand_ins.push_back(fmt::format("'{}' takes the vector of '{}'", w, *other));
  if (!stand_ins.empty())
    out += render_detail::wrap_text(fmt::format("not in the list: {} (sentences may use {})", fmt::join(stand_ins, ", "),
                                                  stand_ins.size() == 1 ? "it" : "them"), ro.width);
  std::cout << out;
  return 0;
}

}  // namespace

Command add_words_command(CLI::App& app) {
  auto args = std::make_shared<WordsArgs>();
  CLI::App* cmd = app.add_subcommand("words", "The words of the embeddings (all, or those starting with PREFIX): what a sentence may use");
  cmd->add_option("prefix", args->prefix, "Only the words starting with PREFIX")->type_name("PREFIX");
  add_common_options(*cmd, args->common, {{}, {}, {"--embeddings", "--data-dir", "--vocab-limit", "--width"}});
  add_memory_option(*cmd, args->common.attention.max_memory);  // the file read and the words kept (build_settings sets it)
  cmd->footer(R"(Examples:
  attnviz words                         the toy embeddings' 185 words
  attnviz words mo                      those starting with "mo"
  attnviz words --embeddings glove ban  GloVe words starting with "ban"
  attnviz words --embeddings ~/mine.txt)");
  return {cmd, [args] { return words(*args); }, reset_to_defaults(args)};
}

}  // namespace attnviz::cli
