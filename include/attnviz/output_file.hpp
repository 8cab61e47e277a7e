// Writing output files and standard output safely (docs/reliability.md, "Output files").
//
// A regular file is replaced whole or not at all: a temporary file beside it (a short name, so that a file
// name near the 255-byte limit still works), then a rename. A symlink to a regular file is replaced at its
// target and stays a link; a device, a named pipe, a terminal, /dev/stdout, /dev/fd/N or /proc/self/fd/N is
// written through, never renamed over. The old file's mode is kept; a file the user could not write with
// `>` is refused. SIGTERM, SIGHUP and SIGINT remove a temporary file before the process dies of the signal.
// Every write to standard output is checked, and so is the final flush (finish_standard_output).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "attnviz/error.hpp"

namespace attnviz {

// Writes `content` to `path` ("-": standard output). InputError (exit 2) when the path cannot be written at
// all (missing folder, permission, a read-only file); Error (exit 1) "'PATH': write error: REASON" when a
// write fails on the way (a full disk).
void write_output_file(const std::string& path, std::string_view content);

// From now on std::cout writes through write(2), each write checked (the command line calls it first).
void use_checked_standard_output();

// InputError, as write_output_file would give it, when `path` cannot be written (a directory, a missing
// folder, a file `>` could not write); writes nothing. A command that writes several files checks each
// first, so that a refusal leaves none of them half-written.
void check_writable(const std::string& path);

// Writes to standard output and flushes; Error "standard output: write error: REASON" when it fails.
void write_standard_output(std::string_view content);

// At exit: flushes standard output; when any write to it failed, prints "attnviz: error: standard output:
// write error: REASON" and returns 1, else returns `exit_code`.
int finish_standard_output(int exit_code);

// One output or input file of a command: the option that names it ("--json") and its path.
struct NamedFile {
  std::string option;
  std::string path;  // "-" is standard output (outputs) or standard input (inputs)
};

// InputError (exit 2) when two outputs are the same regular file (the same path, or the same file by
// another name: a link, /dev/stdout redirected to it), or when an output is one of the inputs. Devices and
// pipes may be shared (--json /dev/null --html /dev/null). Call it before any work.
void check_output_files(const std::vector<NamedFile>& outputs, const std::vector<NamedFile>& inputs);

}  // namespace attnviz
