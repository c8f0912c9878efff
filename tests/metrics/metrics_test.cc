// The Prometheus text exposition of metrics::Registry against the format's
// rules (https://prometheus.io/docs/instrumenting/exposition_formats/):
// HELP/TYPE once per family, label and help escaping, cumulative histogram
// buckets ending in +Inf with _sum and _count, value spelling.
#include "metrics/metrics.h"

#include <cmath>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "metrics/process_metrics.h"

namespace mh::metrics {
namespace {

TEST(MetricsFormat, NamesFollowPrometheusRules) {
  EXPECT_TRUE(IsValidMetricName("machine_health_events_received_total"));
  EXPECT_TRUE(IsValidMetricName("job:rate5m"));
  EXPECT_TRUE(IsValidMetricName("_x"));
  EXPECT_FALSE(IsValidMetricName(""));
  EXPECT_FALSE(IsValidMetricName("1abc"));
  EXPECT_FALSE(IsValidMetricName("a-b"));
  EXPECT_FALSE(IsValidMetricName("a b"));
  EXPECT_TRUE(IsValidLabelName("source"));
  EXPECT_FALSE(IsValidLabelName("__name__"));
  EXPECT_FALSE(IsValidLabelName("a:b"));
  EXPECT_FALSE(IsValidLabelName("0a"));
}

TEST(MetricsFormat, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(EscapeLabelValue(R"(a\b"c)"
                             "\n"
                             "d"),
            R"(a\\b\"c\nd)");
  // HELP escapes backslash and newline only; a quote stays.
  EXPECT_EQ(EscapeHelp("say \"x\"\\y\nz"), "say \"x\"\\\\y\\nz");
}

TEST(MetricsFormat, FormatsValuesAsPrometheusReadsThem) {
  EXPECT_EQ(FormatValue(0), "0");
  EXPECT_EQ(FormatValue(42), "42");
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(-2.5e-7), "-2.5e-07");
  EXPECT_EQ(FormatValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatValue(std::nan("")), "NaN");
  // Round trip: the shortest text reads back as the same double.
  const double v = 0.1 + 0.2;
  EXPECT_EQ(std::stod(FormatValue(v)), v);
}

TEST(Registry, ExposesCountersAndGaugesWithHelpTypeAndLabels) {
  Registry r;
  auto& events = r.AddCounter("mh_events_total", "Events taken.", {"source"});
  events.With({"jsonl:/tmp/a"})->Add(3);
  events.With({"mqtt://h/\"t\""})->Add();
  r.AddGauge("mh_depth", "Queue depth.\nIn windows.").With(std::vector<std::string>{})->Set(-1.5);
  EXPECT_EQ(r.Expose(),
            "# HELP mh_depth Queue depth.\\nIn windows.\n"
            "# TYPE mh_depth gauge\n"
            "mh_depth -1.5\n"
            "# HELP mh_events_total Events taken.\n"
            "# TYPE mh_events_total counter\n"
            "mh_events_total{source=\"jsonl:/tmp/a\"} 3\n"
            "mh_events_total{source=\"mqtt://h/\\\"t\\\"\"} 1\n");
}

TEST(Registry, FamilyWithoutChildrenStillShowsHelpAndType) {
  Registry r;
  r.AddCounter("mh_none_total", "Nothing yet.", {"reason"});
  EXPECT_EQ(r.Expose(),
            "# HELP mh_none_total Nothing yet.\n"
            "# TYPE mh_none_total counter\n");
}

TEST(Registry, SameFamilyTwiceIsShared) {
  Registry r;
  r.AddCounter("mh_w_total", "W.", {"sink"}).With({"a"})->Add(2);
  r.AddCounter("mh_w_total", "W.", {"sink"}).With({"a"})->Add(5);
  EXPECT_EQ(r.AddCounter("mh_w_total", "W.", {"sink"}).With({"a"})->value(), 7u);
}

