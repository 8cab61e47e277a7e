// Input files are read strictly and within their budget (docs/reliability.md, "Promises"): duplicate and
// unknown keys, empty names, sizes bounded by --max-memory, control characters never reach the terminal.
#include <catch2/catch.hpp>

#include <fmt/format.h>

#include <sys/stat.h>

#include <filesystem>
#include <set>
#include <fstream>

#include <nlohmann/json.hpp>

#include "support.hpp"

namespace fs = std::filesystem;
using attnviz::test::data_dir;
using attnviz::test::read_text;
using attnviz::test::run_attnviz;
using attnviz::test::run_shell;
using attnviz::test::TempDir;
using Catch::Contains;

namespace {

// A version 1 model for the toy embeddings (d_model 8) with `extra` members added before the last "}".
std::string toy_model_with(const std::string& extra) {
  std::string text = read_text(data_dir() / "models" / "toy.json");
  const auto close = text.rfind('}');
  return text.substr(0, close) + extra + "}\n";
}

std::string toy_embeddings_with(const std::string& extra) {
  std::string text = read_text(data_dir() / "embeddings" / "toy.json");
  const auto close = text.rfind('}');
  return text.substr(0, close) + extra + "}\n";
}

const std::string kError = "attnviz: error: ";

}  // namespace

// ---- 7. Duplicate keys, unknown keys, empty names -------------------------------------------------------------

