// The training corpus (docs/training.md): WordNet's definitions and example sentences, tokenized by
// attnviz's own tokenizer, mapped onto a fixed vocabulary (the bundled GloVe words plus <unk>), and split
// into train, dev and test by synset so that no synset's sentences are in two splits.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <unordered_map>
#include <vector>

namespace attnviz {

inline constexpr const char* kUnknownToken = "<unk>";

// The words a language model predicts: `words` in order, the last one always <unk>.
struct Vocabulary {
  std::vector<std::string> words;
  std::unordered_map<std::string, int> index;
  int unknown = 0;  // index of <unk>

  explicit Vocabulary(std::vector<std::string> known_words);  // appends <unk>
  int id(const std::string& word) const;                    // <unk>'s id when not known
  int size() const { return static_cast<int>(words.size()); }
};

enum class Split { train = 0, dev = 1, test = 2 };
inline constexpr std::array<const char*, 3> kSplitNames = {"train", "dev", "test"};
Split parse_split(const std::string& name);  // InputError for anything but train|dev|test
// The files of a corpus directory: train.txt, dev.txt and test.txt (in Split order), then corpus.json.
std::array<std::filesystem::path, 4> corpus_files(const std::filesystem::path& dir);

// Which split a synset goes to: FNV-1a of "<pos> <offset>" modulo 20; 0 is test, 1 dev, the rest train
// (90 / 5 / 5 in expectation). Fixed, so every build of the corpus splits the same way.
Split split_of_synset(char pos, const std::string& offset);

struct CorpusStats {
  std::array<std::size_t, 3> synsets{}, sentences{}, tokens{}, unknown{};
  std::size_t definitions = 0, examples = 0;
};

// Builds the corpus from a WordNet 3.0 database directory (data.noun, data.verb, data.adj, data.adv) into
// `out`: train.txt, dev.txt and test.txt (one sentence a line, tokens separated by one space, unknown words
// written as <unk>) and corpus.json (what it holds and how it was made). Sentences of fewer than two tokens
// are left out. Deterministic: the same database and vocabulary give the same bytes. InputError when the
// database is missing or malformed, or `out` cannot be written (each file is written whole or not at all, and
// every file is checked before the first is written).
CorpusStats build_corpus(const std::filesystem::path& wordnet_dir, const Vocabulary& vocab, const std::filesystem::path& out,
                         const std::string& vocabulary_name);

// One split of a built corpus as token ids (words not in `vocab` become <unk>). InputError naming the file
// when it is missing.
std::vector<std::vector<int>> load_corpus_split(const std::filesystem::path& dir, Split split, const Vocabulary& vocab);

// Plain text (any file a teacher brings) as token ids: one sentence per line, tokenized like the corpus.
std::vector<std::vector<int>> tokenize_text_file(const std::filesystem::path& path, const Vocabulary& vocab);

// The gloss of one line of a WordNet data file: the definition and the quoted examples (exposed for tests).
struct Gloss {
  std::string definition;
  std::vector<std::string> examples;
};
Gloss parse_gloss(const std::string& gloss);

}  // namespace attnviz
