#include "app/report_files.h"

#include "app/output_options.h"

namespace mh::app {

Status WriteReportFiles(const report::Report& report, const std::string& html_path,
                        const std::string& json_path, std::ostream& standard_output) {
  if (!html_path.empty()) {
    MH_RETURN_IF_ERROR(WriteTextOutput(html_path, report::RenderHtml(report), standard_output));
  }
  if (!json_path.empty()) {
    MH_RETURN_IF_ERROR(WriteTextOutput(json_path, report::RenderJson(report), standard_output));
  }
  return Status::OK();
}

}  // namespace mh::app
