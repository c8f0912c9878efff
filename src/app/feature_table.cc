#include "app/feature_table.h"

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/strings.h"
#include "parquet/table_text.h"
#include "replay/table_file.h"

namespace mh::app {
namespace {

bool NumericKind(ValueKind k) {
  return k == ValueKind::kInt || k == ValueKind::kDouble || k == ValueKind::kString;
}

}  // namespace

Result<FeatureTableFile> FeatureTableFile::Open(const std::string& path_or_url) {
  FeatureTableFile f;
  f.path_ = path_or_url;
  f.is_url_ = replay::IsHttpUrl(path_or_url);
  f.name_ = f.is_url_ ? replay::RedactUrl(path_or_url) : path_or_url;
  // One row per batch: only the first row is converted here, so that a cell
  // further down that does not fit an inferred kind cannot fail this pass
  // (Read gives the columns their kinds).
  replay::TableFileOptions options;
  options.batch_rows = 1;
  options.csv.batch_rows = 1;
  options.csv.combine_date_time = false;  // the columns are the file's own
  std::unique_ptr<TableReader> reader;
  if (f.is_url_) {
    MH_ASSIGN_OR_RETURN(f.body_, replay::FetchUrl(path_or_url, options));
    MH_ASSIGN_OR_RETURN(reader, replay::OpenTableBytes(f.body_, f.name_, options));
  } else {
    MH_ASSIGN_OR_RETURN(reader, replay::OpenTableFile(path_or_url, options));
  }
  f.columns_ = reader->columns();
  f.first_row_numeric_.assign(f.columns_.size(), false);
  TableBatch batch;
  MH_RETURN_IF_ERROR(reader->Next(&batch).status());
  f.empty_ = batch.rows == 0;
  if (batch.rows > 0) {
    for (std::size_t i = 0; i < batch.columns.size() && i < f.columns_.size(); ++i) {
      const TableColumn& c = batch.columns[i];
      if (c.valid.empty() || !c.valid[0]) continue;
      switch (c.info.kind) {
        case ValueKind::kInt:
        case ValueKind::kDouble:
          f.first_row_numeric_[i] = true;
          break;
        case ValueKind::kString:
          f.first_row_numeric_[i] = ParseDouble(c.strings[0]).ok();
          break;
        default:
          break;
      }
    }
  }
  return f;
}

std::ptrdiff_t FeatureTableFile::Find(const std::string& name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].name == name) return static_cast<std::ptrdiff_t>(i);
  }
  return -1;
}

Result<std::unique_ptr<TableReader>> FeatureTableFile::Reopen(
    const std::vector<std::string>& features) const {
  replay::TableFileOptions options;
  // CSV: features are numbers (a bad cell is the reader's error naming line
  // and column); every other column is text, so identifiers keep their
  // spelling and unused columns cannot fail.
  for (const TableColumnInfo& c : columns_) {
    bool feature = false;
    for (const std::string& f : features) feature = feature || f == c.name;
    options.csv.column_types.emplace_back(c.name,
                                          feature ? ValueKind::kDouble : ValueKind::kString);
  }
  options.csv.combine_date_time = false;
  if (is_url_) return replay::OpenTableBytes(body_, name_, options);
  return replay::OpenTableFile(path_, options);
}

Result<FeatureTable> FeatureTableFile::Read(const std::vector<std::string>& features,
                                            const std::vector<std::string>& ids) const {
  for (const std::vector<std::string>* list : {&features, &ids}) {
    for (const std::string& name : *list) {
      if (Find(name) < 0) {
        return Status::InvalidArgument(name_ + ": no column '" + name + "'");
      }
    }
  }
  for (const std::string& name : features) {
    std::size_t count = 0;
    for (const TableColumnInfo& c : columns_) count += c.name == name;
    if (count > 1) return Status::Corruption(name_ + ": column '" + name + "' appears twice");
  }
  MH_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> reader, Reopen(features));
  const std::vector<TableColumnInfo>& cols = reader->columns();
  auto index = [&](const std::string& name) -> Result<std::size_t> {
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (cols[i].name == name) return i;
    }
    return Status::Corruption(name_ + ": column '" + name + "' disappeared on reopening");
  };
  std::vector<std::size_t> feature_col, id_col;
  for (const std::string& name : features) {
    MH_ASSIGN_OR_RETURN(const std::size_t i, index(name));
    if (!NumericKind(cols[i].kind)) {
      return Status::Corruption(name_ + ": column '" + name + "' holds " +
                                ValueKindName(cols[i].kind) + " values, not numbers");
    }
    feature_col.push_back(i);
  }
  for (const std::string& name : ids) {
    MH_ASSIGN_OR_RETURN(const std::size_t i, index(name));
    id_col.push_back(i);
  }

  FeatureTable table;
  table.x.cols = features.size();
  const parquet::TextOptions text_options;
  TableBatch batch;
  while (true) {
    MH_RETURN_IF_ERROR(reader->Next(&batch).status());
    if (batch.rows == 0) break;
    for (std::size_t r = 0; r < batch.rows; ++r) {
      const std::int64_t row = batch.first_row + static_cast<std::int64_t>(r) + 1;
      auto where = [&](std::size_t j) {
        return name_ + ": row " + std::to_string(row) + ", column '" + features[j] + "'";
      };
      for (std::size_t j = 0; j < feature_col.size(); ++j) {
        const TableColumn& c = batch.columns[feature_col[j]];
        if (!c.valid[r]) return Status::Corruption(where(j) + ": missing value");
        double v = 0;
        switch (c.info.kind) {
          case ValueKind::kDouble:
            v = c.doubles[r];
            break;
          case ValueKind::kInt:
            v = static_cast<double>(c.ints[r]);
            break;
          default: {  // kString (Parquet text, checked above)
            Result<double> parsed = ParseDouble(c.strings[r]);
            if (!parsed.ok()) {
              return Status::Corruption(where(j) + ": not a number: '" + c.strings[r] + "'");
            }
            v = *parsed;
          }
        }
        if (!std::isfinite(v)) {
          return Status::Corruption(where(j) + ": not finite (" + FormatDouble(v) + ")");
        }
        table.x.data.push_back(v);
      }
      if (!id_col.empty()) {
        std::vector<std::string> cells(id_col.size());
        for (std::size_t k = 0; k < id_col.size(); ++k) {
          parquet::AppendCsvValue(batch.columns[id_col[k]], r, text_options, &cells[k]);
        }
        table.ids.push_back(std::move(cells));
      }
    }
    table.x.rows += batch.rows;
  }
  return table;
}

}  // namespace mh::app
