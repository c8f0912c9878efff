#include "metrics/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/check.h"

namespace mh::metrics {
namespace {

bool NameChar(char c, bool first, bool colon) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_') return true;
  if (colon && c == ':') return true;
  return !first && c >= '0' && c <= '9';
}

const char* TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void CheckBounds(const std::vector<double>& bounds) {
  MH_CHECK(!bounds.empty());
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    MH_CHECK(std::isfinite(bounds[i]));
    MH_CHECK(i == 0 || bounds[i] > bounds[i - 1]);
  }
}

template <typename T>
std::unique_ptr<T> MakeInstrument(const std::vector<double>& bounds) {
  if constexpr (std::is_same_v<T, Histogram>) {
    return std::make_unique<Histogram>(bounds);
  } else {
    (void)bounds;
    return std::make_unique<T>();
  }
}

Labels Zip(const std::vector<std::string>& names, const std::vector<std::string>& values) {
  Labels labels;
  labels.reserve(names.size());
  for (std::size_t i = 0; i < names.size(); ++i) labels.emplace_back(names[i], values[i]);
  return labels;
}

void AppendSample(const std::string& name, const std::string& suffix, const Labels& labels,
                  double value, std::string* out) {
  *out += name;
  *out += suffix;
  if (!labels.empty()) {
    *out += '{';
    for (std::size_t i = 0; i < labels.size(); ++i) {
      if (i > 0) *out += ',';
      *out += labels[i].first;
      *out += "=\"";
      *out += EscapeLabelValue(labels[i].second);
      *out += '"';
    }
    *out += '}';
  }
  *out += ' ';
  *out += FormatValue(value);
  *out += '\n';
}

}  // namespace

bool IsValidMetricName(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!NameChar(name[i], i == 0, /*colon=*/true)) return false;
  }
  return true;
}

bool IsValidLabelName(std::string_view name) {
  if (name.empty() || name.substr(0, 2) == "__") return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (!NameChar(name[i], i == 0, /*colon=*/false)) return false;
  }
  return true;
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  (void)ec;  // 32 characters hold any double's shortest form
  return std::string(buf, end);
}

std::vector<double> LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  CheckBounds(bounds_);
  buckets_ = std::make_unique<std::atomic<std::uint64_t>[]>(bounds_.size() + 1);
  for (std::size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double v) {
  // The first bound >= v: "le" is inclusive. NaN goes to +Inf.
  const std::size_t i =
      std::isnan(v) ? bounds_.size()
                    : static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), v) -
                                               bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::bucket_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = buckets_[i].load(std::memory_order_relaxed);
  }
  return out;
}

