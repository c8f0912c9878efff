// ReadSampleFile: the samples of named channels of one table file (a
// snapshot CSV or Parquet file, read with OpenTableFile), optionally only the
// rows [first_row, end_row). For `evaluate` and the snapshot sources, which
// hand whole files to the pipeline.
//
// Errors (Corruption unless noted) name the file, the 1-based data row and
// the column: a missing channel column (listing the columns), a column that
// is not numeric, a null or non-finite cell, a range beyond the file's rows
// (InvalidArgument), fewer rows than `min_rows`.
//
// Thread safety: a free function.
#ifndef MH_REPLAY_SAMPLE_FILE_H_
#define MH_REPLAY_SAMPLE_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/table.h"

namespace mh::replay {

struct SampleFileOptions {
  std::vector<std::string> channels;   // column names, non-empty
  std::uint64_t first_row = 0;         // 0-based data row
  std::uint64_t end_row = UINT64_MAX;  // exclusive; UINT64_MAX = to the end
  // Most samples per channel; more in the range is Corruption (read no
  // further: a file far larger than any event is refused, not loaded).
  std::uint64_t max_rows = UINT64_MAX;
};

struct SampleFile {
  std::vector<std::string> channels;
  std::vector<std::vector<double>> samples;  // per channel, the same length
  std::uint64_t rows() const { return samples.empty() ? 0 : samples[0].size(); }
};

Result<SampleFile> ReadSampleFile(const std::string& path, const SampleFileOptions& options);

// The same from a table already opened (`shown`: its name in messages).
// With `have_first`, `batch` holds the reader's first rows already (read by
// the caller, e.g. to choose the channels); else it is read from the start.
Result<SampleFile> ReadSamples(TableReader& reader, TableBatch& batch, bool have_first,
                               const std::string& shown, const SampleFileOptions& options);

// "a:b" (0-based rows a..b-1; either side may be empty) -> options'
// first_row/end_row. InvalidArgument naming the text.
Status ParseSampleRange(const std::string& text, SampleFileOptions* options);

}  // namespace mh::replay

#endif  // MH_REPLAY_SAMPLE_FILE_H_
