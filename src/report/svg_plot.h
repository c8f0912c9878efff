// SVG drawing of a report figure (report/report.h): line charts with a
// threshold line and shaded spans, histograms with a threshold marker, and
// ROC / precision-recall curves, with axes, ticks and a legend. The SVG is
// written by this code alone (no library, no script, no external reference);
// every text is escaped. Each drawn element carries data attributes (the
// series name and point count, each bar's count, the threshold value, each
// span's range) so a test can check the drawing against the figure.
//
// Pure function, safe from any thread.
#ifndef MH_REPORT_SVG_PLOT_H_
#define MH_REPORT_SVG_PLOT_H_

#include <string>

#include "report/report.h"

namespace mh::report {

// Appends `<svg ...>...</svg>` drawing `figure` to `out`.
void AppendSvg(const Figure& figure, std::string* out);

}  // namespace mh::report

#endif  // MH_REPORT_SVG_PLOT_H_
