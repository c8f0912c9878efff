#include "replay/sample_file.h"

#include <cmath>

#include "core/strings.h"
#include "core/table.h"
#include "replay/table_file.h"

namespace mh::replay {

Status ParseSampleRange(const std::string& text, SampleFileOptions* o) {
  const std::string_view t = TrimSpace(text);
  if (t.empty()) return Status::OK();
  const std::size_t colon = t.find(':');
  auto bad = [&] {
    return Status::InvalidArgument("sample range '" + std::string(t) +
                                   "': expected a:b (0-based rows a to b-1)");
  };
  if (colon == std::string_view::npos) return bad();
  const std::string_view a = TrimSpace(t.substr(0, colon));
  const std::string_view b = TrimSpace(t.substr(colon + 1));
  std::uint64_t first = 0, end = UINT64_MAX;
  if (!a.empty()) {
    auto v = ParseInt(a);
    if (!v.ok() || *v < 0) return bad();
    first = static_cast<std::uint64_t>(*v);
  }
  if (!b.empty()) {
    auto v = ParseInt(b);
    if (!v.ok() || *v < 0) return bad();
    end = static_cast<std::uint64_t>(*v);
  }
  if (end <= first) return bad();
  o->first_row = first;
  o->end_row = end;
  return Status::OK();
}

Result<SampleFile> ReadSampleFile(const std::string& path, const SampleFileOptions& o) {
  const std::string shown = RedactUrl(path);
  if (o.channels.empty()) return Status::InvalidArgument(shown + ": no channels named");
  auto opened = OpenTableFile(path, TableFileOptions{});
  if (!opened.ok()) return opened.status();
  TableBatch batch;
  return ReadSamples(**opened, batch, /*have_first=*/false, shown, o);
}

Result<SampleFile> ReadSamples(TableReader& reader, TableBatch& batch, bool have_first,
                               const std::string& shown, const SampleFileOptions& o) {
  if (o.channels.empty()) return Status::InvalidArgument(shown + ": no channels named");
  const std::vector<TableColumnInfo>& cols = reader.columns();
  std::vector<std::size_t> index;
  for (const std::string& c : o.channels) {
    const std::ptrdiff_t i = FindColumn(cols, c);
    if (i < 0) {
      std::string names;
      for (const TableColumnInfo& info : cols) names += (names.empty() ? "" : ", ") + info.name;
      if (names.size() > 400) names = names.substr(0, 400) + "...";
      return Status::Corruption(shown + ": no column '" + c + "' (columns: " + names + ")");
    }
    const ValueKind k = cols[static_cast<std::size_t>(i)].kind;
    if (k != ValueKind::kDouble && k != ValueKind::kInt) {
      return Status::Corruption(shown + ": column '" + c + "' is " + ValueKindName(k) +
                                ", not numbers");
    }
    index.push_back(static_cast<std::size_t>(i));
  }
  SampleFile out;
  out.channels = o.channels;
  out.samples.resize(o.channels.size());
  std::uint64_t row = 0;
  for (bool first = true; row < o.end_row; first = false) {
    if (!(first && have_first)) {
      auto more = reader.Next(&batch);
      if (!more.ok()) return more.status();
    }
    if (batch.rows == 0) break;
    for (std::size_t r = 0; r < batch.rows && row < o.end_row; ++r, ++row) {
      if (row < o.first_row) continue;
      if (row - o.first_row >= o.max_rows) {
        return Status::Corruption(shown + ": more than " + std::to_string(o.max_rows) + " samples");
      }
      for (std::size_t c = 0; c < index.size(); ++c) {
        const TableColumn& col = batch.columns[index[c]];
        auto where = [&] {
          return shown + ": row " + std::to_string(row + 1) + ": column '" + o.channels[c] + "'";
        };
        if (!col.valid[r]) return Status::Corruption(where() + " is null");
        const double v =
            col.info.kind == ValueKind::kDouble ? col.doubles[r] : static_cast<double>(col.ints[r]);
        if (!std::isfinite(v)) {
          return Status::Corruption(where() + ": '" + FormatDouble(v) + "' is not a finite number");
        }
        out.samples[c].push_back(v);
      }
    }
  }
  if (o.end_row != UINT64_MAX && row < o.end_row) {
    return Status::InvalidArgument(shown + ": sample range " + std::to_string(o.first_row) + ":" +
                                   std::to_string(o.end_row) + " is beyond its " +
                                   std::to_string(row) + " rows");
  }
  if (out.rows() == 0) return Status::Corruption(shown + ": no samples in the rows asked for");
  return out;
}

}  // namespace mh::replay
