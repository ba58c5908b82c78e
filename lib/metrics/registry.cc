// The registry's series maps and the text format (the exposition format of
// Prometheus, https://prometheus.io/docs/instrumenting/exposition_formats/).
#include "metrics/registry.h"

#include <charconv>
#include <cmath>

namespace tlpmail::metrics {

std::string format_labels(const Labels& labels) {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (!out.empty()) out.push_back(',');
    out += k;
    out += "=\"";
    for (char c : v) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '"') {
        out += "\\\"";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out.push_back(c);
      }
    }
    out.push_back('"');
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<long long>(v));
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest exact form
  return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
}

void Registry::declare(std::string name, Type type, std::string help, std::vector<double> buckets) {
  std::lock_guard lock(mu_);
  for (const auto& f : families_) {
    if (f.name == name) return;
  }
  families_.push_back(Family{std::move(name), type, std::move(help), std::move(buckets), {}});
}

Registry::Family* Registry::find(std::string_view name) {
  for (auto& f : families_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

void Registry::add(std::string_view name, const Labels& labels, double delta) {
  std::lock_guard lock(mu_);
  Family* f = find(name);
  if (f == nullptr || f->type != Type::counter || !(delta >= 0)) return;
  f->series[labels].value += delta;
}

void Registry::set(std::string_view name, const Labels& labels, double value) {
  std::lock_guard lock(mu_);
  Family* f = find(name);
  if (f == nullptr || f->type != Type::gauge) return;
  f->series[labels].value = value;
}

void Registry::clear(std::string_view name) {
  std::lock_guard lock(mu_);
  if (Family* f = find(name)) f->series.clear();
}

void Registry::observe(std::string_view name, const Labels& labels, double value) {
  std::lock_guard lock(mu_);
  Family* f = find(name);
  if (f == nullptr || f->type != Type::histogram) return;
  Series& s = f->series[labels];
  if (s.counts.empty()) s.counts.assign(f->buckets.size() + 1, 0);
  std::size_t i = 0;
  while (i < f->buckets.size() && value > f->buckets[i]) ++i;
  ++s.counts[i];
  s.sum += value;
  ++s.count;
}

std::string Registry::render() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& f : families_) {
    out += "# HELP " + f.name + " " + f.help + "\n";
    out += "# TYPE " + f.name + " " +
           (f.type == Type::counter ? "counter"
            : f.type == Type::gauge ? "gauge"
                                    : "histogram") +
           "\n";
    for (const auto& [labels, s] : f.series) {
      const std::string l = format_labels(labels);
      if (f.type != Type::histogram) {
        out += f.name + (l.empty() ? "" : "{" + l + "}") + " " + format_value(s.value) + "\n";
        continue;
      }
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i <= f.buckets.size(); ++i) {
        cumulative += s.counts[i];
        Labels with = labels;
        with.emplace_back("le", i < f.buckets.size() ? format_value(f.buckets[i]) : "+Inf");
        out += f.name + "_bucket{" + format_labels(with) + "} " + std::to_string(cumulative) + "\n";
      }
      const std::string braces = l.empty() ? "" : "{" + l + "}";
      out += f.name + "_sum" + braces + " " + format_value(s.sum) + "\n";
      out += f.name + "_count" + braces + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
}

}  // namespace tlpmail::metrics
