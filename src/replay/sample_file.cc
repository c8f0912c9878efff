#include "replay/sample_file.h"

#include <cmath>

#include "core/strings.h"
#include "core/table.h"
#include "replay/sample_columns.h"
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
  MH_ASSIGN_OR_RETURN(const std::vector<std::size_t> index,
                      FindChannelColumns(shown, reader.columns(), o.channels));
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
        double v = 0;
        if (!SampleCell(col, r, &v)) {
          return SampleCellError(shown + ": row " + std::to_string(row + 1), col, r, o.channels[c]);
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
