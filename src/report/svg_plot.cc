#include "report/svg_plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "core/strings.h"
#include "core/time_util.h"

namespace mh::report {
namespace {

constexpr double kLeft = 64, kRight = 14, kTop = 12, kBottom = 44;
const char* const kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf"};

struct Frame {
  double width = 0, height = 0;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  double X(double x) const { return kLeft + (x - x0) / (x1 - x0) * (width - kLeft - kRight); }
  double Y(double y) const {
    return height - kBottom - (y - y0) / (y1 - y0) * (height - kTop - kBottom);
  }
};

std::string Px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// About `count` round tick values in [lo, hi] (steps of 1, 2 or 5 x 10^k).
std::vector<double> Ticks(double lo, double hi, int count) {
  std::vector<double> ticks;
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / count;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * mag;
    if (step >= raw) break;
  }
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

std::string TickText(double v, bool time, double span) {
  if (time) {
    const std::string t = FormatRfc3339(static_cast<std::int64_t>(v), 0);  // 2026-12-07T15:38:16Z
    if (t.size() < 19) return t;
    if (span > 86400e9) return t.substr(5, 5) + " " + t.substr(11, 5);
    return t.substr(11, 8);
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

void Axes(const Frame& f, const Figure& fig, std::string* out) {
  const double bottom = f.height - kBottom, right = f.width - kRight;
  *out += "<g class=\"axes\" font-size=\"11\" fill=\"#333\">";
  std::vector<double> xt;
  if (fig.x_time) {
    for (int i = 0; i <= 4; ++i) xt.push_back(f.x0 + (f.x1 - f.x0) * i / 4);
  } else {
    xt = Ticks(f.x0, f.x1, 6);
  }
  for (double t : xt) {
    const double x = f.X(t);
    *out += "<line x1=\"" + Px(x) + "\" y1=\"" + Px(kTop) + "\" x2=\"" + Px(x) + "\" y2=\"" +
            Px(bottom) + "\" stroke=\"#eee\"/>";
    *out += "<text x=\"" + Px(x) + "\" y=\"" + Px(bottom + 15) + "\" text-anchor=\"middle\">" +
            EscapeHtml(TickText(t, fig.x_time, f.x1 - f.x0)) + "</text>";
  }
  for (double t : Ticks(f.y0, f.y1, 5)) {
    const double y = f.Y(t);
    *out += "<line x1=\"" + Px(kLeft) + "\" y1=\"" + Px(y) + "\" x2=\"" + Px(right) + "\" y2=\"" +
            Px(y) + "\" stroke=\"#eee\"/>";
    *out += "<text x=\"" + Px(kLeft - 5) + "\" y=\"" + Px(y + 4) + "\" text-anchor=\"end\">" +
            EscapeHtml(TickText(t, false, 0)) + "</text>";
  }
  *out += "<rect x=\"" + Px(kLeft) + "\" y=\"" + Px(kTop) + "\" width=\"" + Px(right - kLeft) +
          "\" height=\"" + Px(bottom - kTop) + "\" fill=\"none\" stroke=\"#999\"/>";
  *out += "<text x=\"" + Px((kLeft + right) / 2) + "\" y=\"" + Px(f.height - 6) +
          "\" text-anchor=\"middle\">" + EscapeHtml(fig.x_label) + "</text>";
  *out += "<text transform=\"translate(14 " + Px((kTop + bottom) / 2) +
          ") rotate(-90)\" text-anchor=\"middle\">" + EscapeHtml(fig.y_label) + "</text>";
  *out += "</g>";
}

void Legend(const Frame& f, const std::vector<std::string>& names, std::string* out) {
  if (names.size() < 2) return;
  double y = kTop + 14;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const double x = f.width - kRight - 150;
    *out += "<rect x=\"" + Px(x) + "\" y=\"" + Px(y - 9) + "\" width=\"10\" height=\"10\" fill=\"" +
            kColors[i % 6] + "\"/><text x=\"" + Px(x + 14) + "\" y=\"" + Px(y) +
            "\" font-size=\"11\">" + EscapeHtml(names[i]) + "</text>";
    y += 14;
  }
}

void Path(const Frame& f, const Series& s, std::size_t index, std::string* out) {
  std::string d;
  bool pen = false;
  std::size_t drawn = 0;
  for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
    if (!std::isfinite(s.y[i]) || !std::isfinite(s.x[i])) {
      pen = false;
      continue;
    }
    d += (pen ? "L" : "M") + Px(f.X(s.x[i])) + " " + Px(f.Y(s.y[i]));
    pen = true;
    ++drawn;
  }
  *out += "<path class=\"series\" data-series=\"" + EscapeHtml(s.name) + "\" data-points=\"" +
          std::to_string(drawn) + "\" fill=\"none\" stroke=\"" + kColors[index % 6] +
          "\" stroke-width=\"1.3\" d=\"" + d + "\"/>";
}

void Threshold(const Frame& f, double v, bool vertical, std::string* out) {
  const std::string common = "class=\"threshold\" data-value=\"" + FormatDouble(v) +
                             "\" stroke=\"#d62728\" stroke-dasharray=\"5 3\" stroke-width=\"1.5\"";
  if (vertical) {
    *out += "<line " + common + " x1=\"" + Px(f.X(v)) + "\" y1=\"" + Px(kTop) + "\" x2=\"" +
            Px(f.X(v)) + "\" y2=\"" + Px(f.height - kBottom) + "\"/>";
  } else {
    *out += "<line " + common + " x1=\"" + Px(kLeft) + "\" y1=\"" + Px(f.Y(v)) + "\" x2=\"" +
            Px(f.width - kRight) + "\" y2=\"" + Px(f.Y(v)) + "\"/>";
  }
}

void Range(double v, double* lo, double* hi) {
  if (!std::isfinite(v)) return;
  *lo = std::min(*lo, v);
  *hi = std::max(*hi, v);
}

void Pad(double* lo, double* hi, double share) {
  if (!(*lo <= *hi)) *lo = 0, *hi = 1;
  if (*hi == *lo) *lo -= 0.5, *hi += 0.5;
  const double pad = (*hi - *lo) * share;
  *lo -= pad;
  *hi += pad;
}

}  // namespace

void AppendSvg(const Figure& fig, std::string* out) {
  Frame f;
  f.width = fig.kind == FigureKind::kLine ? 760 : fig.kind == FigureKind::kHistogram ? 500 : 340;
  f.height = fig.kind == FigureKind::kCurve ? 320 : 280;
  const double inf = std::numeric_limits<double>::infinity();
  std::vector<std::string> names;
  if (fig.kind == FigureKind::kHistogram) {
    f.x0 = fig.edges.empty() ? 0 : fig.edges.front();
    f.x1 = fig.edges.empty() ? 1 : fig.edges.back();
    std::size_t top = 1;
    for (const HistogramSeries& h : fig.bins) {
      for (std::size_t c : h.counts) top = std::max(top, c);
      names.push_back(h.name);
    }
    f.y0 = 0;
    f.y1 = static_cast<double>(top) * 1.05;
    if (!(f.x1 > f.x0)) f.x1 = f.x0 + 1;
  } else if (fig.kind == FigureKind::kCurve) {
    f.x0 = 0, f.x1 = 1, f.y0 = 0, f.y1 = 1.02;
  } else {
    double xl = inf, xh = -inf, yl = inf, yh = -inf;
    for (const Series& s : fig.series) {
      for (double x : s.x) Range(x, &xl, &xh);
      for (double y : s.y) Range(y, &yl, &yh);
      names.push_back(s.name);
    }
    for (const Span& s : fig.spans) Range(s.from, &xl, &xh), Range(s.to, &xl, &xh);
    if (fig.threshold) Range(*fig.threshold, &yl, &yh);
    if (!(xl <= xh)) xl = 0, xh = 1;
    if (xh == xl) xh = xl + 1;
    Pad(&yl, &yh, 0.05);
    f.x0 = xl, f.x1 = xh, f.y0 = yl, f.y1 = yh;
  }
  *out += "<svg width=\"" + Px(f.width) + "\" height=\"" + Px(f.height) + "\" viewBox=\"0 0 " +
          Px(f.width) + " " + Px(f.height) + "\" role=\"img\" font-family=\"sans-serif\"><title>" +
          EscapeHtml(fig.title) + "</title>";
  const double bottom = f.height - kBottom;
  for (const Span& s : fig.spans) {
    const double a = f.X(s.from), b = std::max(f.X(s.to), a + 1.0);
    *out += "<rect class=\"alarm\" data-from=\"" + FormatDouble(s.from) + "\" data-to=\"" +
            FormatDouble(s.to) + "\" x=\"" + Px(a) + "\" y=\"" + Px(kTop) + "\" width=\"" +
            Px(b - a) + "\" height=\"" + Px(bottom - kTop) +
            "\" fill=\"#d62728\" fill-opacity=\"0.15\"/>";
  }
  Axes(f, fig, out);
  if (fig.kind == FigureKind::kHistogram) {
    const std::size_t sets = std::max<std::size_t>(1, fig.bins.size());
    for (std::size_t k = 0; k < fig.bins.size(); ++k) {
      const HistogramSeries& h = fig.bins[k];
      for (std::size_t b = 0; b < h.counts.size() && b + 1 < fig.edges.size(); ++b) {
        if (h.counts[b] == 0) continue;
        const double a = f.X(fig.edges[b]), z = f.X(fig.edges[b + 1]);
        const double w = (z - a) / static_cast<double>(sets);
        const double y = f.Y(static_cast<double>(h.counts[b]));
        *out += "<rect class=\"bar\" data-series=\"" + EscapeHtml(h.name) + "\" data-bin=\"" +
                std::to_string(b) + "\" data-count=\"" + std::to_string(h.counts[b]) + "\" x=\"" +
                Px(a + w * static_cast<double>(k)) + "\" y=\"" + Px(y) + "\" width=\"" +
                Px(std::max(w - 0.5, 0.5)) + "\" height=\"" + Px(bottom - y) + "\" fill=\"" +
                kColors[k % 6] + "\" fill-opacity=\"0.8\"/>";
      }
    }
    if (fig.threshold) Threshold(f, *fig.threshold, true, out);
  } else {
    if (fig.kind == FigureKind::kCurve && fig.auc_name == "roc_auc") {
      *out += "<line x1=\"" + Px(f.X(0)) + "\" y1=\"" + Px(f.Y(0)) + "\" x2=\"" + Px(f.X(1)) +
              "\" y2=\"" + Px(f.Y(1)) + "\" stroke=\"#bbb\" stroke-dasharray=\"3 3\"/>";
    }
    for (std::size_t k = 0; k < fig.series.size(); ++k) Path(f, fig.series[k], k, out);
    if (fig.threshold) Threshold(f, *fig.threshold, false, out);
  }
  Legend(f, names, out);
  *out += "</svg>";
}

}  // namespace mh::report
