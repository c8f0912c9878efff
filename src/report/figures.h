// Builders of report figures (report/report.h) and the numbers behind them:
// min/max downsampling, alarm spans, histogram bins, ROC and precision-recall
// curves with their areas in scikit-learn's definitions. Every command that
// draws a kind of figure builds it here, so each kind has one code path.
//
// Pure functions, safe from any thread.
#ifndef MH_REPORT_FIGURES_H_
#define MH_REPORT_FIGURES_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "report/report.h"

namespace mh::report {

// Pixel columns of a line chart: a series longer than 2 * kPlotColumns
// points is reduced to the minimum and maximum of each column.
inline constexpr std::size_t kPlotColumns = 700;

// `s` reduced to at most 2 * columns + 2 points: x is cut into `columns`
// equal ranges and each keeps the point of its least and of its greatest y
// (in their original order), so every column's true minimum and maximum
// survive; the first and last points are always kept; NaN y points are
// dropped. x must be non-decreasing. A series of at most 2 * columns points
// is returned unchanged (NaN points included).
Series DownsampleMinMax(const Series& s, std::size_t columns = kPlotColumns);

// The shaded spans of the runs of `flags[i]` true, x[i] to the last x of the
// run; spans closer than `min_gap` merge (pass the x range / kPlotColumns so
// that flapping does not draw thousands of slivers).
std::vector<Span> SpansFromFlags(const std::vector<double>& x, const std::vector<bool>& flags,
                                 double min_gap = 0);

// A line chart: every series downsampled (DownsampleMinMax), a threshold
// line and shaded spans.
Figure LineFigure(std::string id, std::string title, std::string x_label, std::string y_label,
                  std::vector<Series> series, std::optional<double> threshold = std::nullopt,
                  std::vector<Span> spans = {}, bool x_time = false);

// One named set of values for a histogram.
struct NamedValues {
  std::string name;
  std::vector<double> values;
};

// A histogram of each set over `bins` equal bins shared by all sets,
// spanning their finite minimum to maximum (and the threshold, when given,
// so its marker is inside); non-finite values are not counted. The last bin
// is closed: the maximum is counted.
Figure HistogramFigure(std::string id, std::string title, std::string x_label,
                       const std::vector<NamedValues>& sets,
                       std::optional<double> threshold = std::nullopt, std::size_t bins = 30);

// A ranking quality measure: `score` higher = more likely positive.
struct Curve {
  std::vector<double> x, y;  // ROC: fpr, tpr; PR: recall, precision
  double area = 0;           // ROC: AUC (trapezoids); PR: average precision
};

// The ROC curve with one point per distinct score (descending), from (0, 0)
// to (1, 1), and its area by the trapezoidal rule, as scikit-learn's
// roc_curve(drop_intermediate=False) and roc_auc_score. Needs a positive and
// a negative (else nullopt). scores.size() == positive.size().
std::optional<Curve> RocCurve(const std::vector<double>& scores, const std::vector<bool>& positive);

// The precision-recall curve, one point per distinct score (descending)
// after (recall 0, precision 1), and the average precision sum over
// thresholds of (R_k - R_k-1) * P_k, as scikit-learn's average_precision_score.
// Needs a positive (else nullopt).
std::optional<Curve> PrecisionRecallCurve(const std::vector<double>& scores,
                                          const std::vector<bool>& positive);

// A curve figure of RocCurve ("roc_auc") or PrecisionRecallCurve
// ("average_precision"), downsampled for drawing.
Figure RocFigure(std::string id, std::string title, const Curve& roc);
Figure PrecisionRecallFigure(std::string id, std::string title, const Curve& pr);

// The two figures of one machine's scores (decision_function, lower = more
// anomalous): "<prefix>-score", the score against x with the threshold line
// and the spans where in_alarm is true (merged closer than a pixel), and
// "<prefix>-score-histogram", their histogram with the threshold marker.
// x, scores and in_alarm have one entry per window (NaN score: not drawn).
std::vector<Figure> ScoreFigures(const std::string& prefix, const std::string& name,
                                 const std::vector<double>& x, const std::vector<double>& scores,
                                 std::optional<double> threshold, const std::vector<bool>& in_alarm,
                                 bool x_time, const std::string& x_label);

// Stat builders.
Stat NumberStat(std::string key, std::string label, double value);
Stat TextStat(std::string key, std::string label, std::string text);

}  // namespace mh::report

#endif  // MH_REPORT_FIGURES_H_