TEST_CASE("Input safety: a model file with a key twice is refused naming the key and the file", "[cli][loaders][safety]") {
  TempDir dir;
  const auto m = dir.write("m.json", toy_model_with(R"(, "heads": 1)"));
  const auto r = run_attnviz({"run", "the cat", "--model", m.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err == kError + m.string() + ": the key \"heads\" appears twice in the top-level object\n");
}

TEST_CASE("Input safety: a lesson file with an unknown key or an empty name is refused naming the key and the file", "[cli][loaders][safety]") {
  TempDir dir;
  auto lesson = nlohmann::ordered_json::parse(read_text(data_dir() / "lessons" / "mouse.json"));
  lesson["sentence"] = "a misspelt sentences";
  const auto unknown = dir.write("u.json", lesson.dump());
  auto r = run_attnviz({"demo", unknown.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err == kError + unknown.string() + ": unknown field \"sentence\" (the fields are format, version, name, title, description, "
                                               "embeddings, model, sentences, word, neighbourhoods, options, claims)\n");
  lesson.erase("sentence");
  lesson["name"] = "";
  const auto empty = dir.write("e.json", lesson.dump());
  r = run_attnviz({"demo", empty.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + empty.string() + ": field \"name\" is empty\n");
}

TEST_CASE("Input safety: a model file with an unknown key or an empty name is refused", "[cli][loaders][safety]") {
  TempDir dir;
  const auto unknown = dir.write("u.json", toy_model_with(R"(, "W_x": [[1]])"));
  auto r = run_attnviz({"run", "the cat", "--model", unknown.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.starts_with(kError + unknown.string() + ": unknown field \"W_x\" (the fields are format, version, name,"));

  std::string text = read_text(data_dir() / "models" / "toy.json");
  text.replace(text.find("\"name\": \"toy\""), 13, "\"name\": \"\"");
  const auto empty = dir.write("e.json", text);
  r = run_attnviz({"run", "the cat", "--model", empty.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + empty.string() + ": field \"name\" is empty\n");
}

TEST_CASE("Input safety: an embeddings file with a key twice, an unknown key or an empty name is refused", "[cli][loaders][safety]") {
  TempDir dir;
  const auto twice = dir.write("twice.json", toy_embeddings_with(R"(, "dim": 8)"));
  auto r = run_attnviz({"run", "the cat", "--embeddings", twice.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + twice.string() + ": the key \"dim\" appears twice in the top-level object\n");

  const auto unknown = dir.write("unknown.json", toy_embeddings_with(R"(, "colour": "red")"));
  r = run_attnviz({"run", "the cat", "--embeddings", unknown.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + unknown.string() +
                     ": unknown field \"colour\" (the fields are format, version, name, description, dim, dimension_labels, vectors)\n");

  const auto words = dir.write("words.json", toy_embeddings_with(R"(, "words": ["the"])"));
  r = run_attnviz({"run", "the cat", "--embeddings", words.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.starts_with(kError + words.string() + ": unknown field \"words\""));

  std::string text = read_text(data_dir() / "embeddings" / "toy.json");
  text.replace(text.find("\"name\": \"toy\""), 13, "\"name\": \"\"");
  const auto empty = dir.write("empty.json", text);
  r = run_attnviz({"run", "the cat", "--embeddings", empty.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + empty.string() + ": field \"name\" is empty\n");
}

TEST_CASE("Input safety: a word twice in an embeddings file is refused even when the sentence does not use it", "[cli][loaders][safety]") {
  TempDir dir;
  const auto e = dir.write("e.json", R"({"format": "attnviz-embeddings", "version": 1, "name": "t", "dim": 2,
    "vectors": {"the": [1, 0], "cat": [0, 1], "dog": [1, 1], "Dog": [2, 2]}})");
  const auto r = run_attnviz({"run", "the cat", "--embeddings", e.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + e.string() + ": the word \"dog\" appears twice in \"vectors\"\n");
}

TEST_CASE("Input safety: a mask file with a key twice names it; a mask is rows of numbers, never an object", "[cli][loaders][safety]") {
  TempDir dir;
  const auto m = dir.write("mask.json", R"({"mask": [[1, 1], [1, 1]], "mask": [[1, 0], [1, 1]]})");
  const auto r = run_attnviz({"run", "the cat", "--mask", m.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + "--mask " + m.string() + ": the key \"mask\" appears twice in the top-level object\n");
}

TEST_CASE("Input safety: a trained model (version 2) with a key twice, an unknown key or an empty name is refused",
          "[cli][loaders][train][safety]") {
  TempDir dir;
  const auto doc = nlohmann::ordered_json::parse(read_text(data_dir() / "models" / "wordnet-lm.json"));
  // A key twice inside blocks[0]: written as text, since a JSON library keeps one of the two.
  std::string text = doc.dump();
  const auto at = text.find("\"ln1_gain\":");
  REQUIRE(at != std::string::npos);
  text.insert(at, "\"b_o\":[0],");
  const auto twice = dir.write("twice.json", text);
  auto r = run_attnviz({"generate", "the", "--model", twice.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + twice.string() + ": the key \"b_o\" appears twice in \"blocks[0]\"\n");

  auto unknown = doc;
  unknown["blocks"][1]["W_x"] = 1;
  const auto u = dir.write("unknown.json", unknown.dump());
  r = run_attnviz({"evaluate", "--model", u.string(), "--text", dir.write("t.txt", "the cat\n").string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.starts_with(kError + u.string() + ": unknown field \"W_x\" in blocks[1] (the fields are ln1_gain,"));

  auto top = doc;
  top["extra"] = true;
  const auto t = dir.write("top.json", top.dump());
  r = run_attnviz({"generate", "the", "--model", t.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.starts_with(kError + t.string() + ": unknown field \"extra\" (the fields are format, version, baselines,"));

  auto empty = doc;
  empty["baselines"][0]["name"] = "";
  const auto e = dir.write("empty.json", empty.dump());
  r = run_attnviz({"generate", "the", "--model", e.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + e.string() + " baselines[0]: field \"name\" is empty\n");
}

// ---- 8. --max-memory bounds what grows with the input -----------------------------------------------------------

namespace {

// An attnviz embeddings file of `words` words with `dim` numbers each.
std::string wide_embeddings(const std::vector<std::string>& words, int dim) {
  std::string text = fmt::format(R"({{"format": "attnviz-embeddings", "version": 1, "name": "wide", "dim": {}, "vectors": {{)", dim);
  for (std::size_t w = 0; w < words.size(); ++w) {
    text += fmt::format(R"({}"{}": [)", w ? ", " : "", words[w]);
    for (int i = 0; i < dim; ++i) text += i ? ",0.5" : "0.5";
    text += "]";
  }
  return text + "}}";
}

std::string repeated(const std::string& words, int times) {
  std::string s;
  for (int i = 0; i < times; ++i) s += (i ? " " : "") + words;
  return s;
}

}  // namespace

TEST_CASE("Input safety: kept vectors and the identity model count against --max-memory before they are made", "[cli][limits][safety]") {
  TempDir dir;
  const auto e = dir.write("wide.json", wide_embeddings({"the", "cat"}, 10000));
  // A word of 10,000 numbers takes 78 KiB with its copy into the matrix: refused under 64K at the first word.
  auto r = run_attnviz({"run", "the cat", "--embeddings", e.string(), "--max-memory", "64K"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Contains("keeping 1 word vector (10000 numbers) from '" + e.string() + "' needs about 78.2 KiB") &&
                        Contains("--max-memory allows (64 KiB)"));
  // They fit in 1M, the identity model's four 10,000 × 10,000 matrices (1.5 GiB) do not: refused before they are made.
  r = run_attnviz({"run", "the cat", "--embeddings", e.string(), "--max-memory", "1M"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("the identity model for 10000-dimensional embeddings (four 10000 × 10000 matrices) needs about 1.49 GiB"));
}

TEST_CASE("Input safety: --model and --mask /dev/zero, and a 2 GB sparse file, are refused without reading them whole", "[cli][limits][safety]") {
  auto r = run_attnviz({"run", "the cat", "--model", "/dev/zero"});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + "/dev/zero: a NUL byte at byte 1: not a JSON text file\n");
  r = run_attnviz({"run", "the cat", "--mask", "/dev/zero"});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + "--mask /dev/zero: a NUL byte at byte 1: not a JSON text file\n");

  TempDir dir;
  const auto sparse = dir.path() / "sparse.json";
  std::filesystem::resize_file(dir.write("sparse.json", "{"), 2'000'000'000);  // a hole: no disk, no reading
  r = run_attnviz({"run", "the cat", "--model", sparse.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + "reading the model file '" + sparse.string() +
                     "' (1.86 GiB) needs about 5.59 GiB, more than --max-memory allows (2 GiB)\n"
                     "hint: raise --max-memory, or check that this is the file you meant\n");
}

TEST_CASE("Input safety: a pipe is read only up to --max-memory", "[cli][limits][safety]") {
  TempDir dir;
  REQUIRE(mkfifo((dir.path() / "mask").c_str(), 0600) == 0);
  // An endless valid-looking mask: refused once a third of 1 MiB is read (the text and its parse).
  const auto r = run_shell("cd '" + dir.path().string() + "' && { (printf '['; yes '[1, 1],') > mask 2>/dev/null & \"$ATTNVIZ\" run 'the cat' --mask mask --max-memory 1M; rc=$?; kill $! 2>/dev/null; exit $rc; }");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("reading the mask file 'mask' (more than") && Contains("more than --max-memory allows (1 MiB)"));
}

TEST_CASE("Input safety: --unknown subword checks the pieces it looks up against --max-memory", "[cli][limits][safety]") {
  // One 100,000-letter word asks for 4.8 million candidate pieces (about 300 MiB).
  const auto r = run_attnviz({"run", "the " + std::string(100'000, 'q'), "--unknown", "subword", "--max-memory", "100M"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Contains("looking up the pieces of the sentence's words (--unknown subword) needs about") &&
                        Contains("more than --max-memory allows (100 MiB)"));
}

TEST_CASE("Input safety: compare counts every sentence's trace together against --max-memory", "[cli][limits][safety]") {
  // Each 400-token sentence's scores, scaled scores and weights take 1.8 MiB: one fits in 4M, three do not.
  const std::string sentence = repeated("the cat chased the mouse", 80);
  auto r = run_attnviz({"compare", sentence, sentence, sentence, "--word", "cat", "--max-memory", "4M"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Contains("--max-memory"));
  r = run_attnviz({"compare", sentence, "the cat", "--word", "cat", "--max-memory", "4M"});
  CHECK(r.exit_code == 0);
}

TEST_CASE("Input safety: a sentence's n × d matrices count against --max-memory before they are made", "[cli][limits][safety]") {
  TempDir dir;
  const auto e = dir.write("wide.json", wide_embeddings({"the"}, 500));
  // 2000 tokens of 500 dimensions: the vector (4 KiB) and the identity model (3.8 MiB) fit in 16M, eight
  // n × d matrices (30.5 MiB) do not. The flash backend keeps no n × n matrix, so only they are too large.
  const std::string sentence = repeated("the", 2000);
  auto r = run_attnviz({"run", sentence, "--embeddings", e.string(), "--backend", "flash", "--stages", "output", "--max-memory", "16M"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err == kError + "2000 tokens of 500 dimensions need about 30.5 MiB for the n × d matrices (embeddings, queries, keys, values, "
                          "outputs), more than --max-memory allows (16 MiB)\nhint: use a shorter sentence, or raise --max-memory\n");
  r = run_attnviz({"run", repeated("the", 200), "--embeddings", e.string(), "--backend", "flash", "--stages", "output", "--max-memory", "16M"});
  CHECK(r.exit_code == 0);
  // They count together with the cpu backend's n × n stages: for 400 tokens 6.1 MiB and 1.83 MiB, each fitting
  // in 7M alone, not both (the flash backend keeps only the first).
  r = run_attnviz({"run", repeated("the", 400), "--embeddings", e.string(), "--backend", "flash", "--stages", "output", "--max-memory", "7M"});
  CHECK(r.exit_code == 0);
  r = run_attnviz({"run", repeated("the", 400), "--embeddings", e.string(), "--stages", "output", "--max-memory", "7M"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Contains("400 × 400 tokens (1 head) need about 1.83 MiB for the cpu backend's n × n matrices, and 6.1 MiB for "
                             "the n × d matrices beside them (7.93 MiB in all), more than --max-memory allows (7 MiB)"));
  // bench: the weights and n × d matrices (14.6 MiB) and the n × n stages (11.4 MiB) each fit in 16M, not together.
  r = run_attnviz({"bench", "--seq", "1000", "--dim", "400", "--heads", "1", "--backend", "cpu", "--threads", "1", "--max-memory", "16M"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("for the cpu backend's n × n matrices, and 14.6 MiB for the weights and the n × d matrices beside them"));
}

TEST_CASE("Input safety: demo counts all its sentences' traces together against --max-memory, as compare does", "[cli][limits][safety]") {
  TempDir dir;
  const std::string sentence = repeated("the cat chased the mouse", 80);
  const auto lesson = [&](int sentences) {
    nlohmann::ordered_json l = {{"format", "attnviz-lesson"}, {"version", 1}, {"name", "long"}, {"sentences", nlohmann::json::array()}};
    for (int i = 0; i < sentences; ++i) l["sentences"].push_back(sentence);
    return dir.write(fmt::format("long{}.json", sentences), l.dump()).string();
  };
  // One 400-token sentence fits in 4M (its n × n stages take 1.8 MiB), three together do not.
  auto r = run_attnviz({"demo", lesson(1), "--stages", "output", "--max-memory", "4M"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  r = run_attnviz({"demo", lesson(3), "--stages", "output", "--max-memory", "4M"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Contains("sentence 3: 400 × 400 tokens (1 head) need about 1.83 MiB") &&
                        Contains("(what --max-memory left after the 2 sentences before it, which hold 3.83 MiB)"));
  // The lesson file itself is read within --max-memory (three times its size: the text and its parse).
  r = run_attnviz({"demo", lesson(3), "--max-memory", "4K"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("reading the lesson file '" + lesson(3) + "'") && Contains("more than --max-memory allows (4 KiB)"));
}

// ---- 9. bench estimates its time and keeps to --max-time ---------------------------------------------------------

TEST_CASE("Input safety: bench refuses a run estimated above --max-time before the long runs", "[cli][bench][safety]") {
  // A million tokens would take hours; the default --max-time (300 s) refuses it after a calibration of moments.
  auto r = run_attnviz({"bench", "--seq", "1000000", "--backend", "flash"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Contains("bench --seq 1000000 would take about") && Contains("(estimated from runs at 512 and 1024 tokens)") &&
                        Contains("more than --max-time allows (300 s)") && Contains("raise --max-time (0: no limit)"));
  r = run_attnviz({"bench", "--seq", "100000", "--backend", "flash", "--max-time", "1"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("more than --max-time allows (1 s)"));
  // Within the limit it runs, and says nothing on standard error when that is not a terminal.
  r = run_attnviz({"bench", "--seq", "64", "--dim", "8", "--min-time", "0", "--json", "-"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(nlohmann::json::parse(r.out)["estimated_seconds"].get<double>() > 0);
}

TEST_CASE("Input safety: bench shows its estimate on a terminal, and erases the line at the end", "[cli][bench][safety]") {
  // script(1) gives the command a terminal; its output (both streams) is the terminal's.
  const auto r = run_shell("script -qec '\"$ATTNVIZ\" bench --seq 64 --dim 8 --min-time 0 > /dev/null' /dev/null");
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("bench: about ") && Contains("in all (estimated)") && Contains("\r\033[K"));
}

// ---- Messages that mislead --------------------------------------------------------------------------------------

TEST_CASE("Input safety: a NUL byte in a word does not cut the message short", "[cli][messages][safety]") {
  TempDir dir;
  const auto e = dir.write("nul.txt", std::string("the 1 2\ncat 1 2\nmo\0use 1\n", 26));
  const auto r = run_attnviz({"run", "the cat", "--embeddings", e.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + e.string() + ":3: the word \"mo\\u0000use\" has 1 numbers, expected 2 (as on line 1)\n");
}

TEST_CASE("Input safety: UTF-16 files are named as such", "[cli][messages][safety]") {
  TempDir dir;
  const std::string utf16le("\xFF\xFE{\0}\0", 6);
  const auto e = dir.write("e16.json", utf16le);
  auto r = run_attnviz({"run", "the cat", "--embeddings", e.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + e.string() + ": UTF-16 is not supported; save as UTF-8\n");
  const auto m = dir.write("m16.json", std::string("{\0\"\0", 4));  // no byte order mark: ASCII paired with NUL bytes
  r = run_attnviz({"run", "the cat", "--model", m.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + m.string() + ": UTF-16 is not supported; save as UTF-8\n");
  const auto t = dir.write("t16.txt", std::string("\xFE\xFF\0t\0h\0e", 8));
  r = run_attnviz({"run", "the cat", "--embeddings", t.string()});
  CHECK(r.err == kError + t.string() + ": UTF-16 is not supported; save as UTF-8\n");
}

TEST_CASE("Input safety: a line longer than 64 MiB is named with its file and line", "[cli][messages][safety]") {
  TempDir dir;
  const auto e = dir.write("long.txt", "the 1 2\n" + std::string((64u << 20) + 10, 'a'));
  const auto r = run_attnviz({"run", "the cat", "--embeddings", e.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + e.string() + ":2: a line longer than 64 MiB: this is not a word-vector text file\n");
}

TEST_CASE("Input safety: control characters from files never reach the terminal", "[cli][messages][safety]") {
  TempDir dir;
  std::string emb = read_text(data_dir() / "embeddings" / "toy.json");
  emb.replace(emb.find("\"name\": \"toy\""), 13, R"("name": "toy\u001b[2J")");
  const auto e = dir.write("e.json", emb);
  std::string model = read_text(data_dir() / "models" / "toy.json");
  model.replace(model.find("\"name\": \"toy\""), 13, R"("name": "m\u001b]0;pwned\u0007\u009b31m")");
  const auto m = dir.write("m.json", model);
  auto r = run_attnviz({"run", "the cat", "--embeddings", e.string(), "--model", m.string(), "--color", "never"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find('\x1b') == std::string::npos);
  CHECK(r.out.find('\x07') == std::string::npos);
  CHECK(r.out.find("\xC2\x9B") == std::string::npos);
  CHECK_THAT(r.out, Contains("toy\\u001b[2J") && Contains("m\\u001b]0;pwned\\u0007\\u009b31m"));

  // A word with an escape sequence, in a message.
  const auto w = dir.write("w.txt", "the 1 2\n\x1b[2Jcat 1\n");
  r = run_attnviz({"run", "the cat", "--embeddings", w.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find('\x1b') == std::string::npos);
  CHECK_THAT(r.err, Contains("\\u001b[2Jcat"));
}

TEST_CASE("Input safety: option values are checked as CLI11 checks them, and named when they are no number", "[cli][messages][safety]") {
  auto r = run_attnviz({"run", "the cat", "--temperature", ""});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--temperature: '' is not a number"));
  r = run_attnviz({"run", "the cat", "--width", "abc"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--width: 'abc' is not a number"));
  r = run_attnviz({"run", "the cat", "--width", "30.5"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--width: '30.5' is not a whole number"));
  r = run_attnviz({"run", "the cat", "--width", "5"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--width: Value 5 not in range 20 to 100000"));  // CLI11's own message
  for (const char* size : {"0.4", "0", "1.5M"}) {
    INFO(size);
    r = run_attnviz({"run", "the cat", "--max-memory", size});
    if (std::string(size) == "1.5M") {
      CHECK(r.exit_code == 0);  // a fraction of a unit is a size
      continue;
    }
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains(std::string("--max-memory '") + size + "' is not a size"));
  }
}

TEST_CASE("Input safety: FORCE_COLOR=0 and FORCE_COLOR=false mean no colour", "[cli][messages][safety]") {
  for (const char* value : {"0", "false", "FALSE"}) {
    INFO(value);
    const auto r = run_attnviz({"run", "the cat"}, {{"FORCE_COLOR", value}});
    CHECK(r.exit_code == 0);
    CHECK(r.out.find('\x1b') == std::string::npos);
  }
  CHECK(run_attnviz({"run", "the cat"}, {{"FORCE_COLOR", "true"}}).out.find('\x1b') != std::string::npos);
}

TEST_CASE("Input safety: an output path that is an option name is a usage error, and no file is written", "[cli][messages][safety]") {
  TempDir dir;
  // {the command line, the option taken for a path}
  const std::vector<std::pair<std::string, std::string>> cases{{"run 'the cat' --json --color never", "--color"},
                                                               {"run 'the cat' --html --stages weights", "--stages"},
                                                               {"bench --seq 8 --json --min-time 0", "--min-time"}};
  for (const auto& [args, option] : cases) {
    const auto r = run_shell("cd '" + dir.path().string() + "' && \"$ATTNVIZ\" " + args);
    INFO(args << "\n" << r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Contains(option + " is an option, not a file name (a file of that name: ./" + option + ")"));
  }
  CHECK(std::filesystem::is_empty(dir.path()));
  // A path that only starts with a dash is a path.
  const auto r = run_shell("cd '" + dir.path().string() + "' && \"$ATTNVIZ\" run 'the cat' --json ./--color");
  CHECK(r.exit_code == 0);
  CHECK(std::filesystem::exists(dir.path() / "--color"));
}

TEST_CASE("Input safety: words are compared in NFC: a decomposed café in the sentence is the file's composed café", "[cli][messages][safety]") {
  TempDir dir;
  const std::string composed = "caf\xC3\xA9", decomposed = "cafe\xCC\x81";
  for (const auto& [in_file, in_sentence] : {std::pair{composed, decomposed}, std::pair{decomposed, composed}}) {
    const auto e = dir.write("e.txt", "the 1 0\n" + in_file + " 0 1\n");
    const auto r = run_attnviz({"run", "the " + in_sentence, "--embeddings", e.string(), "--stages", "embeddings", "--color", "never"});
    INFO(r.err);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.out, Contains(composed));
  }
}

TEST_CASE("Input safety: cpu and flash agree at the float32 limit and name the real cause", "[cli][messages][safety]") {
  TempDir dir;
  const auto big = dir.write("big.json", R"({"format": "attnviz-embeddings", "version": 1, "name": "big", "dim": 2,
    "vectors": {"the": [3.4e38, 3.4e38], "cat": [3.4e38, -3.4e38]}})");
  const std::string scores = kError + "the scores stage of head 1 overflows float32 (row 0, column 0); the inputs are too large: "
                                      "scale the embeddings or the weights down\n";
  const std::string temperature = kError + "the scaled_scores stage of head 1 overflows float32 (row 1, column 1); the inputs are "
                                           "too large for --temperature 1.2e-38: use a larger temperature\n";
  for (const char* backend : {"cpu", "flash"}) {
    INFO(backend);
    auto r = run_attnviz({"run", "the cat", "--embeddings", big.string(), "--backend", backend});
    CHECK(r.exit_code == 2);
    CHECK(r.err == scores);
    r = run_attnviz({"run", "the cat chased the mouse", "--temperature", "1.2e-38", "--backend", backend});
    CHECK(r.exit_code == 2);
    CHECK(r.err == temperature);
  }
}

TEST_CASE("Input safety: running out of memory while reading the files does not blame the sentence", "[cli][limits][safety]") {
  // 4,000 dimensions: the identity model's four matrices take 244 MiB, within --max-memory 4G but not within
  // a 200 MB address-space limit.
#if defined(__SANITIZE_ADDRESS__)
  SUCCEED("skipped: AddressSanitizer reserves terabytes of address space, so no process starts under ulimit -v");
  return;
#endif
  TempDir dir;
  const auto e = dir.write("e.json", wide_embeddings({"the", "cat"}, 4000));
  const auto r = run_shell("ulimit -v 200000 && \"$ATTNVIZ\" run 'the cat' --embeddings '" + e.string() + "' --max-memory 4G --stages output");
  CHECK(r.exit_code == 1);
  CHECK(r.err == "attnviz: error: out of memory while reading the embeddings and the model, within --max-memory (4 GiB): the machine "
                 "has less free memory than that\nhint: lower --max-memory to have such files refused before they are read\n");
}

TEST_CASE("Input safety: a lesson's title and description, and a sentence, print no control character", "[cli][messages][safety]") {
  TempDir dir;
  auto lesson = nlohmann::ordered_json::parse(read_text(data_dir() / "lessons" / "mouse.json"));
  lesson["title"] = "Mouse\x1b[2J";
  lesson["description"] = "\x1b]0;pwned\x07 a lesson";
  const auto l = dir.write("evil.json", lesson.dump());
  auto r = run_attnviz({"demo", l.string(), "--color", "never", "--data-dir", data_dir().string()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find('\x1b') == std::string::npos);
  CHECK(r.out.find('\x07') == std::string::npos);
  CHECK_THAT(r.out, Contains("Mouse\\u001b[2J"));
  r = run_attnviz({"run", "the \x1b] cat\x07", "--color", "never"});  // dropped from the tokens, escaped in "sentence:"
  CHECK(r.exit_code == 0);
  CHECK(r.out.find('\x1b') == std::string::npos);
}

TEST_CASE("Input safety: every field the schemas list is accepted (the code's field lists follow the schemas)", "[cli][loaders][safety]") {
  // Files holding every field their schema allows: they must load. When a schema gains a field, the key
  // sets below stop matching and this test names the field to add to the loader's list.
  const auto schema = [](const char* name) {
    return nlohmann::json::parse(read_text(attnviz::test::source_dir() / "docs" / "schema" / name));
  };
  const auto keys = [](const nlohmann::json& object) {
    std::set<std::string> out;
    for (const auto& [k, v] : object.items()) out.insert(k);
    return out;
  };
  TempDir dir;
  auto model = nlohmann::ordered_json::parse(read_text(data_dir() / "models" / "toy.json"));
  model["origin"] = "hand-set";
  const auto model_schema = schema("attnviz-model.schema.json");
  CHECK(keys(model) == keys(model_schema["$defs"]["version1"]["properties"]));
  auto r = run_attnviz({"run", "the cat", "--model", dir.write("m.json", model.dump()).string(), "--stages", "output"});
  CHECK(r.exit_code == 0);
  CHECK(r.err.empty());

  const auto embeddings = nlohmann::ordered_json::parse(read_text(data_dir() / "embeddings" / "toy.json"));
  CHECK(keys(embeddings) == keys(schema("attnviz-embeddings.schema.json")["properties"]));

  // A trained model: its own fields and its blocks' (every optional tensor of a block, as the schema has them).
  const auto lm = nlohmann::ordered_json::parse(read_text(data_dir() / "models" / "wordnet-lm.json"));
  const auto v2 = model_schema["$defs"]["version2"];
  CHECK(keys(lm) == keys(v2["properties"]));
  CHECK(keys(lm["baselines"][0]) == keys(model_schema["$defs"]["language_model"]["properties"]));
  const auto block_fields = keys(v2["properties"]["blocks"]["items"]["properties"]);
  std::set<std::string> blocks_have;
  for (const auto& b : lm["blocks"])
    for (const auto& k : keys(b)) blocks_have.insert(k);
  for (const auto& k : blocks_have) CHECK(block_fields.count(k) == 1);
  r = run_attnviz({"generate", "the", "--model", (data_dir() / "models" / "wordnet-lm.json").string(), "--steps", "1"});
  CHECK(r.exit_code == 0);

  // A lesson with every top-level field and every option but "layer" (which needs a trained model).
  const auto lesson_schema = schema("attnviz-lesson.schema.json");
  auto lesson = nlohmann::ordered_json::parse(read_text(data_dir() / "lessons" / "mouse.json"));
  lesson["options"] = {{"heads", 1}, {"causal", false}, {"temperature", 1.0}, {"no_scale", false}, {"positions", "none"}, {"word_order", false}};
  CHECK(keys(lesson) == keys(lesson_schema["properties"]));
  auto option_fields = keys(lesson_schema["properties"]["options"]["properties"]);
  option_fields.erase("layer");
  CHECK(keys(lesson["options"]) == option_fields);
  r = run_attnviz({"demo", dir.write("lesson.json", lesson.dump()).string(), "--color", "never"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
}

namespace {

// A trained model over the toy embeddings: `layers` layers of `heads` heads of width 1, `max_len` positions,
// trained for one epoch on a few sentences (attnviz train itself writes it).
fs::path small_language_model(const TempDir& dir, int layers, int heads, int max_len) {
  const auto corpus = dir.path() / "corpus";
  fs::create_directories(corpus);
  for (const char* split : {"train", "dev", "test"}) std::ofstream(corpus / (std::string(split) + ".txt")) << "the cat chased the mouse\n";
  std::ofstream(corpus / "corpus.json") << R"({"format": "attnviz-corpus", "version": 1})";
  const auto lm = dir.path() / "lm.json";
  const auto r = run_attnviz({"train", "--corpus", corpus.string(), "--out", lm.string(), "--embeddings", "toy", "--layers",
                              std::to_string(layers), "--heads", std::to_string(heads), "--d-k", "1", "--max-len", std::to_string(max_len),
                              "--epochs", "1", "--threads", "1"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return lm;
}

}  // namespace

TEST_CASE("Input safety: a trained model's weights and forward pass count against --max-memory", "[cli][limits][safety][train]") {
  TempDir dir;
  // A header that declares 16 layers of 64 heads of width 1024 over a million dimensions: its weights (terabytes)
  // are refused by the sizes it declares, before they are made, as a bad file (exit 2), not "out of memory".
  nlohmann::ordered_json big = nlohmann::json::parse(read_text(small_language_model(dir, 1, 1, 8)));
  big.erase("baselines");
  big["d_model"] = 1000000;
  big["layers"] = 16;
  big["heads"] = 64;
  big["d_k"] = 1024;
  big["max_len"] = 1024;
  const auto file = dir.write("big.json", big.dump());
  auto r = run_attnviz({"generate", "the cat", "--model", file.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains(file.string() + ": the weights of 'wordnet-lm' (") && Contains("more than --max-memory allows (2 GiB)"));
  // A field over the limit is named as such.
  big["d_model"] = 2000000;
  r = run_attnviz({"generate", "the cat", "--model", dir.write("big2.json", big.dump()).string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("field \"d_model\" must be an integer from 1 to 1000000"));
  // The forward pass: 2 layers of 16 heads keep 32 attention matrices of 512 × 512 (32 MiB) for a 512-word prompt.
  const auto lm = small_language_model(dir, 2, 16, 1024);
  const std::string prompt = repeated("the cat", 256);
  r = run_attnviz({"generate", prompt, "--model", lm.string(), "--steps", "1", "--max-memory", "20M"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Contains("the trained model's forward pass over 512 tokens (2 layers of 16 heads") &&
                        Contains("more than --max-memory allows (20 MiB)"));
  r = run_attnviz({"generate", repeated("the cat", 16), "--model", lm.string(), "--steps", "1", "--max-memory", "20M"});
  CHECK(r.exit_code == 0);
  // run reads the model's layers through the same forward pass.
  r = run_attnviz({"run", prompt, "--model", lm.string(), "--embeddings", "toy", "--max-memory", "20M"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("forward pass over 512 tokens"));
  // evaluate (a forward pass a thread) and heads, on a text whose sentence has 512 words.
  const auto text = dir.write("t.txt", prompt + "\n");
  for (const std::string command : {"evaluate", "heads"}) {
    r = run_attnviz({command, "--model", lm.string(), "--text", text.string(), "--max-memory", "20M"});
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Contains("forward pass over 512 tokens"));
  }
  // train counts its weights, moments, gradients and forward passes before it starts.
  r = run_attnviz({"train", "--corpus", (dir.path() / "corpus").string(), "--out", (dir.path() / "x.json").string(), "--embeddings", "toy",
                   "--layers", "2", "--heads", "16", "--d-k", "1", "--max-len", "1024", "--threads", "1", "--max-memory", "40M"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("training ") && Contains("more than --max-memory allows (40 MiB)"));
  CHECK_FALSE(fs::exists(dir.path() / "x.json"));
}

TEST_CASE("Input safety: --text and corpus files are read line by line within --max-memory; NUL bytes and UTF-16 are named",
          "[cli][limits][safety][train]") {
  TempDir dir;
  const auto lm = small_language_model(dir, 1, 1, 8);
  // /dev/zero: refused at its first line's NUL byte, not read until memory runs out.
  auto r = run_attnviz({"evaluate", "--model", lm.string(), "--text", "/dev/zero"});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + "/dev/zero:1: a NUL byte: not a text file\n");
  // An endless text (a pipe that never ends) stops at the budget.
  r = run_shell("yes 'the cat chased the mouse' | timeout 60 \"$ATTNVIZ\" evaluate --model '" + lm.string() +
                "' --text /dev/stdin --max-memory 1M");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("keeping the sentences of the text file '/dev/stdin'") && Contains("more than --max-memory allows (1 MiB)"));
  // One endless line (no end of line): refused at 64 MiB, naming the file.
  r = run_shell("tr '\\0' a < /dev/zero | timeout 60 \"$ATTNVIZ\" heads --model '" + lm.string() + "' --text /dev/stdin");
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + "/dev/stdin:1: a line longer than 64 MiB: this is not a text file\n");
  // UTF-16.
  const auto u16 = dir.write("u16.txt", std::string("\xFF\xFEt\0h\0e\0", 8));
  r = run_attnviz({"evaluate", "--model", lm.string(), "--text", u16.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + u16.string() + ": UTF-16 is not supported; save as UTF-8\n");
  // A corpus split the same.
  const auto corpus = dir.path() / "corpus";
  fs::remove(corpus / "test.txt");
  fs::create_symlink("/dev/zero", corpus / "test.txt");
  r = run_attnviz({"evaluate", "--model", lm.string(), "--corpus", corpus.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + (corpus / "test.txt").string() + ":1: a NUL byte: not a text file\n");
  // corpus --wordnet: a database file that is /dev/zero (it wrote an empty corpus, exit 0, after reading a GB).
  const auto wordnet = dir.path() / "wordnet";
  fs::create_directories(wordnet);
  for (const char* name : {"data.noun", "data.verb", "data.adj", "data.adv"}) fs::create_symlink("/dev/zero", wordnet / name);
  r = run_attnviz({"corpus", "--wordnet", wordnet.string(), "--out", (dir.path() / "c").string(), "--embeddings", "toy"});
  CHECK(r.exit_code == 2);
  CHECK(r.err == kError + (wordnet / "data.noun").string() + ":1: a NUL byte: not a text file\n");
  CHECK_FALSE(fs::exists(dir.path() / "c" / "corpus.json"));
}

TEST_CASE("Input safety: generate's tiny temperature prints no NaN; train --max-sentences -5 is refused, not read as all",
          "[cli][safety][train]") {
  TempDir dir;
  const auto lm = small_language_model(dir, 1, 1, 8);
  // 1e-320: every logit below the largest divides to −∞; when <unk>'s was the largest, every term was 0 (0/0).
  for (const std::string& model : {lm.string(), std::string("wordnet-lm")})
  for (const std::string t : {"1e-320", "1e-300", "1e308"}) {
    const auto r = run_attnviz({"generate", "the cat", "--model", model, "--steps", "3", "--temperature", t});
    INFO(model << " " << t << "\n" << r.out << r.err);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("nan") == std::string::npos);
    CHECK((r.out.find("p 1.000") != std::string::npos || t == "1e308"));
  }
  const auto r = run_attnviz({"train", "--corpus", (dir.path() / "corpus").string(), "--out", (dir.path() / "x.json").string(), "--embeddings",
                              "toy", "--max-sentences", "-5"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Contains("--max-sentences: Value -5 not in range"));
  CHECK_FALSE(fs::exists(dir.path() / "x.json"));
}
