// Private helpers of schema version 4's compact window storage
// (docs/database.md): the float32 feature blob, the in-memory cache of
// machine keys and feature-set ids, and the in-place migration of older
// files. Only src/sink/sqlite/ (and its tests) may include this header.
//
// Thread safety: a WindowKeys is used by one thread at a time.
#ifndef MH_SINK_SQLITE_INTERNAL_WINDOWS_V4_H_
#define MH_SINK_SQLITE_INTERNAL_WINDOWS_V4_H_

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "sink/sqlite/internal/sqlite_util.h"

namespace mh::sink::internal {

// Appends `values` to `out` as float32 IEEE-754 little-endian (4 bytes
// each), rounded to nearest. Values beyond the float32 range are stored as
// +-FLT_MAX (a finite double never becomes an infinity).
void EncodeFeatures(std::span<const double> values, std::string* out);

// The float32 at position `idx` of a feature blob, widened to double. The
// caller checks that 4 * (idx + 1) <= the blob's size.
inline double DecodeFeature(const void* blob, std::size_t idx) {
  const auto* p = static_cast<const unsigned char*>(blob) + 4 * idx;
  const std::uint32_t bits =
      static_cast<std::uint32_t>(p[0]) | (static_cast<std::uint32_t>(p[1]) << 8) |
      (static_cast<std::uint32_t>(p[2]) << 16) | (static_cast<std::uint32_t>(p[3]) << 24);
  float f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

// The identity of a feature set: its names in storage order joined by '\n'
// (feature_sets.names).
std::string FeatureSetKey(const std::vector<std::string>& names);

// Machine keys (machine_keys) and feature-set ids (feature_sets and
// feature_set_columns) of one connection, looked up or created in the
// caller's write transaction and cached. Feature sets are cached by the
// names' address first (a pipeline shares one vector between its records),
// then by content. After a rolled-back transaction call Forget(): keys
// created in it no longer exist.
class WindowKeys {
 public:
  Result<std::int64_t> Machine(Db& db, const std::string& path, const std::string& id);
  Result<std::int64_t> FeatureSet(Db& db, const std::string& path,
                                  const std::shared_ptr<const std::vector<std::string>>& names);
  Result<std::int64_t> FeatureSet(Db& db, const std::string& path,
                                  const std::vector<std::string>& names);
  void Forget();

 private:
  Status PrepareLocked(Db& db);
  std::unordered_map<std::string, std::int64_t> machines_;
  std::unordered_map<std::string, std::int64_t> sets_;
  // Pointer cache; the shared_ptr keeps the vector (and so its address) alive.
  std::map<const std::vector<std::string>*,
           std::pair<std::shared_ptr<const std::vector<std::string>>, std::int64_t>>
      by_pointer_;
  Stmt find_machine_, insert_machine_, find_set_, insert_set_, insert_column_;
};

// Feature names of every stored feature set, read on demand from
// feature_set_columns (read side: reader, baseline and alarm stores).
class FeatureSetNames {
 public:
  // The names of set `id` in blob order; NotFound if there is no such set.
  Result<const std::vector<std::string>*> Get(const Db& db, const std::string& path,
                                              std::int64_t id);

 private:
  std::map<std::int64_t, std::vector<std::string>> sets_;
};

// Options of the migration to version 4 (tests use them).
struct MigrationOptions {
  std::int64_t chunk_windows = 2000;  // windows moved per transaction
  // Called after each committed step with the windows moved so far.
  std::function<void(std::int64_t moved)> progress;
};

// True if meta.migration says that a migration to version 4 has started and
// not finished.
Result<bool> MigrationInProgress(const Db& db, const std::string& path);

// Brings a database of schema version 1 to 3 (or one mid-migration) to
// version 4 in place: one transaction renames scores/features to
// scores_v3/features_v3 and creates the version-4 tables (and those of
// versions 2 and 3 for older files), then chunks of windows move per
// transaction, and the last one drops the old tables and creates the views.
// A kill at any point leaves a file that the next call continues. A
// database at version 4 with no migration pending is left as is.
Status MigrateToV4(Db& db, const std::string& path, const MigrationOptions& options = {});

// Adds what version 4 gained with hot model reloads to a version-4 file
// made before it, in one transaction: the `models` table, the nullable
// windows.model column (models.id) and scores.model_version. Files that
// have them are left as is; readers do not need them (old files stay
// readable without it).
Status AddModelVersions(Db& db, const std::string& path);

}  // namespace mh::sink::internal

#endif  // MH_SINK_SQLITE_INTERNAL_WINDOWS_V4_H_
