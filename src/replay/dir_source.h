// The dir: source: a transport::Subscriber over a folder where a data logger
// drops snapshot files (CSV or Parquet, one file per snapshot, as in FEMTO
// and IMS). Each new file becomes one waveform message whose payload is a
// binary waveform record (codec/waveform_binary.h) of float64 samples, so the
// samples are exactly the file's numbers. The rules (docs/transports.md,
// "dir: folders of snapshot files"):
//
// - Machine: a file in PATH/<machine>/ belongs to <machine>; a file directly
//   in PATH to DirSourceOptions::machine, else the folder's own name. Deeper
//   folders are not read.
// - Files: data files (replay::IsDataFileName) or those matching `pattern`
//   (fnmatch on the file name); names starting with '.', ending in .tmp or
//   holding .tmp- never. A file is taken once it is complete: the same size and mtime at
//   two scans at least `settle` apart (or at once with `once`). A writer that
//   cannot write within that time writes under a .tmp or dot name and renames.
// - Order: per machine in natural order (replay::NaturalLess); a file that is
//   not complete yet holds back the machine's later files. Machines in name
//   order.
// - Progress: per machine the last file handed out; Commit writes it to the
//   state file (atomically: temporary file, fsync, rename). A file at or
//   before the committed mark is never read again; one polled but not
//   committed comes again after a restart (at least once). A file that
//   arrives with a name sorting before the mark is skipped (logged once).
// - Event time of the first sample, the first of: the file's `timestamp`
//   column (csv/timestamp_column.h); FEMTO's hour/minute/second/microsecond
//   columns, on the UTC date that puts that time of day nearest the file's
//   mtime; a date-time in the file name (IMS "2003.10.22.12.06.24", UTC);
//   the file's mtime.
// - A file that cannot be read (bad CSV, no numeric channel, too many rows)
//   becomes an error record naming the file and the reason: the decoder
//   rejects it and the pipeline dead-letters it; the source goes on.
//
// Thread safety: one thread at a time (transport/transport.h).
#ifndef MH_REPLAY_DIR_SOURCE_H_
#define MH_REPLAY_DIR_SOURCE_H_

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "codec/waveform_binary.h"
#include "core/result.h"
#include "core/uri.h"
#include "transport/transport.h"

namespace mh::replay {

struct DirSourceOptions {
  // The folder (dir:PATH).
  std::string path;
  // Sampling rate of every file, Hz (?fs=). Required (> 0) unless
  // fs_by_machine is given.
  double fs_hz = 0;
  // Per machine id, its sampling rate in Hz (from a machine registry); wins
  // over fs_hz. A file of a machine in neither becomes an error record.
  std::map<std::string, double> fs_by_machine;
  // Channel columns; empty: per file its numeric columns that are not time or
  // index columns (replay::ChooseDefaultChannels).
  std::vector<std::string> channels;
  // fnmatch pattern on file names; empty: *.csv, *.tsv, *.txt, *.parquet.
  std::string pattern;
  // Machine of the files directly in `path`; empty: the folder's name.
  std::string machine;
  // Progress file; empty: PATH/.machine-health-progress.
  std::string state_path;
  // true: read the files present at the first scan (complete at once) and
  // end (AtEnd); false: a stream that watches the folder.
  bool once = false;
  // How often the folder is listed while Poll waits.
  std::chrono::milliseconds scan_interval{1000};
  // How long a file's size and mtime must stay the same before it is taken.
  std::chrono::milliseconds settle{1000};
  // Most samples per channel of one file (larger: an error record).
  std::size_t max_samples_per_channel = codec::kMaxWaveformSamples;
};

// Options from a dir: address: dir:PATH?fs=HZ&channels=a,b&pattern=GLOB&
// machine=ID&state=FILE&once=1&scan_ms=N&settle_ms=N. InvalidArgument for an
// unknown parameter, a bad value, or a missing fs ("... add ?fs=HZ") unless
// `fs_optional` (a registry will supply it).
Result<DirSourceOptions> DirSourceOptionsFromUri(const Uri& uri, bool fs_optional = false);

// Opens the source. InvalidArgument for fs_hz <= 0 without fs_by_machine,
// or a rate in fs_by_machine that is not > 0; NotFound when `path` is not a
// folder; Corruption for a damaged state file (naming its line).
Result<std::unique_ptr<transport::Subscriber>> NewDirSubscriber(const DirSourceOptions& options);

}  // namespace mh::replay

#endif  // MH_REPLAY_DIR_SOURCE_H_
