#include "sink/sqlite/internal/baseline_sql.h"

#include <cmath>
#include <memory>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include "iforest/model_io.h"

namespace mh::sink::internal {
namespace {

using nlohmann::json;

// Columns of every baseline query, in this order.
constexpr const char* kColumns =
    "machine_id, version, created_ns, origin, active, threshold, threshold_rule, threshold_q, "
    "threshold_margin, threshold_z, trained_from_ns, trained_to_ns, rows, feature_names";

double ColumnReal(sqlite3_stmt* s, int col) {
  return sqlite3_column_type(s, col) == SQLITE_NULL ? NAN : sqlite3_column_double(s, col);
}

Result<BaselineInfo> ReadInfo(sqlite3_stmt* s, const std::string& path) {
  BaselineInfo b;
  b.machine_id = ColumnText(s, 0);
  b.version = sqlite3_column_int64(s, 1);
  b.created_ns = sqlite3_column_int64(s, 2);
  b.origin = ColumnText(s, 3);
  b.active = sqlite3_column_int64(s, 4) != 0;
  b.threshold = ColumnReal(s, 5);
  const std::string context =
      path + ": baseline of machine '" + b.machine_id + "' version " + std::to_string(b.version);
  auto rule = score::ParseThresholdRule(ColumnText(s, 6));
  if (!rule.ok()) return Status::Corruption(context + ": " + rule.status().message());
  b.rule.rule = *rule;
  b.rule.q = ColumnReal(s, 7);
  b.rule.margin = ColumnReal(s, 8);
  b.rule.z = ColumnReal(s, 9);
  b.trained_from_ns = sqlite3_column_int64(s, 10);
  b.trained_to_ns = sqlite3_column_int64(s, 11);
  b.rows = sqlite3_column_int64(s, 12);
  MH_ASSIGN_OR_RETURN(b.feature_names,
                      FeatureNamesFromJson(ColumnText(s, 13), context + ": feature_names"));
  return b;
}

json Numbers(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) {
    if (std::isfinite(x)) {
      a.push_back(x);
    } else {
      a.push_back(nullptr);  // JSON has no NaN/Inf; read back as NaN
    }
  }
  return a;
}

Result<std::vector<double>> NumbersFrom(const json& j, const char* key,
                                        const std::string& context) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) {
    return Status::Corruption(context + ": '" + key + "' is not an array");
  }
  std::vector<double> v;
  v.reserve(it->size());
  for (const json& x : *it) {
    if (x.is_null()) {
      v.push_back(NAN);
    } else if (x.is_number()) {
      v.push_back(x.get<double>());
    } else {
      return Status::Corruption(context + ": '" + key + "' holds a non-number");
    }
  }
  return v;
}

Result<std::vector<std::string>> NamesFrom(const json& j, const std::string& context) {
  if (!j.is_array()) return Status::Corruption(context + ": not an array of names");
  std::vector<std::string> names;
  names.reserve(j.size());
  for (const json& x : j) {
    if (!x.is_string()) return Status::Corruption(context + ": a name is not a string");
    names.push_back(x.get<std::string>());
  }
  return names;
}

}  // namespace

namespace {

// Invalid UTF-8 in a name is replaced (U+FFFD) rather than thrown on; the
// pipeline's feature names are ASCII.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string FeatureNamesToJson(const std::vector<std::string>& names) { return Dump(json(names)); }

std::string FeatureStatsToJson(const score::FeatureStats& st) {
  json j = {{"names", st.names},
            {"mean", Numbers(st.mean)},
            {"std", Numbers(st.std)},
            {"min", Numbers(st.min)},
            {"max", Numbers(st.max)}};
  return Dump(j);
}

Result<std::vector<std::string>> FeatureNamesFromJson(const std::string& text,
                                                      const std::string& context) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Corruption(context + ": malformed JSON");
  return NamesFrom(j, context);
}