template <typename T>
T* Family<T>::With(const std::vector<std::string>& values) {
  MH_CHECK(values.size() == label_names_.size());
  std::lock_guard lock(mu_);
  auto it = children_.find(values);
  if (it == children_.end()) it = children_.emplace(values, MakeInstrument<T>(bounds_)).first;
  return it->second.get();
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

void Collection::Add(std::string_view name, std::string_view help, MetricType type,
                     std::string suffix, Labels labels, double value) {
  MH_CHECK(IsValidMetricName(name));
  for (const auto& l : labels) MH_CHECK(IsValidLabelName(l.first));
  auto it = families_.find(name);
  if (it == families_.end()) {
    it = families_.emplace(std::string(name), FamilyText{std::string(help), type, {}}).first;
  }
  it->second.samples.push_back({std::move(suffix), std::move(labels), value});
}

void Collection::Counter(std::string_view name, std::string_view help, Labels labels,
                         double value) {
  Add(name, help, MetricType::kCounter, "", std::move(labels), value);
}

void Collection::Gauge(std::string_view name, std::string_view help, Labels labels, double value) {
  Add(name, help, MetricType::kGauge, "", std::move(labels), value);
}

void Registry::CheckNewName(std::string_view name, MetricType type) const {
  MH_CHECK(IsValidMetricName(name));
  auto it = types_.find(name);
  MH_CHECK(it == types_.end() || it->second == type);
}

template <typename T>
Family<T>& Registry::Add(std::map<std::string, std::unique_ptr<Family<T>>, std::less<>>& families,
                         MetricType type, std::string_view name, std::string_view help,
                         std::vector<std::string> label_names, std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  CheckNewName(name, type);
  for (const std::string& l : label_names) {
    MH_CHECK(IsValidLabelName(l));
    MH_CHECK(type != MetricType::kHistogram || l != "le");
  }
  auto it = families.find(name);
  if (it != families.end()) {
    Family<T>& f = *it->second;
    MH_CHECK(f.help_ == help && f.label_names_ == label_names && f.bounds_ == bounds);
    return f;
  }
  types_.emplace(std::string(name), type);
  auto family = std::unique_ptr<Family<T>>(new Family<T>(
      std::string(name), std::string(help), std::move(label_names), std::move(bounds)));
  return *families.emplace(std::string(name), std::move(family)).first->second;
}

Family<Counter>& Registry::AddCounter(std::string_view name, std::string_view help,
                                      std::vector<std::string> label_names) {
  return Add(counters_, MetricType::kCounter, name, help, std::move(label_names), {});
}

Family<Gauge>& Registry::AddGauge(std::string_view name, std::string_view help,
                                  std::vector<std::string> label_names) {
  return Add(gauges_, MetricType::kGauge, name, help, std::move(label_names), {});
}

Family<Histogram>& Registry::AddHistogram(std::string_view name, std::string_view help,
                                          std::vector<double> bounds,
                                          std::vector<std::string> label_names) {
  CheckBounds(bounds);
  return Add(histograms_, MetricType::kHistogram, name, help, std::move(label_names),
             std::move(bounds));
}

int Registry::AddCollector(std::function<void(Collection&)> collect) {
  std::lock_guard lock(collectors_mu_);
  const int id = next_collector_++;
  collectors_.emplace(id, std::move(collect));
  return id;
}

void Registry::RemoveCollector(int id) {
  std::lock_guard lock(collectors_mu_);
  collectors_.erase(id);
}

std::string Registry::Expose() const {
  Collection c;
  {
    std::lock_guard lock(mu_);
    for (const auto& [name, f] : counters_) {
      std::lock_guard child_lock(f->mu_);
      c.families_.emplace(name, Collection::FamilyText{f->help_, MetricType::kCounter, {}});
      for (const auto& [values, counter] : f->children_) {
        c.Add(name, f->help_, MetricType::kCounter, "", Zip(f->label_names_, values),
              static_cast<double>(counter->value()));
      }
    }
    for (const auto& [name, f] : gauges_) {
      std::lock_guard child_lock(f->mu_);
      c.families_.emplace(name, Collection::FamilyText{f->help_, MetricType::kGauge, {}});
      for (const auto& [values, gauge] : f->children_) {
        c.Add(name, f->help_, MetricType::kGauge, "", Zip(f->label_names_, values), gauge->value());
      }
    }
    for (const auto& [name, f] : histograms_) {
      std::lock_guard child_lock(f->mu_);
      c.families_.emplace(name, Collection::FamilyText{f->help_, MetricType::kHistogram, {}});
      for (const auto& [values, h] : f->children_) {
        const Labels labels = Zip(f->label_names_, values);
        // Read the buckets first and derive the count from them, so that
        // the +Inf bucket always equals _count within one scrape.
        const std::vector<std::uint64_t> buckets = h->bucket_counts();
        const double sum = h->sum();
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < buckets.size(); ++i) {
          cumulative += buckets[i];
          Labels with_le = labels;
          with_le.emplace_back("le", i < h->bounds().size() ? FormatValue(h->bounds()[i]) : "+Inf");
          c.Add(name, f->help_, MetricType::kHistogram, "_bucket", std::move(with_le),
                static_cast<double>(cumulative));
        }
        c.Add(name, f->help_, MetricType::kHistogram, "_sum", labels, sum);
        c.Add(name, f->help_, MetricType::kHistogram, "_count", labels,
              static_cast<double>(cumulative));
      }
    }
  }
  {
    std::lock_guard lock(collectors_mu_);
    for (const auto& [id, collect] : collectors_) collect(c);
  }
  std::string out;
  for (const auto& [name, f] : c.families_) {
    out += "# HELP " + name + " " + EscapeHelp(f.help) + "\n";
    out += "# TYPE " + name + " " + TypeName(f.type) + "\n";
    for (const Collection::Sample& s : f.samples) {
      AppendSample(name, s.suffix, s.labels, s.value, &out);
    }
  }
  return out;
}

}  // namespace mh::metrics
