#include "core/table.h"

#include <string>

#include "core/strings.h"

namespace mh {
namespace {

bool IsNumberText(std::string_view text) {
  const std::string_view t = TrimSpace(text);
  if (t.empty()) return false;
  if (ParseDouble(t).ok()) return true;
  if (t.find(',') == std::string_view::npos) return false;
  std::string dotted(t);
  for (char& c : dotted) c = c == ',' ? '.' : c;
  return ParseDouble(dotted).ok();
}

}  // namespace

NumberCells CountNumberCells(const TableColumn& column, std::size_t rows) {
  NumberCells n;
  if (column.info.kind != ValueKind::kString) return n;
  for (std::size_t r = 0; r < rows && r < column.strings.size(); ++r) {
    if (!column.valid[r]) continue;
    if (IsNumberText(column.strings[r])) {
      ++n.numbers;
    } else {
      if (n.others++ == 0) n.first_other = static_cast<std::ptrdiff_t>(r);
    }
  }
  return n;
}

}  // namespace mh