TEST(Registry, HistogramBucketsAreCumulativeAndEndWithInf) {
  Registry r;
  auto* h = r.AddHistogram("mh_latency_seconds", "Latency.", {0.1, 1}, {"source"}).With({"s"});
  for (double v : {0.05, 0.1, 0.5, 1.0, 3.0}) h->Observe(v);
  EXPECT_EQ(r.Expose(),
            "# HELP mh_latency_seconds Latency.\n"
            "# TYPE mh_latency_seconds histogram\n"
            "mh_latency_seconds_bucket{source=\"s\",le=\"0.1\"} 2\n"
            "mh_latency_seconds_bucket{source=\"s\",le=\"1\"} 4\n"
            "mh_latency_seconds_bucket{source=\"s\",le=\"+Inf\"} 5\n"
            "mh_latency_seconds_sum{source=\"s\"} 4.65\n"
            "mh_latency_seconds_count{source=\"s\"} 5\n");
}

TEST(Registry, CollectorSamplesJoinTheirFamily) {
  Registry r;
  r.AddCounter("mh_retries_total", "Retries.", {"sink"}).With({"a"})->Add(1);
  const int id = r.AddCollector([](Collection& c) {
    c.Counter("mh_retries_total", "Retries.", {{"sink", "b"}}, 4);
    c.Gauge("mh_queue_depth", "Depth.", {{"sink", "b"}}, 7);
  });
  EXPECT_EQ(r.Expose(),
            "# HELP mh_queue_depth Depth.\n"
            "# TYPE mh_queue_depth gauge\n"
            "mh_queue_depth{sink=\"b\"} 7\n"
            "# HELP mh_retries_total Retries.\n"
            "# TYPE mh_retries_total counter\n"
            "mh_retries_total{sink=\"a\"} 1\n"
            "mh_retries_total{sink=\"b\"} 4\n");
  r.RemoveCollector(id);
  EXPECT_EQ(r.Expose().find("mh_queue_depth"), std::string::npos);
}

TEST(Registry, CountsFromManyThreadsWithoutLoss) {
  Registry r;
  Counter* c = r.AddCounter("mh_c_total", "C.").With(std::vector<std::string>{});
  Histogram* h = r.AddHistogram("mh_h_seconds", "H.", {0.5}).With(std::vector<std::string>{});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100000; ++i) {
        c->Add();
        h->Observe(i % 2 == 0 ? 0.25 : 1.0);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c->value(), 400000u);
  EXPECT_EQ(h->count(), 400000u);
  EXPECT_EQ(h->bucket_counts()[0], 200000u);
  EXPECT_DOUBLE_EQ(h->sum(), 200000 * 0.25 + 200000 * 1.0);
}

TEST(HistogramTest, BoundIsInclusiveAndNanGoesToInf) {
  Histogram h({1, 2});
  h.Observe(1);
  h.Observe(2);
  h.Observe(2.0000001);
  h.Observe(std::nan(""));
  EXPECT_EQ(h.bucket_counts(), (std::vector<std::uint64_t>{1, 1, 2}));
}

TEST(ProcessMetrics, ReadsThisProcess) {
  auto s = ReadProcessSample();
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_GT(s->resident_bytes, 1024 * 1024);  // a gtest binary holds more than 1 MiB
  EXPECT_GE(s->virtual_bytes, s->resident_bytes);
  EXPECT_GT(s->open_fds, 2);  // stdin, stdout, stderr
  // Started before now and after 2020.
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(s->start_time_seconds, now + 1);
  EXPECT_GT(s->start_time_seconds, 1577836800);
  // CPU time grows with work done.
  volatile double x = 0;
  for (int i = 0; i < 50000000; ++i) x = x + 1e-9 * i;
  auto later = ReadProcessSample();
  ASSERT_TRUE(later.ok());
  EXPECT_GT(later->cpu_seconds, s->cpu_seconds);
}

TEST(ProcessMetrics, CollectorExposesStandardNames) {
  Registry r;
  AddProcessCollector(r);
  const std::string text = r.Expose();
  for (const char* line : {"# TYPE process_cpu_seconds_total counter\n",
                           "# TYPE process_resident_memory_bytes gauge\n",
                           "# TYPE process_start_time_seconds gauge\n", "\nprocess_open_fds "}) {
    EXPECT_NE(text.find(line), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace mh::metrics
