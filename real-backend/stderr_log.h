// StderrLog: the live backend's Log, one line per message on stderr.
//
//   2026-11-26T16:00:00.123Z host1 mesh info: connected to 10.0.0.2:6783
//
// Wall-clock time is fine here (it is for humans reading logs); engines
// never see it. Which lines are written is a LogFilter, usually from LOOM_LOG.
#pragma once

#include <string>

#include "model/log.h"
#include "model/result.h"

namespace loom::live {

class StderrLog final : public loom::Log {
 public:
  // fd: where lines go (stderr by default; tests pass a pipe).
  StderrLog(std::string host, LogFilter filter, int fd = 2);

  bool enabled(std::string_view component, LogLevel level) const override;
  void write(std::string_view component, LogLevel level, std::string_view message) override;

  // The line write() emits, without the trailing newline; unix_ms is the
  // wall-clock time in milliseconds since 1970.
  static std::string format(int64_t unix_ms, std::string_view host, std::string_view component,
                            LogLevel level, std::string_view message);

 private:
  std::string host_;
  LogFilter filter_;
  int fd_;
};

// The filter in environment variable `variable` (LOOM_LOG: "mesh=debug,*=info").
// Unset or empty: the default filter (warn and above). Malformed: an error
// naming the variable.
Result<LogFilter> log_filter_from_env(const char* variable = "LOOM_LOG");

}  // namespace loom::live
