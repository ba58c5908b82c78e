// metrics::Registry: counters, gauges and histograms with labels, rendered
// in Prometheus' text exposition format (version 0.0.4). Thread-safe: the
// intake adds from worker threads while /metrics renders. No I/O and no
// knowledge of what is measured; the collector and the intake timer fill
// it. Label values are escaped here (backslash, quote, newline).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tlpmail::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

enum class Type { counter, gauge, histogram };

class Registry {
 public:
  // Declares a metric family; later calls with the same name are ignored.
  // `buckets`: histogram upper bounds, ascending (+Inf is added).
  void declare(std::string name, Type type, std::string help, std::vector<double> buckets = {});

  // Counter: adds `delta` (>= 0) to the series. REQUIRES: declared counter.
  void add(std::string_view name, const Labels& labels, double delta = 1);
  // Gauge: sets the series. REQUIRES: declared gauge.
  void set(std::string_view name, const Labels& labels, double value);
  // Gauge family: drops every series (before setting the current ones, so
  // that a list that is gone disappears).
  void clear(std::string_view name);
  // Histogram: counts one observation. REQUIRES: declared histogram.
  void observe(std::string_view name, const Labels& labels, double value);

  // The text exposition of every family, in declaration order; series in
  // label order. A declared family without series shows only HELP/TYPE.
  std::string render() const;

 private:
  struct Series {
    double value = 0;                   // counter, gauge
    std::vector<std::uint64_t> counts;  // histogram: per bucket (not cumulative) + the +Inf one
    double sum = 0;
    std::uint64_t count = 0;
  };
  struct Family {
    std::string name;
    Type type = Type::gauge;
    std::string help;
    std::vector<double> buckets;
    std::map<Labels, Series> series;
  };
  Family* find(std::string_view name);

  mutable std::mutex mu_;
  std::vector<Family> families_;
};

// "a=\"x\",b=\"y\"" with Prometheus' escapes; used by render().
std::string format_labels(const Labels& labels);
// A sample value as Prometheus writes it: integers without a fraction,
// "+Inf", "-Inf", "NaN".
std::string format_value(double v);

}  // namespace tlpmail::metrics
