// Metrics: counters, gauges and fixed-bucket histograms, labelled, exposed in
// the Prometheus text format (version 0.0.4) by GET /metrics
// (docs/operations.md#metrics lists every metric machine-health exports).
//
// Two ways to feed a Registry:
//  - Instruments (Counter, Gauge, Histogram) for values counted on the hot
//    path. A family is registered once with its label names; With(values)
//    returns the instrument of one label set, created on first use under a
//    lock and stable for the registry's lifetime. Callers keep the pointer:
//    Add/Set/Observe are then relaxed atomic operations, no lock and no
//    allocation.
//  - Collectors, for values that something else already keeps (a sink's
//    retry counts, a queue's depth, /proc/self): a function called at each
//    scrape that reports samples into a Collection. Counting stays in one
//    place; the collector only reads it.
//
// Names follow Prometheus' rules and conventions: metric names match
// [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* and do not
// start with "__"; counters end in _total, units are base units (_seconds,
// _bytes). Registering an invalid name, or a name again with another type,
// help or label names, is a bug (MH_CHECK); registering the same family
// again returns the existing one, so that several owners (one per sink,
// say) share a family.
//
// Exposition (Registry::Expose): families sorted by name, each with one
// "# HELP" and one "# TYPE" line followed by all its samples (from
// instruments and collectors alike); label values escaped (\\, \", \n), help
// text escaped (\\, \n); histograms as NAME_bucket{...,le="B"} (cumulative,
// ending with le="+Inf"), NAME_sum and NAME_count. Numbers print as the
// shortest text that reads back as the same double; +Inf, -Inf and NaN as
// Prometheus spells them.
//
// Thread safety: everything may be called from any thread. Collectors run on
// the scraping thread, under the registry's collector lock: a collector must
// not call back into the registry, and RemoveCollector waits until a
// running scrape is done with it.
#ifndef MH_METRICS_METRICS_H_
#define MH_METRICS_METRICS_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mh::metrics {

enum class MetricType { kCounter, kGauge, kHistogram };

// A monotonically increasing count (events, windows, retries).
class Counter {
 public:
  void Add(std::uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  std::uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

// A value that goes up and down (queue depth, windows per state).
class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double d) { value_.fetch_add(d, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Observations counted into fixed buckets: bucket i counts values <=
// bounds[i] (and > bounds[i-1]); one more bucket counts the rest (+Inf).
// Observe is a binary search plus three relaxed atomic updates.
class Histogram {
 public:
  // `bounds`: finite, strictly increasing upper bounds (MH_CHECK).
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  // Per bucket (bounds().size() + 1 of them, the last is +Inf), not
  // cumulative.
  std::vector<std::uint64_t> bucket_counts() const;
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> buckets_;
  std::atomic<std::uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Bucket bounds for latencies in seconds: 100 µs to 10 s, about three per
// decade (0.0001, 0.00025, 0.0005, 0.001, ... 5, 10).
std::vector<double> LatencyBuckets();

// One metric family of instruments T with fixed label names.
template <typename T>
class Family {
 public:
  // The instrument of these label values (as many as label names, in their
  // order; MH_CHECK). Created on first use; the pointer stays valid while the
  // registry lives.
  T* With(std::initializer_list<std::string_view> values);
  T* With(const std::vector<std::string>& values);

 private:
  friend class Registry;
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::vector<double> bounds)
      : name_(std::move(name)),
        help_(std::move(help)),
        label_names_(std::move(label_names)),
        bounds_(std::move(bounds)) {}

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;  // histograms only
  mutable std::mutex mu_;       // guards children_ (the map, not the instruments)
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_;
};

using Labels = std::vector<std::pair<std::string, std::string>>;

// What collectors report at a scrape. Samples of the same family name
// (from any collector or instrument) are exposed together; the first help
// text and type reported for a name are the ones shown.
class Collection {
 public:
  void Counter(std::string_view name, std::string_view help, Labels labels, double value);
  void Gauge(std::string_view name, std::string_view help, Labels labels, double value);

 private:
  friend class Registry;
  struct Sample {
    std::string suffix;  // "", "_bucket", "_sum", "_count"
    Labels labels;
    double value;
  };
  struct FamilyText {
    std::string help;
    MetricType type;
    std::vector<Sample> samples;
  };
  void Add(std::string_view name, std::string_view help, MetricType type, std::string suffix,
           Labels labels, double value);
  std::map<std::string, FamilyText, std::less<>> families_;
};

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Family<metrics::Counter>& AddCounter(std::string_view name, std::string_view help,
                                       std::vector<std::string> label_names = {});
  Family<metrics::Gauge>& AddGauge(std::string_view name, std::string_view help,
                                   std::vector<std::string> label_names = {});
  // `bounds` as for Histogram (MH_CHECK).
  Family<metrics::Histogram>& AddHistogram(std::string_view name, std::string_view help,
                                           std::vector<double> bounds,
                                           std::vector<std::string> label_names = {});

  // Adds a collector called at every Expose; returns its id for
  // RemoveCollector. The collector's owner removes it before the things
  // it reads go away.
  int AddCollector(std::function<void(Collection&)> collect);
  void RemoveCollector(int id);

  // The Prometheus text exposition of every family (see the top of this
  // file). Content type: kContentType.
  std::string Expose() const;

 private:
  template <typename T>
  Family<T>& Add(std::map<std::string, std::unique_ptr<Family<T>>, std::less<>>& families,
                 MetricType type, std::string_view name, std::string_view help,
                 std::vector<std::string> label_names, std::vector<double> bounds);
  void CheckNewName(std::string_view name, MetricType type) const;

  mutable std::mutex mu_;  // guards the family maps and types_
  std::map<std::string, std::unique_ptr<Family<metrics::Counter>>, std::less<>> counters_;
  std::map<std::string, std::unique_ptr<Family<metrics::Gauge>>, std::less<>> gauges_;
  std::map<std::string, std::unique_ptr<Family<metrics::Histogram>>, std::less<>> histograms_;
  std::map<std::string, MetricType, std::less<>> types_;
  mutable std::mutex collectors_mu_;  // guards collectors_, held while they run
  std::map<int, std::function<void(Collection&)>> collectors_;
  int next_collector_ = 1;
};

// The Content-Type of Registry::Expose's text.
inline constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

// Helpers of the format, public for tests and for other writers of it.
// True for a valid metric name / label name (rules above).
bool IsValidMetricName(std::string_view name);
bool IsValidLabelName(std::string_view name);
// A label value escaped for the text format (\ -> \\, " -> \", newline -> \n).
std::string EscapeLabelValue(std::string_view value);
// A HELP text escaped (\ -> \\, newline -> \n).
std::string EscapeHelp(std::string_view help);
// A sample value: shortest round-trip decimal, "+Inf", "-Inf", "NaN".
std::string FormatValue(double v);

// ---- implementation of the templates ----

template <typename T>
T* Family<T>::With(std::initializer_list<std::string_view> values) {
  std::vector<std::string> key;
  key.reserve(values.size());
  for (std::string_view v : values) key.emplace_back(v);
  return With(key);
}

}  // namespace mh::metrics

#endif  // MH_METRICS_METRICS_H_
