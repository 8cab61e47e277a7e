// attnviz lesson new NAME: a starting lesson file (format attnviz-lesson, docs/formats.md) that runs as it
// is with `attnviz demo ./NAME.json` and whose claims hold; the teacher edits its sentences, word,
// neighbourhoods and claims.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/output_file.hpp"
#include "common.hpp"

namespace attnviz::cli {

namespace {

struct LessonArgs {
  std::string action;
  std::string name;
  std::optional<std::string> out;
};

// The starting lesson: "bat" beside a cave and beside a ball, on the toy data. Its claims hold (the tests run
// it: tests/test_teacher.cpp), and docs/formats.md shows this text for the name "bat". `name` is letters,
// digits, '-' and '_' only, so it needs no JSON escaping.
std::string starting_lesson(const std::string& name) {
  return fmt::format(R"json({{
  "format": "attnviz-lesson",
  "version": 1,
  "name": "{}",
  "title": "A bat that flies or a bat that hits",
  "description": "\"bat\" ends closer to the animal neighbourhood beside a cave and closer to object beside a ball. (A starting lesson made by attnviz lesson new: change the sentences, the word, the neighbourhoods and the claims; attnviz words lists the words the embeddings know.)",
  "embeddings": "toy",
  "model": "toy",
  "sentences": ["the bat flew out of the dark cave at night", "he swung the bat and hit the ball"],
  "word": "bat",
  "neighbourhoods": {{ "animal": ["cat", "dog", "animal"], "object": ["ball", "device", "keyboard"] }},
  "claims": [
    {{ "sentence": 1, "ends_closer_to": "animal" }},
    {{ "sentence": 2, "ends_closer_to": "object" }}
  ]
}}
)json",
                     name);
}

int lesson(const LessonArgs& a) {
  if (a.action != "new") throw InputError(fmt::format("lesson: unknown action '{}'; the action is: new", a.action));
  // NAME, or a path ending in .json (its file name without .json is the lesson's name).
  const std::filesystem::path given(a.name);
  const bool is_path = given.extension() == ".json";
  const std::string name = is_path ? given.stem().string() : a.name;
  if (name.empty() || !std::all_of(name.begin(), name.end(), [](unsigned char c) { return std::isalnum(c) || c == '-' || c == '_'; }))
    throw InputError(fmt::format("lesson new: '{}' is not a lesson name; use letters, digits, '-' and '_' (e.g. bat), or a path "
                                 "ending in .json",
                                 a.name));
  const std::string path = a.out.value_or(is_path ? a.name : name + ".json");
  std::error_code ec;  // a dangling link counts as existing: writing would create its target
  if (path != "-" && std::filesystem::exists(std::filesystem::symlink_status(path, ec)))
    throw InputError(fmt::format("lesson new: '{}' exists already; give another NAME or --out FILE (nothing was written)", path));
  write_output_file(path, starting_lesson(name));
  if (path != "-")
    std::cout << fmt::format("wrote {}: run it with attnviz demo {}; edit its sentences, word, neighbourhoods and claims "
                             "(docs/formats.md, \"Lesson\")\n",
                             path, path.find('/') == std::string::npos ? "./" + path : path);
  return 0;
}

}  // namespace

Command add_lesson_command(CLI::App& app) {
  auto args = std::make_shared<LessonArgs>();
  CLI::App* cmd = app.add_subcommand("lesson", "Make your own lesson: 'lesson new NAME' writes a starting lesson file NAME.json");
  cmd->add_option("action", args->action, "new: write a starting lesson")->required()->type_name("new");
  cmd->add_option("name", args->name, "The lesson's name (the file is NAME.json), or a path ending in .json")->required()->type_name("NAME");
  cmd->add_option("--out", args->out, "Write the lesson to FILE instead ('-': standard output)")->type_name("FILE|-");
  cmd->footer(R"(Examples:
  attnviz lesson new bat            writes bat.json, a lesson that runs as it is
  attnviz demo ./bat.json           runs it (after your edits too)
  attnviz lesson new bat --out -    prints it
The format is in docs/formats.md ("Lesson"); attnviz words lists the words a sentence may use.)");
  return {cmd, [args] { return lesson(*args); }, reset_to_defaults(args)};
}

}  // namespace attnviz::cli
