// Writes a report (report/report.h) as the files the commands' --html and
// --json options name: `report`, `evaluate` and `train` share it.
#ifndef MH_APP_REPORT_FILES_H_
#define MH_APP_REPORT_FILES_H_

#include <ostream>
#include <string>

#include "core/status.h"
#include "report/report.h"

namespace mh::app {

// Writes RenderHtml(report) to html_path and RenderJson(report) to
// json_path, each skipped when empty, each through a temporary file renamed
// when complete ("-" writes to `standard_output`). IOError naming the file.
Status WriteReportFiles(const report::Report& report, const std::string& html_path,
                        const std::string& json_path, std::ostream& standard_output);

}  // namespace mh::app

#endif  // MH_APP_REPORT_FILES_H_
