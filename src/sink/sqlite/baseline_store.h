// BaselineStore: per-machine baselines (score::Baseline) in the
// machine-health SQLite database (tables `baselines` and `baseline_changes`,
// docs/database.md, docs/baselines.md). A restarted pipeline loads every
// machine's active baseline (LoadActive) instead of relearning; people list,
// show, reset, retrain and assign baselines (CLI `baseline`, HTTP API).
//
// Versions: each machine's baselines are numbered 1, 2, ... in the order
// they were saved; at most one is active (the one the machine scores with).
// Reset leaves none active (the machine learns anew); old versions are kept,
// and Activate can bring any of them back.
//
// Hearing about changes made elsewhere (another process, the HTTP API):
// every Save, Activate and Reset gives the machine a new change sequence
// number (`baseline_changes.seq`, increasing over the whole database). A
// running pipeline polls ChangesSince(last_seq) (one indexed query, cheap
// enough for once a second) and for each changed machine calls
// LoadActive(machine): null -> MachineScorer::StartLearning(); a version
// other than the one it scores with -> MachineScorer::Restore(); the same
// version (its own Save) -> nothing. It then remembers the largest seq seen.
// CurrentSeq() gives the starting point at startup (after LoadActive()).
//
// Exactness: a baseline round-trips bit for bit (the model as its model-file
// bytes, iforest::SerializeModel; doubles as SQLite REAL or as JSON numbers
// printed with round-trip precision), so a restored baseline scores exactly
// as the original did.
//
// Thread safety: all methods may be called from several threads at once
// (serialized on one read-write connection). Other processes may read and
// write the same file (WAL; a writer waits up to 5 s for another's lock).
#ifndef MH_SINK_SQLITE_BASELINE_STORE_H_
#define MH_SINK_SQLITE_BASELINE_STORE_H_

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "score/baseline.h"

namespace mh::sink {

struct BaselineStoreOptions {
  // Database file; created with the schema if absent, migrated from schema
  // versions 1 and 2 if older (see OpenSqliteSink).
  std::string path = "machine-health.db";
};

// One stored baseline as listed (everything but the model and the stats).
struct BaselineInfo {
  std::string machine_id;
  std::int64_t version = 0;
  std::int64_t created_ns = 0;  // wall clock of Save, ns since epoch
  std::string origin;           // "learned", or the path of an assigned model
  bool active = false;
  double threshold = 0;  // NaN if stored as NULL
  score::ThresholdOptions rule;
  std::int64_t trained_from_ns = 0;
  std::int64_t trained_to_ns = 0;
  std::int64_t rows = 0;
  std::vector<std::string> feature_names;  // the model's input features
};

// A stored baseline with its model and statistics.
struct StoredBaseline {
  BaselineInfo info;
  std::shared_ptr<const score::Baseline> baseline;
};

// A machine whose baselines changed (Save, Activate or Reset).
struct BaselineChange {
  std::string machine_id;
  std::int64_t seq = 0;
};

class BaselineStore {
 public:
  // Opens (or creates) the database for writing. Errors as OpenSqliteSink:
  // InvalidArgument (empty path), Corruption (not a machine-health database,
  // unknown schema version), IOError (cannot create or open).
  static Result<std::unique_ptr<BaselineStore>> Open(const BaselineStoreOptions& options);

  BaselineStore(const BaselineStore&) = delete;
  BaselineStore& operator=(const BaselineStore&) = delete;
  ~BaselineStore();

  // Stores `baseline` and makes it the machine's active one (every other
  // version of the machine becomes inactive), in one transaction. Version
  // 0 is assigned the machine's next version (largest stored + 1); a
  // version >= 1 is stored as given (a pipeline's MachineScorer numbers its
  // own). Saving a version again with the same model bytes only activates
  // it (idempotent); with different ones is InvalidArgument. `created_ns` 0
  // means now. Returns the version stored. InvalidArgument for an empty
  // machine id, no model, a model that fails iforest::ValidateModel, or
  // feature statistics whose lengths differ.
  Result<std::int64_t> Save(const score::Baseline& baseline, std::int64_t created_ns = 0);

  // Every machine's active baseline, sorted by machine id.
  Result<std::vector<std::shared_ptr<const score::Baseline>>> LoadActive();
  // One machine's active baseline; null if it has none (never saved, or
  // reset).
  Result<std::shared_ptr<const score::Baseline>> LoadActive(const std::string& machine_id);

  // Stored baselines (of `machine_id`, or of every machine if empty),
  // sorted by machine id then version.
  Result<std::vector<BaselineInfo>> List(const std::string& machine_id = "");
  // One version (0 = the active one). NotFound "machine 'm1' has no
  // baseline version 3" / "... has no active baseline".
  Result<StoredBaseline> Get(const std::string& machine_id, std::int64_t version = 0);
  // The version the machine's next baseline gets (largest stored + 1; 1 for
  // a machine with none). A pipeline passes it to MachineScorer as
  // first_version.
  Result<std::int64_t> NextVersion(const std::string& machine_id);

  // Leaves the machine without an active baseline (it learns anew); its
  // versions are kept. Returns whether a baseline was active. Works for a
  // machine without any baseline too (a learning machine restarts learning).
  Result<bool> Reset(const std::string& machine_id);
  // Makes `version` the machine's active baseline. NotFound if not stored.
  Status Activate(const std::string& machine_id, std::int64_t version);

  // Machines whose baselines changed after sequence number `seq`, in
  // increasing seq order (see the header comment).
  Result<std::vector<BaselineChange>> ChangesSince(std::int64_t seq);
  // The largest change sequence number so far (0 if none).
  Result<std::int64_t> CurrentSeq();

 private:
  struct Impl;
  explicit BaselineStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Stored windows of one machine for retraining: per window its time and the
// values of the requested stored features, in the requested order.
struct StoredWindows {
  std::vector<std::int64_t> t_ns;  // increasing
  std::vector<std::string> names;  // as requested
  std::vector<double> values;      // t_ns.size() x names.size(), row-major
  std::int64_t skipped = 0;        // windows in range missing a requested feature
};

// Reads machine `machine_id`'s stored features `names` of the windows with
// from_ns <= t < to_ns from the database at `path` (read-only; the
// `windows` table, float32 values widened to double). With latest > 0, only the latest `latest`
// windows of that range. Windows lacking one of the names are skipped (counted). NotFound for a
// missing database; errors as SqliteReader::Open.
Result<StoredWindows> ReadStoredWindows(const std::string& path, const std::string& machine_id,
                                        const std::vector<std::string>& names, std::int64_t from_ns,
                                        std::int64_t to_ns, std::int64_t latest = 0);

}  // namespace mh::sink

#endif  // MH_SINK_SQLITE_BASELINE_STORE_H_
