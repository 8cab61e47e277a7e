#include "attnviz/corpus.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "attnviz/error.hpp"
#include "attnviz/export.hpp"
#include "attnviz/limits.hpp"
#include "attnviz/output_file.hpp"
#include "attnviz/tokenizer.hpp"
#include "attnviz/utf8.hpp"
#include "../io/block_reader.hpp"
#include "../io/json_util.hpp"

namespace attnviz {

namespace fs = std::filesystem;

Vocabulary::Vocabulary(std::vector<std::string> known_words) : words(std::move(known_words)) {
  words.emplace_back(kUnknownToken);
  for (std::size_t i = 0; i < words.size(); ++i) index.emplace(words[i], static_cast<int>(i));
  unknown = static_cast<int>(words.size()) - 1;
}

int Vocabulary::id(const std::string& word) const {
  const auto it = index.find(word);
  return it == index.end() ? unknown : it->second;
}

Split parse_split(const std::string& name) {
  for (std::size_t i = 0; i < kSplitNames.size(); ++i)
    if (name == kSplitNames[i]) return static_cast<Split>(i);
  throw InputError(fmt::format("unknown split '{}'; use train, dev or test", name));
}

std::array<fs::path, 4> corpus_files(const fs::path& dir) {
  return {dir / "train.txt", dir / "dev.txt", dir / "test.txt", dir / "corpus.json"};
}

Split split_of_synset(char pos, const std::string& offset) {
  std::uint64_t h = 14695981039346656037ull;
  auto mix = [&](char c) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  };
  mix(pos);
  mix(' ');
  for (char c : offset) mix(c);
  const auto bucket = h % 20;
  return bucket == 0 ? Split::test : bucket == 1 ? Split::dev : Split::train;
}

namespace {

std::string trim(std::string s) {
  const auto b = s.find_first_not_of(" ;\t");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" ;\t");
  return s.substr(b, e - b + 1);
}

}  // namespace

Gloss parse_gloss(const std::string& gloss) {
  Gloss g;
  const auto quote = gloss.find('"');
  g.definition = trim(gloss.substr(0, quote));
  std::size_t at = quote;
  while (at != std::string::npos) {
    const auto end = gloss.find('"', at + 1);
    if (end == std::string::npos) {  // an unclosed quote: the rest is the example
      g.examples.push_back(trim(gloss.substr(at + 1)));
      break;
    }
    g.examples.push_back(trim(gloss.substr(at + 1, end - at - 1)));
    at = gloss.find('"', end + 1);
  }
  std::erase_if(g.examples, [](const std::string& e) { return e.empty(); });
  return g;
}

namespace {

std::vector<int> to_ids(const std::string& sentence, const Vocabulary& vocab) {
  std::vector<int> ids;
  for (const auto& w : tokenize(sentence, [&](const std::string& t) { return vocab.index.count(t) != 0; })) ids.push_back(vocab.id(w));
  return ids;
}

std::string line_of(const std::vector<int>& ids, const Vocabulary& vocab) {
  std::string line;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) line += ' ';
    line += vocab.words[static_cast<std::size_t>(ids[i])];
  }
  line += '\n';
  return line;
}

// The first block of a text file looked at whole: UTF-16, or a NUL byte (/dev/zero, a sparse file) before
// any line ends, is refused before lines are read (a line is read up to 64 MiB).
void check_text_head(io::BlockReader& in, const std::string& source) {
  in.fill(1);
  const std::string_view head(in.data(), in.available());
  io::check_not_utf16(head.substr(0, 2), source);
  if (const auto nul = head.find('\0'); nul != std::string_view::npos)
    throw InputError(fmt::format("{}:{}: a NUL byte: not a text file", source,
                                 std::count(head.begin(), head.begin() + static_cast<std::ptrdiff_t>(nul), '\n') + 1));
}

}  // namespace

