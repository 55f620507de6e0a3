#include "model/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <tuple>

namespace loom {

namespace {

Labels sorted(Labels labels) {
  std::sort(labels.begin(), labels.end());
  return labels;
}

std::string escape_label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  return buf;
}

}  // namespace

Counter& Metrics::counter(std::string_view name, Labels labels) {
  return counters_[Key{std::string(name), sorted(std::move(labels))}];
}

Gauge& Metrics::gauge(std::string_view name, Labels labels) {
  return gauges_[Key{std::string(name), sorted(std::move(labels))}];
}

std::vector<Metrics::Sample> Metrics::snapshot() const {
  std::vector<Sample> out;
  out.reserve(counters_.size() + gauges_.size());
  for (const auto& [key, c] : counters_) {
    out.push_back({key.first, key.second, Kind::counter, static_cast<double>(c.value())});
  }
  for (const auto& [key, g] : gauges_) {
    out.push_back({key.first, key.second, Kind::gauge, g.value()});
  }
  std::sort(out.begin(), out.end(), [](const Sample& a, const Sample& b) {
    return std::tie(a.name, a.labels) < std::tie(b.name, b.labels);
  });
  return out;
}

double Metrics::value(std::string_view name, const Labels& labels) const {
  Key key{std::string(name), sorted(labels)};
  if (auto it = counters_.find(key); it != counters_.end()) {
    return static_cast<double>(it->second.value());
  }
  if (auto it = gauges_.find(key); it != gauges_.end()) return it->second.value();
  return 0;
}

std::string Metrics::prometheus() const {
  std::string out;
  std::string last_name;
  for (const Sample& s : snapshot()) {
    if (s.name != last_name) {
      out += "# TYPE " + s.name + (s.kind == Kind::counter ? " counter\n" : " gauge\n");
      last_name = s.name;
    }
    out += s.name;
    if (!s.labels.empty()) {
      out += '{';
      for (size_t i = 0; i < s.labels.size(); ++i) {
        if (i) out += ',';
        out += s.labels[i].first + "=\"" + escape_label(s.labels[i].second) + '"';
      }
      out += '}';
    }
    out += ' ' + format_value(s.value) + '\n';
  }
  return out;
}

}  // namespace loom
