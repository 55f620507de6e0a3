// Scans C++ sources for what model/ must never use: ns-3, Linux or POSIX
// networking headers, threads, the wall clock, the environment,
// std::random_device. Comments and string literals are ignored.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace loom::testing {

struct Violation {
  std::string file;
  int line;
  std::string what;
};

// Violations in one source text (file is only used to label them).
std::vector<Violation> scan_source(const std::string& file, const std::string& text);
// Every .h/.cc/.cpp/.hpp under root, recursively, in path order.
std::vector<Violation> scan_tree(const std::filesystem::path& root);

}  // namespace loom::testing
