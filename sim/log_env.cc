// LOOM_LOG: the environment's say over which host log lines are written.
#include <cstdlib>
#include <string>

#include "sim/world.h"

namespace loom::sim {

Result<LogFilter> log_filter_from_env() {
  const char* spec = std::getenv("LOOM_LOG");
  if (spec == nullptr) return LogFilter{};
  std::string error;
  auto filter = LogFilter::parse(spec, &error);
  if (!filter) return make_error("LOOM_LOG: " + error);
  return *filter;
}

}  // namespace loom::sim
