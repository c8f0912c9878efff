#include "report/figures.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

#include "core/strings.h"

namespace mh::report {

Series DownsampleMinMax(const Series& s, std::size_t columns) {
  const std::size_t n = std::min(s.x.size(), s.y.size());
  if (columns == 0) columns = 1;
  if (n <= 2 * columns) return s;
  Series out;
  out.name = s.name;
  const double lo = s.x.front(), hi = s.x.back();
  const double width = hi > lo ? (hi - lo) / static_cast<double>(columns) : 1.0;
  auto keep = [&](std::size_t i) {
    if (!out.x.empty() && out.x.back() == s.x[i] && out.y.back() == s.y[i]) return;
    out.x.push_back(s.x[i]);
    out.y.push_back(s.y[i]);
  };
  std::size_t i = 0;
  bool first = true;
  while (i < n) {
    const std::size_t column =
        std::min(columns - 1, static_cast<std::size_t>(std::max(0.0, (s.x[i] - lo) / width)));
    std::size_t lo_i = n, hi_i = n, j = i;
    for (; j < n; ++j) {
      const std::size_t c =
          std::min(columns - 1, static_cast<std::size_t>(std::max(0.0, (s.x[j] - lo) / width)));
      if (c != column) break;
      if (std::isnan(s.y[j])) continue;
      if (lo_i == n || s.y[j] < s.y[lo_i]) lo_i = j;
      if (hi_i == n || s.y[j] > s.y[hi_i]) hi_i = j;
    }
    if (first && !std::isnan(s.y[i])) keep(i);
    first = false;
    if (lo_i != n) {
      keep(std::min(lo_i, hi_i));
      keep(std::max(lo_i, hi_i));
    }
    i = j;
  }
  if (!std::isnan(s.y[n - 1])) keep(n - 1);
  return out;
}

std::vector<Span> SpansFromFlags(const std::vector<double>& x, const std::vector<bool>& flags,
                                 double min_gap) {
  std::vector<Span> spans;
  const std::size_t n = std::min(x.size(), flags.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (!flags[i]) continue;
    std::size_t j = i;
    while (j + 1 < n && flags[j + 1]) ++j;
    if (!spans.empty() && x[i] - spans.back().to <= min_gap) {
      spans.back().to = x[j];
    } else {
      spans.push_back(Span{x[i], x[j]});
    }
    i = j;
  }
  return spans;
}

Figure LineFigure(std::string id, std::string title, std::string x_label, std::string y_label,
                  std::vector<Series> series, std::optional<double> threshold,
                  std::vector<Span> spans, bool x_time) {
  Figure f;
  f.id = std::move(id);
  f.title = std::move(title);
  f.kind = FigureKind::kLine;
  f.x_label = std::move(x_label);
  f.y_label = std::move(y_label);
  f.x_time = x_time;
  for (const Series& s : series) {
    f.points_in += s.x.size();
    f.series.push_back(DownsampleMinMax(s));
  }
  f.threshold = threshold;
  f.spans = std::move(spans);
  return f;
}

Figure HistogramFigure(std::string id, std::string title, std::string x_label,
                       const std::vector<NamedValues>& sets, std::optional<double> threshold,
                       std::size_t bins) {
  Figure f;
  f.id = std::move(id);
  f.title = std::move(title);
  f.kind = FigureKind::kHistogram;
  f.x_label = std::move(x_label);
  f.y_label = "windows";
  f.threshold = threshold;
  if (bins == 0) bins = 1;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const NamedValues& s : sets) {
    for (double v : s.values) {
      if (!std::isfinite(v)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (threshold && std::isfinite(*threshold)) {
    lo = std::min(lo, *threshold);
    hi = std::max(hi, *threshold);
  }
  if (!(lo <= hi)) lo = 0, hi = 1;
  if (hi == lo) lo -= 0.5, hi += 0.5;
  const double width = (hi - lo) / static_cast<double>(bins);
  for (std::size_t b = 0; b <= bins; ++b) {
    f.edges.push_back(b == bins ? hi : lo + width * static_cast<double>(b));
  }
  for (const NamedValues& s : sets) {
    HistogramSeries h;
    h.name = s.name;
    h.counts.assign(bins, 0);
    for (double v : s.values) {
      if (!std::isfinite(v)) continue;
      const std::size_t b =
          std::min(bins - 1, static_cast<std::size_t>(std::max(0.0, (v - lo) / width)));
      ++h.counts[b];
    }
    f.bins.push_back(std::move(h));
  }
  return f;
}

namespace {

// Cumulative true and false positives at each distinct score, descending.
struct Ranked {
  std::vector<double> tps, fps;
};

Ranked Rank(const std::vector<double>& scores, const std::vector<bool>& positive) {
  const std::size_t n = std::min(scores.size(), positive.size());
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
  Ranked r;
  double tp = 0, fp = 0;
  for (std::size_t k = 0; k < n; ++k) {
    (positive[order[k]] ? tp : fp) += 1;
    if (k + 1 == n || scores[order[k + 1]] != scores[order[k]]) {
      r.tps.push_back(tp);
      r.fps.push_back(fp);
    }
  }
  return r;
}

}  // namespace

std::optional<Curve> RocCurve(const std::vector<double>& scores,
                              const std::vector<bool>& positive) {
  const Ranked r = Rank(scores, positive);
  if (r.tps.empty() || r.tps.back() == 0 || r.fps.back() == 0) return std::nullopt;
  Curve c;
  c.x.push_back(0);
  c.y.push_back(0);
  for (std::size_t k = 0; k < r.tps.size(); ++k) {
    c.x.push_back(r.fps[k] / r.fps.back());
    c.y.push_back(r.tps[k] / r.tps.back());
  }
  for (std::size_t k = 1; k < c.x.size(); ++k) {
    c.area += (c.x[k] - c.x[k - 1]) * (c.y[k] + c.y[k - 1]) / 2;
  }
  return c;
}

std::optional<Curve> PrecisionRecallCurve(const std::vector<double>& scores,
                                          const std::vector<bool>& positive) {
  const Ranked r = Rank(scores, positive);
  if (r.tps.empty() || r.tps.back() == 0) return std::nullopt;
  Curve c;
  c.x.push_back(0);
  c.y.push_back(1);
  double previous_recall = 0;
  for (std::size_t k = 0; k < r.tps.size(); ++k) {
    const double recall = r.tps[k] / r.tps.back();
    const double precision = r.tps[k] / (r.tps[k] + r.fps[k]);
    c.area += (recall - previous_recall) * precision;
    previous_recall = recall;
    c.x.push_back(recall);
    c.y.push_back(precision);
  }
  return c;
}

namespace {

Figure CurveFigure(std::string id, std::string title, const Curve& curve, const char* x_label,
                   const char* y_label, const char* name, const char* auc_name) {
  Figure f;
  f.id = std::move(id);
  f.title = std::move(title);
  f.kind = FigureKind::kCurve;
  f.x_label = x_label;
  f.y_label = y_label;
  f.points_in = curve.x.size();
  f.series.push_back(DownsampleMinMax(Series{name, curve.x, curve.y}));
  f.auc = curve.area;
  f.auc_name = auc_name;
  return f;
}

}  // namespace

Figure RocFigure(std::string id, std::string title, const Curve& roc) {
  return CurveFigure(std::move(id), std::move(title), roc, "false positive rate",
                     "true positive rate", "roc", "roc_auc");
}

Figure PrecisionRecallFigure(std::string id, std::string title, const Curve& pr) {
  return CurveFigure(std::move(id), std::move(title), pr, "recall", "precision", "precision_recall",
                     "average_precision");
}

std::vector<Figure> ScoreFigures(const std::string& prefix, const std::string& name,
                                 const std::vector<double>& x, const std::vector<double>& scores,
                                 std::optional<double> threshold, const std::vector<bool>& in_alarm,
                                 bool x_time, const std::string& x_label) {
  std::vector<Figure> figures;
  const double range = x.empty() ? 0 : x.back() - x.front();
  figures.push_back(
      LineFigure(prefix + "-score", "Score of " + name + " with threshold and alarms", x_label,
                 "score (decision_function)", {Series{name, x, scores}}, threshold,
                 SpansFromFlags(x, in_alarm, range / static_cast<double>(kPlotColumns)), x_time));
  figures.push_back(HistogramFigure(prefix + "-score-histogram", "Scores of " + name, "score",
                                    {{name, scores}}, threshold));
  return figures;
}

Stat NumberStat(std::string key, std::string label, double value) {
  Stat s;
  s.key = std::move(key);
  s.label = std::move(label);
  s.number = value;
  return s;
}

Stat TextStat(std::string key, std::string label, std::string text) {
  Stat s;
  s.key = std::move(key);
  s.label = std::move(label);
  s.text = std::move(text);
  return s;
}

}  // namespace mh::report