CorpusStats build_corpus(const fs::path& wordnet_dir, const Vocabulary& vocab, const fs::path& out, const std::string& vocabulary_name) {
  CorpusStats stats;
  std::array<std::string, 3> text;
  const std::array<std::pair<const char*, char>, 4> files = {{{"data.noun", 'n'}, {"data.verb", 'v'}, {"data.adj", 'a'}, {"data.adv", 'r'}}};
  for (const auto& [name, pos] : files) {
    const fs::path path = wordnet_dir / name;
    // Only whether it is there (opening a FIFO here would wait for a writer); BlockReader refuses the rest.
    std::error_code missing;
    if (!fs::exists(path, missing))
      throw InputError(fmt::format("{}: cannot read the WordNet database file (install Debian's wordnet-base, or give "
                                   "--wordnet DIR holding data.noun, data.verb, data.adj and data.adv)",
                                   path.string()));
    io::BlockReader in(path, "the WordNet database file");
    check_text_head(in, path.string());
    std::string_view view;
    std::size_t line_no = 0;
    while (io::next_line(in, view, path.string(), line_no, "WordNet data file")) {
      ++line_no;
      const std::string line(view);
      if (line.empty() || line[0] == ' ') continue;  // the licence header's lines start with two spaces
      const auto space = line.find(' ');
      const auto bar = line.find(" | ");
      if (space != 8 || bar == std::string::npos)
        throw InputError(fmt::format("{}:{}: not a WordNet data line (expected an 8-digit offset and ' | ' before the gloss)",
                                     path.string(), line_no));
      const auto split = static_cast<std::size_t>(split_of_synset(pos, line.substr(0, 8)));
      ++stats.synsets[split];
      const Gloss gloss = parse_gloss(line.substr(bar + 3));
      auto add = [&](const std::string& sentence, std::size_t& kind) {
        const auto ids = to_ids(sentence, vocab);
        if (ids.size() < 2) return;
        ++kind;
        ++stats.sentences[split];
        stats.tokens[split] += ids.size();
        for (int id : ids) stats.unknown[split] += id == vocab.unknown;
        text[split] += line_of(ids, vocab);
      };
      add(gloss.definition, stats.definitions);
      for (const auto& e : gloss.examples) add(e, stats.examples);
    }
  }
  std::error_code ec;
  fs::create_directories(out, ec);
  if (!fs::is_directory(out)) throw InputError(fmt::format("{}: cannot create the corpus directory", out.string()));
  // Every file checked before the first is written: a refusal leaves no split of this build beside an old one.
  const auto outputs = corpus_files(out);
  for (const auto& file : outputs) check_writable(file.string());
  nlohmann::ordered_json doc;
  doc["format"] = "attnviz-corpus";
  doc["version"] = 1;
  doc["source"] = "WordNet 3.0 (Princeton University), definitions and example sentences: " + wordnet_dir.string();
  doc["vocabulary"] = vocabulary_name;
  doc["vocabulary_size"] = vocab.size();
  doc["split_rule"] = "FNV-1a 64 of '<pos> <offset>' modulo 20: 0 test, 1 dev, else train";
  doc["definitions"] = stats.definitions;
  doc["examples"] = stats.examples;
  for (std::size_t s = 0; s < 3; ++s) {
    const double coverage = stats.tokens[s] ? 1.0 - static_cast<double>(stats.unknown[s]) / static_cast<double>(stats.tokens[s]) : 0.0;
    doc["splits"][kSplitNames[s]] = {{"synsets", stats.synsets[s]}, {"sentences", stats.sentences[s]}, {"tokens", stats.tokens[s]},
                                     {"unknown", stats.unknown[s]}, {"coverage", std::round(coverage * 10000) / 10000}};
    write_output(outputs[s].string(), text[s]);
  }
  write_output(outputs[3].string(), to_pretty_json(doc));
  return stats;
}

