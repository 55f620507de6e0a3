// Metrics: counters and gauges named as Weave's Prometheus metrics are
// (weave_connections, weave_ips, ...), with optional labels.
//
// A concrete registry rather than an interface: engines own the numbers, the
// backends only read them (the live agent renders Prometheus text, the
// simulator samples time series). References returned are stable for the
// registry's lifetime, so a hot path looks a metric up once and keeps it.
// Valid C++17 (included by host.h).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loom {

// Label pairs, e.g. {{"state", "established"}}. Kept sorted by name.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void add(uint64_t n = 1) { value_ += n; }
  uint64_t value() const { return value_; }

 private:
  uint64_t value_ = 0;
};

class Gauge {
 public:
  void set(double v) { value_ = v; }
  void add(double d) { value_ += d; }
  double value() const { return source_ ? source_() : value_; }
  // Computes the value when it is read instead: for an owner whose number
  // changes often, costs a walk to count and is read rarely (a scrape, a
  // sample). The owner releases it before it goes away, which keeps the
  // last value; a release by an owner since replaced does nothing.
  void set_source(const void* owner, std::function<double()> source) {
    owner_ = owner;
    source_ = std::move(source);
  }
  void release_source(const void* owner) {
    if (owner != owner_ || !source_) return;
    value_ = source_();
    source_ = nullptr;
    owner_ = nullptr;
  }

 private:
  double value_ = 0;
  const void* owner_ = nullptr;
  std::function<double()> source_;
};

class Metrics {
 public:
  enum class Kind { counter, gauge };
  struct Sample {
    std::string name;
    Labels labels;
    Kind kind;
    double value;
  };

  Counter& counter(std::string_view name, Labels labels = {});
  Gauge& gauge(std::string_view name, Labels labels = {});

  // Every metric, sorted by name then labels: deterministic output.
  std::vector<Sample> snapshot() const;
  // Value of one metric, 0 when it does not exist.
  double value(std::string_view name, const Labels& labels = {}) const;
  // Prometheus text exposition format (version 0.0.4).
  std::string prometheus() const;

 private:
  using Key = std::pair<std::string, Labels>;
  std::map<Key, Counter> counters_;
  std::map<Key, Gauge> gauges_;
};

}  // namespace loom