Result<score::FeatureStats> FeatureStatsFromJson(const std::string& text,
                                                 const std::string& context) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption(context + ": malformed JSON");
  }
  score::FeatureStats st;
  auto names = j.find("names");
  if (names == j.end()) return Status::Corruption(context + ": no 'names'");
  MH_ASSIGN_OR_RETURN(st.names, NamesFrom(*names, context + ": names"));
  MH_ASSIGN_OR_RETURN(st.mean, NumbersFrom(j, "mean", context));
  MH_ASSIGN_OR_RETURN(st.std, NumbersFrom(j, "std", context));
  MH_ASSIGN_OR_RETURN(st.min, NumbersFrom(j, "min", context));
  MH_ASSIGN_OR_RETURN(st.max, NumbersFrom(j, "max", context));
  const std::size_t n = st.names.size();
  if (st.mean.size() != n || st.std.size() != n || st.min.size() != n || st.max.size() != n) {
    return Status::Corruption(context + ": statistics of different lengths");
  }
  return st;
}

Result<bool> HasBaselineTables(const Db& db, const std::string& path) {
  MH_ASSIGN_OR_RETURN(
      Stmt s,
      Stmt::Prepare(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'baselines'"));
  int rc = sqlite3_step(s.get());
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteError(db.get(), rc, path + ": reading schema");
}

Result<std::vector<BaselineInfo>> QueryBaselines(const Db& db, const std::string& path,
                                                 const std::string& machine_id) {
  std::vector<BaselineInfo> out;
  MH_ASSIGN_OR_RETURN(bool has, HasBaselineTables(db, path));
  if (!has) return out;
  const std::string sql = std::string("SELECT ") + kColumns +
                          " FROM baselines WHERE ?1 = '' OR machine_id = ?1 "
                          "ORDER BY machine_id, version";
  MH_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db, sql.c_str()));
  BindText(s.get(), 1, machine_id);
  int rc;
  while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
    MH_ASSIGN_OR_RETURN(BaselineInfo b, ReadInfo(s.get(), path));
    out.push_back(std::move(b));
  }
  if (rc != SQLITE_DONE) return SqliteError(db.get(), rc, path + ": reading baselines");
  return out;
}

Result<StoredBaseline> QueryBaseline(const Db& db, const std::string& path,
                                     const std::string& machine_id, std::int64_t version) {
  const std::string missing =
      version == 0
          ? "machine '" + machine_id + "' has no active baseline"
          : "machine '" + machine_id + "' has no baseline version " + std::to_string(version);
  MH_ASSIGN_OR_RETURN(bool has, HasBaselineTables(db, path));
  if (!has) return Status::NotFound(missing);
  const std::string sql =
      std::string("SELECT ") + kColumns +
      ", model, feature_stats FROM baselines WHERE machine_id = ?1 AND " +
      (version == 0 ? "active = 1 ORDER BY version DESC LIMIT 1" : "version = ?2");
  MH_ASSIGN_OR_RETURN(Stmt s, Stmt::Prepare(db, sql.c_str()));
  BindText(s.get(), 1, machine_id);
  if (version != 0) sqlite3_bind_int64(s.get(), 2, version);
  int rc = sqlite3_step(s.get());
  if (rc == SQLITE_DONE) return Status::NotFound(missing);
  if (rc != SQLITE_ROW) return SqliteError(db.get(), rc, path + ": reading baselines");
  StoredBaseline out;
  MH_ASSIGN_OR_RETURN(out.info, ReadInfo(s.get(), path));
  const BaselineInfo& i = out.info;
  const std::string name =
      path + ": baseline of machine '" + i.machine_id + "' version " + std::to_string(i.version);
  const void* blob = sqlite3_column_blob(s.get(), 14);
  const auto bytes = static_cast<std::size_t>(sqlite3_column_bytes(s.get(), 14));
  auto model = iforest::ParseModel(
      std::string_view(blob ? static_cast<const char*>(blob) : "", blob ? bytes : 0), name);
  if (!model.ok()) return Status::Corruption(model.status().message());
  auto b = std::make_shared<score::Baseline>();
  b->machine_id = i.machine_id;
  b->version = i.version;
  b->model = std::make_shared<const iforest::Model>(std::move(*model));
  b->threshold = i.threshold;
  b->rule = i.rule;
  MH_ASSIGN_OR_RETURN(b->stats, FeatureStatsFromJson(ColumnText(s.get(), 15), name + ": stats"));
  b->trained_from_ns = i.trained_from_ns;
  b->trained_to_ns = i.trained_to_ns;
  b->rows = i.rows;
  b->origin = i.origin;
  out.baseline = std::move(b);
  return out;
}

}  // namespace mh::sink::internal