namespace {

// `pretokenized`: the corpus files, whose tokens are separated by single spaces (and whose unknown words are
// spelt <unk>, which the tokenizer would turn into "unk"); otherwise each line goes through the tokenizer.
// Read in blocks, a line at a time: a line over 64 MiB (/dev/zero, /dev/urandom), a NUL byte or UTF-16 is
// refused, and the sentences kept count against --max-memory as they grow (a pipe or device that never
// ends stops there).
std::vector<std::vector<int>> read_sentences(const fs::path& path, const Vocabulary& vocab, const std::string& what, bool pretokenized) {
  const std::string source = path.string();
  io::BlockReader in(path, "the " + what);
  std::vector<std::vector<int>> out;
  // Each sentence: its token ids, the vector that holds them, and the allocator's overhead.
  constexpr double kBytesPerSentence = 48, kBytesPerToken = sizeof(int);
  double held = 0;
  check_text_head(in, source);
  std::string_view line;
  for (std::size_t line_no = 0; io::next_line(in, line, source, line_no, what); ++line_no) {
    if (const auto nul = line.find('\0'); nul != std::string_view::npos)
      throw InputError(fmt::format("{}:{}: a NUL byte: not a text file", source, line_no + 1));
    std::vector<int> ids;
    if (pretokenized) {
      // attnviz corpus writes vocabulary words in UTF-8: broken UTF-8 is no corpus line.
      if (sanitize_utf8(line) != line)
        throw InputError(fmt::format("{}:{}: not a line of a corpus (invalid UTF-8); rebuild the corpus with 'attnviz corpus'", source, line_no + 1));
      std::istringstream words{std::string(line)};
      for (std::string w; words >> w;) ids.push_back(vocab.id(w));
    } else {
      ids = to_ids(std::string(line), vocab);
    }
    if (ids.empty()) continue;
    held += kBytesPerSentence + kBytesPerToken * static_cast<double>(ids.size());
    if (held > memory_budget())
      check_memory(held, fmt::format("keeping the sentences of the {} '{}' ({} so far)", what, source, out.size() + 1),
                   "raise --max-memory, or check that this is the file you meant");
    out.push_back(std::move(ids));
  }
  return out;
}

}  // namespace

std::vector<std::vector<int>> load_corpus_split(const fs::path& dir, Split split, const Vocabulary& vocab) {
  const auto files = corpus_files(dir);
  const fs::path& path = files[static_cast<std::size_t>(split)];
  if (!fs::exists(files[3]))
    throw InputError(fmt::format("{}: not a corpus directory (no corpus.json); build one with 'attnviz corpus --out {}'", dir.string(), dir.string()));
  const auto doc = io::parse_json(io::read_file(files[3], "corpus description"), files[3].string());
  if (!doc.is_object() || !doc.contains("format") || doc["format"] != "attnviz-corpus")
    throw InputError(fmt::format("{}: not a corpus description (expected \"format\": \"attnviz-corpus\"); build the corpus with 'attnviz corpus --out {}'",
                                 files[3].string(), dir.string()));
  // Built for another vocabulary, its words would all be read as <unk>: a perplexity of other tokens.
  if (const auto size = doc.find("vocabulary_size"); size != doc.end() && (!size->is_number_integer() || size->get<long long>() != vocab.size()))
    throw InputError(fmt::format("{}: the corpus was built for a vocabulary of {} words ({}), the model reads {}; rebuild it with 'attnviz corpus "
                                 "--embeddings' and the model's embeddings",
                                 files[3].string(), size->dump(),
                                 doc.contains("vocabulary") && doc["vocabulary"].is_string() ? doc["vocabulary"].get<std::string>() : "?", vocab.size()));
  return read_sentences(path, vocab, "corpus split", true);
}

std::vector<std::vector<int>> tokenize_text_file(const fs::path& path, const Vocabulary& vocab) {
  if (fs::is_directory(path)) throw InputError(fmt::format("{}: is a directory, not a text file", path.string()));
  return read_sentences(path, vocab, "text file", false);
}

}  // namespace attnviz
