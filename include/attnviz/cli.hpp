// The command line (DESIGN.md §4). main() parses, runs, catches every error once and maps it to the exit
// code: 0 success, 2 usage or input error, 1 anything else.
#pragma once

namespace attnviz::cli {

int main(int argc, char** argv);

}  // namespace attnviz::cli
