#include "model/log.h"

namespace loom {

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::error:
      return "error";
    case LogLevel::warn:
      return "warn";
    case LogLevel::info:
      return "info";
    case LogLevel::debug:
      return "debug";
  }
  return "?";
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (LogLevel l : {LogLevel::error, LogLevel::warn, LogLevel::info, LogLevel::debug}) {
    if (text == to_string(l)) return l;
  }
  return std::nullopt;
}

std::optional<LogFilter> LogFilter::parse(std::string_view spec, std::string* error) {
  LogFilter filter;
  while (!spec.empty()) {
    size_t comma = spec.find(',');
    std::string_view item = spec.substr(0, comma);
    spec = comma == std::string_view::npos ? std::string_view{} : spec.substr(comma + 1);
    if (item.empty()) continue;
    std::string_view component = item;
    LogLevel level = LogLevel::debug;
    if (size_t eq = item.find('='); eq != std::string_view::npos) {
      component = item.substr(0, eq);
      auto parsed = parse_log_level(item.substr(eq + 1));
      if (!parsed || component.empty()) {
        if (error) {
          *error = "bad log setting '" + std::string(item) +
                   "': expected COMPONENT=LEVEL with LEVEL one of error, warn, info, debug";
        }
        return std::nullopt;
      }
      level = *parsed;
    }
    if (component == "*") {
      filter.default_ = level;
    } else {
      filter.levels_[std::string(component)] = level;
    }
  }
  return filter;
}

std::string format_log_line(std::string_view stamp, std::string_view host,
                            std::string_view component, LogLevel level, std::string_view message) {
  std::string line;
  line.reserve(stamp.size() + host.size() + component.size() + message.size() + 12);
  line += stamp;
  line += ' ';
  line += host;
  line += ' ';
  line += component;
  line += ' ';
  line += to_string(level);
  line += ": ";
  line += message;
  return line;
}

bool LogFilter::enabled(std::string_view component, LogLevel level) const {
  auto it = levels_.find(component);
  LogLevel limit = it == levels_.end() ? default_ : it->second;
  return level <= limit;
}

}  // namespace loom
