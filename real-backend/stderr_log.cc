#include "real-backend/stderr_log.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <unistd.h>

namespace loom::live {

StderrLog::StderrLog(std::string host, LogFilter filter, int fd)
    : host_(std::move(host)), filter_(std::move(filter)), fd_(fd) {}

bool StderrLog::enabled(std::string_view component, LogLevel level) const {
  return filter_.enabled(component, level);
}

std::string StderrLog::format(int64_t unix_ms, std::string_view host, std::string_view component,
                              LogLevel level, std::string_view message) {
  const time_t secs = static_cast<time_t>(unix_ms / 1000);
  tm utc{};
  gmtime_r(&secs, &utc);
  char stamp[96];  // room for any int the compiler imagines in tm
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return format_log_line(stamp, host, component, level, message);
}

void StderrLog::write(std::string_view component, LogLevel level, std::string_view message) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  const int64_t unix_ms = int64_t{ts.tv_sec} * 1000 + ts.tv_nsec / 1000000;
  std::string line = format(unix_ms, host_, component, level, message);
  line += '\n';
  // One write(2) per line, so lines from several hosts do not interleave.
  std::string_view rest = line;
  while (!rest.empty()) {
    ssize_t n = ::write(fd_, rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report a failing log; drop the line
    rest.remove_prefix(static_cast<size_t>(n));
  }
}

Result<LogFilter> log_filter_from_env(const char* variable) {
  const char* spec = std::getenv(variable);
  if (spec == nullptr || *spec == '\0') return LogFilter();
  std::string error;
  auto filter = LogFilter::parse(spec, &error);
  if (!filter) return make_error(std::string(variable) + ": " + error);
  return *filter;
}

}  // namespace loom::live
