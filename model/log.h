// Log: per-component logging switched on at run time, as ns-3's NS_LOG.
//
// The backend owns where lines go (stderr live, a per-host prefix in ns-3)
// and which are enabled: a LogFilter built from a spec such as
// "mesh=debug,ipam=info,*=warn" (the LOOM_LOG environment variable or a
// --log flag; the backend reads it, model/ never touches the environment).
// Valid C++17 (included by host.h).
#pragma once

#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>

namespace loom {

enum class LogLevel { error = 0, warn = 1, info = 2, debug = 3 };

std::string_view to_string(LogLevel level);
std::optional<LogLevel> parse_log_level(std::string_view text);

// Which (component, level) pairs are enabled. Default: warn and above.
class LogFilter {
 public:
  LogFilter() = default;
  explicit LogFilter(LogLevel default_level) : default_(default_level) {}
  // "mesh=debug,ipam,*=warn": a bare component means debug; "*" sets the
  // default. Returns nullopt (and leaves *error set) on a malformed spec.
  static std::optional<LogFilter> parse(std::string_view spec, std::string* error = nullptr);

  bool enabled(std::string_view component, LogLevel level) const;
  void set(std::string component, LogLevel level) { levels_[std::move(component)] = level; }
  void set_default(LogLevel level) { default_ = level; }

 private:
  LogLevel default_ = LogLevel::warn;
  std::map<std::string, LogLevel, std::less<>> levels_;
};

// "<stamp> <host> <component> <level>: <message>": the one line layout of
// every backend, so that live and simulated logs read (and grep) alike.
std::string format_log_line(std::string_view stamp, std::string_view host,
                            std::string_view component, LogLevel level, std::string_view message);

class Log {
 public:
  virtual ~Log() = default;
  virtual bool enabled(std::string_view component, LogLevel level) const = 0;
  // One line, without trailing newline. Callers check enabled() first when
  // building the message costs anything (the LOOM_LOG_* macros do).
  virtual void write(std::string_view component, LogLevel level, std::string_view message) = 0;
};

// Log that drops everything; handy in tests and benchmarks.
class NullLog final : public Log {
 public:
  bool enabled(std::string_view, LogLevel) const override { return false; }
  void write(std::string_view, LogLevel, std::string_view) override {}
};

}  // namespace loom

// LOOM_LOG(log, "mesh", info, "connected to " << peer);
#define LOOM_LOG(log, component, level, stream_expr)                         \
  do {                                                                       \
    ::loom::Log& loom_log_ = (log);                                          \
    if (loom_log_.enabled((component), ::loom::LogLevel::level)) {           \
      std::ostringstream loom_os_;                                           \
      loom_os_ << stream_expr;                                               \
      loom_log_.write((component), ::loom::LogLevel::level, loom_os_.str()); \
    }                                                                        \
  } while (0)
