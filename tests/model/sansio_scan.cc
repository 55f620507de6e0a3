#include "tests/model/sansio_scan.h"

#include <algorithm>
#include <fstream>
#include <regex>
#include <sstream>

namespace loom::testing {

namespace {

// Removes comments; when blank_strings, also blanks string and character
// literals. Newlines are kept so line numbers stay right.
std::string strip(const std::string& in, bool blank_strings) {
  std::string out;
  out.reserve(in.size());
  enum { code, line_comment, block_comment, str, chr } state = code;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    char next = i + 1 < in.size() ? in[i + 1] : '\0';
    switch (state) {
      case code:
        if (c == '/' && next == '/') {
          state = line_comment;
          ++i;
        } else if (c == '/' && next == '*') {
          state = block_comment;
          ++i;
        } else {
          if (c == '"') state = str;
          if (c == '\'') state = chr;
          out += c;
        }
        break;
      case line_comment:
        if (c == '\n') {
          state = code;
          out += c;
        }
        break;
      case block_comment:
        if (c == '*' && next == '/') {
          state = code;
          ++i;
        } else if (c == '\n') {
          out += c;
        }
        break;
      case str:
      case chr:
        if (c == '\\' && next != '\0') {
          if (!blank_strings) {
            out += c;
            out += next;
          }
          ++i;
        } else if ((state == str && c == '"') || (state == chr && c == '\'')) {
          state = code;
          out += c;
        } else if (c == '\n') {
          state = code;  // unterminated literal: resync at end of line
          out += c;
        } else if (!blank_strings) {
          out += c;
        }
        break;
    }
  }
  return out;
}

const std::vector<std::pair<std::regex, std::string>>& include_rules() {
  static const std::vector<std::pair<std::regex, std::string>> rules = [] {
    std::vector<std::pair<std::regex, std::string>> r;
    auto add = [&](const char* pattern, const char* why) {
      r.emplace_back(std::regex(pattern), why);
    };
    add(R"(^ns3/)", "ns-3 header (simulation belongs in sim/)");
    add(R"(^linux/)", "Linux header (the OS belongs in real-backend/)");
    add(R"(^(sys/socket|sys/epoll|sys/select|sys/un|sys/ioctl|sys/time|netdb|poll|unistd|fcntl|ifaddrs|pthread|time)\.h$)",
        "POSIX system header (I/O and time come through Host)");
    add(R"(^(netinet|arpa|net)/)", "POSIX networking header (the network comes through Host)");
    add(R"(^(thread|future|stop_token|ctime)$)",
        "threads or the C clock (engines are single-threaded; time comes from Host)");
    return r;
  }();
  return rules;
}

const std::vector<std::pair<std::regex, std::string>>& code_rules() {
  static const std::vector<std::pair<std::regex, std::string>> rules = [] {
    std::vector<std::pair<std::regex, std::string>> r;
    auto add = [&](const char* pattern, const char* why) {
      r.emplace_back(std::regex(pattern), why);
    };
    add(R"(\b(system_clock|steady_clock|high_resolution_clock|utc_clock|file_clock)\b)",
        "reads the wall clock (use Host::now())");
    add(R"(\b(gettimeofday|clock_gettime|timespec_get)\b)",
        "reads the wall clock (use Host::now())");
    add(R"((\bstd::|::|^|[^\w.>])time\s*\(\s*(nullptr|NULL|0)?\s*\))",
        "reads the wall clock (use Host::now())");
    add(R"(\brandom_device\b)", "std::random_device (use Host::random())");
    add(R"((^|[^\w.>])s?rand\s*\()", "rand()/srand() (use Host::random())");
    add(R"(\b(getenv|secure_getenv|setenv)\b)",
        "reads the environment (configuration comes from the backend)");
    add(R"(\bstd::(thread|jthread|async)\b)", "starts a thread (engines are single-threaded)");
    add(R"(\bsleep_for\b|\bsleep_until\b|\busleep\b)",
        "sleeps (engines never block; use Host::after())");
    return r;
  }();
  return rules;
}

}  // namespace

std::vector<Violation> scan_source(const std::string& file, const std::string& text) {
  std::vector<Violation> out;
  static const std::regex include_re(R"(^\s*#\s*include\s*[<"]([^>"]+)[>"])");
  std::istringstream with_strings(strip(text, false));
  std::istringstream code_only(strip(text, true));
  std::string line, code;
  int n = 0;
  while (std::getline(with_strings, line) && std::getline(code_only, code)) {
    ++n;
    std::smatch m;
    if (std::regex_search(line, m, include_re)) {
      std::string header = m[1];
      for (const auto& [re, why] : include_rules()) {
        if (std::regex_search(header, re))
          out.push_back({file, n, "#include <" + header + ">: " + why});
      }
      continue;
    }
    for (const auto& [re, why] : code_rules()) {
      if (std::regex_search(code, re)) out.push_back({file, n, why});
    }
  }
  return out;
}

std::vector<Violation> scan_tree(const std::filesystem::path& root) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
    if (!entry.is_regular_file()) continue;
    auto ext = entry.path().extension().string();
    if (ext == ".h" || ext == ".cc" || ext == ".cpp" || ext == ".hpp")
      files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<Violation> out;
  for (const auto& path : files) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream buf;
    buf << in.rdbuf();
    auto found =
        scan_source(std::filesystem::relative(path, root.parent_path()).string(), buf.str());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

}  // namespace loom::testing
