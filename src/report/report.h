// The report model: a document of sections, each with figures (line charts,
// histograms, ROC / precision-recall curves), labelled numbers and tables,
// and its two renderings, one self-contained HTML file (SVG drawn by
// report/svg_plot.h, inline CSS, no script, no external reference) and a
// JSON file of the same figures (keys: docs/report.md).
//
// Plain value types and free functions; no shared state, safe to use from
// any thread. The figures are built by report/figures.h, so each kind of
// figure has one code path in every command that draws it.
#ifndef MH_REPORT_REPORT_H_
#define MH_REPORT_REPORT_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mh::report {

// Serialized (JSON "kind"): kLine "line", kHistogram "histogram", kCurve "curve".
enum class FigureKind : std::uint8_t { kLine = 0, kHistogram = 1, kCurve = 2 };

// One line of a line chart or curve: points (x[i], y[i]); a NaN y is a gap.
struct Series {
  std::string name;
  std::vector<double> x;
  std::vector<double> y;
};

// A shaded range of x (a line chart's alarm), from <= x <= to.
struct Span {
  double from = 0;
  double to = 0;
};

// The counts of one set of values in a histogram's bins.
struct HistogramSeries {
  std::string name;
  std::vector<std::size_t> counts;  // counts[i]: values in [edges[i], edges[i+1])
};

struct Figure {
  std::string id;  // unique in the report; the HTML element id and the JSON "id"
  std::string title;
  FigureKind kind = FigureKind::kLine;
  std::string x_label;
  std::string y_label;
  bool x_time = false;  // x values are ns since the epoch (axis labelled in UTC)
  // kLine, kCurve: the lines, each downsampled to at most ~2 points per pixel
  // column (report/figures.h); points_in counts the points before that.
  std::vector<Series> series;
  std::size_t points_in = 0;
  // kHistogram: shared bin edges (counts.size() + 1 of them) and the counts
  // of each set of values.
  std::vector<double> edges;
  std::vector<HistogramSeries> bins;
  // kLine: a horizontal line at y; kHistogram: a vertical marker at x.
  std::optional<double> threshold;
  std::vector<Span> spans;  // kLine: shaded x ranges (alarms)
  // kCurve: the area named auc_name ("roc_auc", "average_precision").
  std::optional<double> auc;
  std::string auc_name;
};

// A labelled figure: a number (shown with 6 significant digits) or a text.
struct Stat {
  std::string key;    // JSON key, [a-z0-9_]
  std::string label;  // shown in the HTML
  std::optional<double> number;
  std::string text;  // when there is no number ("" and no number: JSON null, shown as "–")
};

struct Table {
  std::string id;
  std::string title;
  std::vector<std::string> columns;
  std::vector<std::vector<std::string>> rows;
};

struct Section {
  std::string id;  // unique in the report
  std::string title;
  std::string text;  // a paragraph under the title (may be empty)
  std::vector<Stat> stats;
  std::vector<Figure> figures;
  std::vector<Table> tables;
};

struct Report {
  std::string title;
  std::string command;  // the command that made it, as shown
  std::vector<Section> sections;
};

// The report as one HTML5 document: every text escaped (EscapeHtml), every
// figure an inline <svg> inside <figure id=ID data-kind=...>, no script and
// no http(s) reference, so it opens offline.
std::string RenderHtml(const Report& report);

// The same report as JSON: one object, a newline at the end, non-finite
// numbers as null. `base` (a JSON object's text, e.g. a command's own
// figures) gives the first keys, in its order; the report adds "title",
// "command" and "sections" after them. A `base` that is not a JSON object
// is a bug (checked).
std::string RenderJson(const Report& report, std::string_view base = "{}");

// `text` with & < > " ' replaced by character references.
std::string EscapeHtml(std::string_view text);

// A number as the HTML shows it: 6 significant digits, "–" for NaN.
std::string FormatShown(double value);

}  // namespace mh::report

#endif  // MH_REPORT_REPORT_H_
