// Input specifications of the commands that read data files (features,
// score, train, evaluate): one file, a folder of snapshot files, or a glob
// pattern, expanded into the list of files to read in natural order.
//
//   a file        itself (a URL, http:// or https://, is passed through);
//   a folder      its data files: regular files, not hidden, named *.csv,
//                 *.tsv, *.txt or *.parquet (any case), not in subfolders;
//   a glob        the files matching the pattern (POSIX glob(3): *, ?, [...]);
//                 folders among the matches are refused.
// Files are returned in natural order (NaturalLess: "acc_2" before "acc_10").
//
// Thread safety: free functions; they read the filesystem only.
#ifndef MH_REPLAY_INPUT_FILES_H_
#define MH_REPLAY_INPUT_FILES_H_

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mh::replay {

struct InputFiles {
  // The files to read, in natural order (paths as the glob or folder walk
  // produced them: the folder as given, joined with the file's name).
  std::vector<std::string> files;
  // True when the spec was a folder or a glob (commands then add each row's
  // source file and offset to their output), false for a single file or URL.
  bool multiple = false;
};

// True when `spec` holds a glob metacharacter (*, ? or [).
bool HasGlobPattern(std::string_view spec);

// Expands `spec` as above. NotFound for a path that does not exist or a glob
// with no match; InvalidArgument for a folder without data files (the message
// lists its subfolders, if any, and suggests a glob) or a glob matching a
// folder. Messages name the spec.
Result<InputFiles> ExpandInputs(const std::string& spec);

// True for the name of a data file in a folder (without its folder): not
// hidden (no leading '.') and ending in .csv, .tsv, .txt or .parquet (any
// case).
bool IsDataFileName(std::string_view name);

// Natural order: runs of decimal digits compare by numeric value (leading
// zeros ignored, then fewer leading zeros first), other bytes by value; ties
// are broken by plain byte order so that the order is total.
bool NaturalLess(std::string_view a, std::string_view b);

}  // namespace mh::replay

#endif  // MH_REPLAY_INPUT_FILES_H_
