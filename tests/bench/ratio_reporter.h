// A Google Benchmark console reporter that ends the run with ratios: each
// measurement over its reference, both taken in this same run, so the
// machine cancels out (the project's rule: speed is reported as ratios,
// never as timed pass/fail).
#pragma once

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <unistd.h>

namespace loom::bench {

class RatioReporter : public benchmark::ConsoleReporter {
 public:
  struct Ratio {
    std::string ours;
    std::string reference;
  };

  // `title` heads the table ("Ratios of CPU time per 1450-byte frame").
  RatioReporter(std::string title, std::vector<Ratio> ratios)
      // Colour only on a terminal: the library's --benchmark_color does not
      // reach a reporter passed in from main().
      : ConsoleReporter(isatty(fileno(stdout)) != 0 ? OO_ColorTabular : OO_Tabular),
        title_(std::move(title)),
        ratios_(std::move(ratios)) {}

  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.error_occurred) continue;
      const std::string name = run.run_name.str();
      if (run.run_type == Run::RT_Aggregate) {
        if (run.aggregate_name == "mean") means_[name] = run.GetAdjustedCPUTime();
      } else {
        last_[name] = run.GetAdjustedCPUTime();
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void Finalize() override {
    ConsoleReporter::Finalize();
    size_t ours_width = 0;
    size_t reference_width = 0;
    for (const Ratio& r : ratios_) {
      ours_width = std::max(ours_width, r.ours.size());
      reference_width = std::max(reference_width, r.reference.size());
    }
    std::string table;
    for (const Ratio& r : ratios_) {
      const double a = time_of(r.ours);
      const double b = time_of(r.reference);
      if (a <= 0 || b <= 0) continue;  // filtered out of this run
      char line[64];
      std::snprintf(line, sizeof line, " %7.2fx\n", a / b);
      table += "  " + r.ours + std::string(ours_width - r.ours.size(), ' ') + " / " + r.reference +
               std::string(reference_width - r.reference.size(), ' ') + line;
    }
    if (table.empty()) return;
    GetOutputStream() << "\n" << title_ << ", this run (the machine cancels out):\n" << table;
  }

 private:
  // The mean over repetitions when there were any, else the single run.
  double time_of(const std::string& name) const {
    if (auto it = means_.find(name); it != means_.end()) return it->second;
    if (auto it = last_.find(name); it != last_.end()) return it->second;
    return 0;
  }

  std::string title_;
  std::vector<Ratio> ratios_;
  std::map<std::string, double> means_;
  std::map<std::string, double> last_;
};

// main() for a benchmark program with a ratio table.
inline int run_with_ratios(int argc, char** argv, std::string title,
                           std::vector<RatioReporter::Ratio> ratios) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  RatioReporter reporter(std::move(title), std::move(ratios));
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  return 0;
}

}  // namespace loom::bench
