#include "http/api.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/compression.h"
#include "core/strings.h"
#include "core/time_util.h"
#include "features/snapshot_spectrum.h"
#include "features/velocity.h"
#include "features/window_features.h"
#include "http/embedded_files.h"
#include "http/internal/json_values.h"

namespace mh::http {
namespace {

using nlohmann::json;

using internal::Dump;
using internal::EpochMs;
using internal::Number;

Response JsonResponse(int status, const json& body) {
  Response r;
  r.status = status;
  r.body = Dump(body);
  return r;
}

Response ErrorResponse(int status, const std::string& message) {
  return JsonResponse(status, json{{"error", message}});
}

// Maps a reader error to an HTTP status.
Response StatusResponse(const Status& status) {
  if (status.IsNotFound()) return ErrorResponse(404, status.message());
  if (status.IsInvalidArgument()) return ErrorResponse(400, status.message());
  if (status.IsUnavailable()) return ErrorResponse(503, status.message());
  return ErrorResponse(500, status.message());
}

// Floor division of ns to ms for "updated_ms".
std::int64_t FloorMs(std::int64_t ns) {
  std::int64_t q = ns / 1'000'000;
  if (ns % 1'000'000 < 0) --q;
  return q;
}

const std::string* Param(const Params& params, const std::string& name) {
  auto it = params.values.find(name);
  return it == params.values.end() ? nullptr : &it->second;
}

}  // namespace

Response HealthResponse() { return JsonResponse(200, json{{"status", "ok"}}); }

Response ReadyResponse(const std::string& reason) {
  if (reason.empty()) return JsonResponse(200, json{{"status", "ready"}});
  return JsonResponse(503, json{{"status", "not ready"}, {"reason", reason}});
}

Response PrometheusResponse(const metrics::Registry& registry) {
  Response r;
  r.content_type = metrics::kContentType;
  r.body = registry.Expose();
  return r;
}

int AddDatabaseCollector(metrics::Registry& registry, sink::StoreReader& reader) {
  return registry.AddCollector([&reader](metrics::Collection& c) {
    auto machines = reader.Machines();
    if (machines.ok()) {
      std::map<std::string, double> by_state{{"learning", 0}, {"normal", 0}, {"anomalous", 0}};
      for (const sink::MachineSummary& m : *machines) by_state[m.state] += 1;
      for (const auto& [state, n] : by_state) {
        c.Gauge("machine_health_machines",
                "Machines whose latest stored window is in this state (learning, normal, "
                "anomalous).",
                {{"state", state}}, n);
      }
    }
    auto baselines = reader.Baselines();
    if (baselines.ok()) {
      for (const sink::BaselineInfo& b : *baselines) {
        if (!b.active) continue;
        c.Gauge("machine_health_baseline_version",
                "Version of the machine's active baseline (docs/baselines.md).",
                {{"machine", b.machine_id}}, static_cast<double>(b.version));
      }
    }
  });
}

namespace {

// The ISO 20816 zone of the machine's latest window: its largest velocity
// RMS of a measurement direction (the full feature set has them), judged by
// the machine's group and foundation (the registry's, or its defaults);
// null without velocity features.
json IsoOfLatestWindow(sink::StoreReader& reader, const std::string& machine,
                       const registry::MachinePtr& config) {
  auto latest = reader.LatestFeatures(machine, std::string(features::kVelocityRmsFeature));
  if (!latest.ok()) return nullptr;
  const std::string magnitude =
      std::string(features::kVelocityRmsFeature) + "_" + std::string(features::kMagnitudeChannel);
  const std::pair<std::string, double>* top = nullptr;
  for (const auto& f : *latest) {
    if (f.first == magnitude || !std::isfinite(f.second) || f.second < 0) continue;
    if (top == nullptr || f.second > top->second) top = &f;
  }
  if (top == nullptr) return nullptr;
  const registry::MachineConfig defaults;
  const registry::MachineConfig& c = config != nullptr ? *config : defaults;
  auto zone = features::Iso20816Zone(top->second, c.iso_group, c.foundation);
  if (!zone.ok()) return nullptr;
  return json{{"zone", features::IsoZoneName(*zone)},
              {"velocity_mm_s", top->second},
              {"feature", top->first},
              {"group", static_cast<int>(c.iso_group)},
              {"foundation", c.foundation == features::Foundation::kRigid ? "rigid" : "flexible"}};
}

}  // namespace

Response MachinesResponse(sink::StoreReader& reader, const registry::Registry* registry) {
  auto machines = reader.Machines();
  if (!machines.ok()) return StatusResponse(machines.status());
  json out = json::array();
  for (const sink::MachineSummary& m : *machines) {
    json item{{"id", m.id},
              {"state", m.state},
              {"score", Number(m.score)},
              {"threshold", Number(m.threshold)},
              {"updated", FormatRfc3339(m.updated_ns, 3)},
              {"updated_ms", FloorMs(m.updated_ns)},
              {"windows", m.windows}};
    registry::MachinePtr config = registry != nullptr ? registry->Peek(m.id) : nullptr;
    if (config != nullptr) {
      // One writer of the config's JSON (registry/machine_config.h); an id
      // that is not valid UTF-8 makes it unparsable: null then.
      json j = json::parse(registry::MachineJson(*config), nullptr, false);
      item["registry"] = j.is_discarded() ? json(nullptr) : std::move(j);
    }
    item["iso"] = IsoOfLatestWindow(reader, m.id, config);
    out.push_back(std::move(item));
  }
  return JsonResponse(200, out);
}

Response SeriesResponse(sink::StoreReader& reader, const Params& params) {
  if (!params.repeated.empty()) {
    return ErrorResponse(400, "parameter '" + params.repeated + "' given more than once");
  }
  const std::string* machine = Param(params, "machine");
  if (machine == nullptr || machine->empty()) {
    return ErrorResponse(400, "missing parameter 'machine'");
  }
  const std::string* metric_param = Param(params, "metric");
  std::string metric = metric_param ? *metric_param : "score";
  if (metric.empty()) return ErrorResponse(400, "parameter 'metric' is empty");

  std::size_t max_points = kDefaultMaxPoints;
  if (const std::string* max = Param(params, "max")) {
    auto n = ParseInt(*max);
    if (!n.ok() || *n < 1 || static_cast<std::uint64_t>(*n) > kLargestMaxPoints) {
      return ErrorResponse(400, "bad parameter 'max': '" + *max + "' is not an integer in [1, " +
                                    std::to_string(kLargestMaxPoints) + "]");
    }
    max_points = static_cast<std::size_t>(*n);
  }
  std::optional<std::int64_t> from_ns;
  std::optional<std::int64_t> to_ns;
  for (const char* name : {"from", "to"}) {
    const std::string* text = Param(params, name);
    if (text == nullptr) continue;
    auto t = ParseInstant(*text);
    if (!t.ok()) {
      return ErrorResponse(400,
                           std::string("bad parameter '") + name + "': " + t.status().message());
    }
    (std::string_view(name) == "from" ? from_ns : to_ns) = *t;
  }
  auto summary = reader.Machine(*machine);
  if (!summary.ok()) return StatusResponse(summary.status());
  if (!to_ns) to_ns = summary->updated_ns + 1;
  if (!from_ns) {
    from_ns = *to_ns >= kMinInstantNs + kDefaultSeriesSpanNs ? *to_ns - kDefaultSeriesSpanNs
                                                             : kMinInstantNs;
  }
  if (*from_ns > *to_ns) return ErrorResponse(400, "bad parameter 'from': after 'to'");

  auto series = reader.GetSeries(*machine, metric, *from_ns, *to_ns, max_points);
  if (!series.ok()) return StatusResponse(series.status());
  json t = json::array();
  json v = json::array();
  for (std::size_t i = 0; i < series->t_ns.size(); ++i) {
    t.push_back(EpochMs(series->t_ns[i]));
    v.push_back(Number(series->v[i]));
  }
  return JsonResponse(200, json{{"machine", *machine},
                                {"metric", metric},
                                {"from", EpochMs(*from_ns)},
                                {"to", EpochMs(*to_ns)},
                                {"t", std::move(t)},
                                {"v", std::move(v)}});
}

Response MetricsResponse(sink::StoreReader& reader, const Params& params) {
  const std::string* machine = Param(params, "machine");
  if (machine == nullptr || machine->empty()) {
    return ErrorResponse(400, "missing parameter 'machine'");
  }
  auto names = reader.FeatureNames(*machine);
  if (!names.ok()) return StatusResponse(names.status());
  json metrics = json::array({"score", "rms", "state_score"});
  for (const std::string& n : *names) metrics.push_back(n);
  return JsonResponse(200, json{{"machine", *machine}, {"metrics", std::move(metrics)}});
}

Response AlarmsResponse(sink::StoreReader& reader, const Params& params) {
  if (!params.repeated.empty()) {
    return ErrorResponse(400, "parameter '" + params.repeated + "' given more than once");
  }
  sink::AlarmFilter filter;
  filter.limit = kDefaultAlarmLimit;
  if (const std::string* machine = Param(params, "machine")) filter.machine_id = *machine;
  if (const std::string* open = Param(params, "open")) {
    if (*open == "true" || *open == "1") {
      filter.open_only = true;
    } else if (*open != "false" && *open != "0") {
      return ErrorResponse(400, "bad parameter 'open': '" + *open + "' (expected true or false)");
    }
  }
  if (const std::string* limit = Param(params, "limit")) {
    auto n = ParseInt(*limit);
    if (!n.ok() || *n < 1 || static_cast<std::uint64_t>(*n) > kLargestAlarmLimit) {
      return ErrorResponse(400, "bad parameter 'limit': '" + *limit +
                                    "' is not an integer in [1, " +
                                    std::to_string(kLargestAlarmLimit) + "]");
    }
    filter.limit = static_cast<std::size_t>(*n);
  }
  for (const char* name : {"from", "to"}) {
    const std::string* text = Param(params, name);
    if (text == nullptr) continue;
    auto t = ParseInstant(*text);
    if (!t.ok()) {
      return ErrorResponse(400,
                           std::string("bad parameter '") + name + "': " + t.status().message());
    }
    (std::string_view(name) == "from" ? filter.from_ns : filter.to_ns) = *t;
  }
  if (filter.from_ns > filter.to_ns) return ErrorResponse(400, "bad parameter 'from': after 'to'");
  auto alarms = reader.Alarms(filter);
  if (!alarms.ok()) return StatusResponse(alarms.status());
  Response r;
  r.body = "[";
  for (std::size_t i = 0; i < alarms->size(); ++i) {
    if (i > 0) r.body += ",";
    r.body += sink::AlarmRecordJson((*alarms)[i]);
  }
  r.body += "]";
  return r;
}

Response AlarmResponse(sink::StoreReader& reader, const std::string& alarm_id) {
  auto alarm = reader.Alarm(alarm_id);
  if (!alarm.ok()) return StatusResponse(alarm.status());
  Response r;
  r.body = sink::AlarmRecordJson(*alarm);
  return r;
}

Response AckResponse(sink::AlarmStore* store, const std::string& alarm_id, std::string_view body,
                     std::int64_t now_ns) {
  if (store == nullptr) return ErrorResponse(403, "acknowledging alarms is switched off");
  json request = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object()) {
    return ErrorResponse(400, "body is not a JSON object (expected {\"by\": \"NAME\"})");
  }
  auto by = request.find("by");
  if (by == request.end() || !by->is_string() || by->get<std::string>().empty()) {
    return ErrorResponse(400, "body has no non-empty string \"by\" (who acknowledges)");
  }
  auto result = store->Acknowledge(alarm_id, by->get<std::string>(), now_ns);
  if (!result.ok()) return StatusResponse(result.status());
  Response r;
  r.body = "{\"alarm\":" + sink::AlarmRecordJson(result->alarm) +
           ",\"already_acknowledged\":" + (result->already_acknowledged ? "true" : "false") + "}";
  return r;
}

Response BaselinesResponse(sink::StoreReader& reader, const Params& params) {
  if (!params.repeated.empty()) {
    return ErrorResponse(400, "parameter '" + params.repeated + "' given more than once");
  }
  const std::string* machine = Param(params, "machine");
  auto list = reader.Baselines(machine ? *machine : "");
  if (!list.ok()) return StatusResponse(list.status());
  json a = json::array();
  for (const sink::BaselineInfo& i : *list) a.push_back(baseline::BaselineInfoJson(i));
  return JsonResponse(200, a);
}

Response BaselineResponse(sink::StoreReader& reader, const std::string& machine,
                          const Params& params) {
  if (!params.repeated.empty()) {
    return ErrorResponse(400, "parameter '" + params.repeated + "' given more than once");
  }
  std::int64_t version = 0;
  if (const std::string* v = Param(params, "version")) {
    auto parsed = ParseInt(*v);
    if (!parsed.ok() || *parsed < 1) {
      return ErrorResponse(400, "version: expected an integer >= 1, got '" + *v + "'");
    }
    version = *parsed;
  }
  auto stored = reader.Baseline(machine, version);
  if (!stored.ok()) return StatusResponse(stored.status());
  return JsonResponse(200, baseline::StoredBaselineJson(*stored));
}

Response BaselineResetResponse(sink::BaselineStore* store, const std::string& machine) {
  if (store == nullptr) return ErrorResponse(403, "changing baselines is switched off");
  auto active = store->LoadActive(machine);
  if (!active.ok()) return StatusResponse(active.status());
  auto was = store->Reset(machine);
  if (!was.ok()) return StatusResponse(was.status());
  json previous = *active != nullptr ? json((*active)->version) : json(nullptr);
  return JsonResponse(200, json{{"machine", machine},
                                {"was_active", *active != nullptr},
                                {"previous_version", previous}});
}

Response BaselineRetrainResponse(sink::BaselineStore* store, const std::string& db_path,
                                 const std::string& machine, std::string_view body,
                                 const score::LearnOptions& learn) {
  if (store == nullptr) return ErrorResponse(403, "changing baselines is switched off");
  baseline::RetrainOptions options;
  options.learn = learn;
  if (!body.empty()) {
    json request = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (request.is_discarded() || !request.is_object()) {
      return ErrorResponse(400, "body is not a JSON object (expected {\"from\": T, \"to\": T})");
    }
    for (const char* key : {"from", "to"}) {
      auto it = request.find(key);
      if (it == request.end() || it->is_null()) continue;
      Result<std::int64_t> t = Status::InvalidArgument("expected an RFC 3339 string or epoch ms");
      if (it->is_string()) {
        t = ParseInstant(it->get<std::string>());
      } else if (it->is_number_integer()) {
        const auto ms = it->get<std::int64_t>();
        constexpr std::int64_t kLimit = std::numeric_limits<std::int64_t>::max() / 1'000'000;
        if (ms > -kLimit && ms < kLimit) t = ms * 1'000'000;
      }
      if (!t.ok()) return ErrorResponse(400, std::string(key) + ": " + t.status().message());
      if (key[0] == 'f') {
        options.from_ns = *t;
        options.has_from = true;
      } else {
        options.to_ns = *t;
      }
    }
  }
  if (options.from_ns >= options.to_ns) return ErrorResponse(400, "from is not before to");
  auto stored = baseline::Retrain(*store, db_path, machine, options);
  if (!stored.ok()) return StatusResponse(stored.status());
  return JsonResponse(200, baseline::StoredBaselineJson(*stored));
}

namespace {

json SnapshotInfoJson(const sink::SnapshotInfo& s) {
  json j{{"id", s.id},       {"machine", s.machine_id}, {"t", EpochMs(s.t_ns)},
         {"t_ns", s.t_ns},   {"kind", s.kind},          {"score", Number(s.score)},
         {"fs_hz", s.fs_hz}, {"samples", s.samples},    {"bytes", s.bytes}};
  if (!s.alarm_id.empty()) j["alarm_id"] = s.alarm_id;
  return j;
}

}  // namespace

Response SnapshotsResponse(sink::StoreReader& reader, const Params& params) {
  if (!params.repeated.empty()) {
    return ErrorResponse(400, "parameter '" + params.repeated + "' given more than once");
  }
  const std::string* machine = Param(params, "machine");
  if (machine == nullptr || machine->empty()) {
    return ErrorResponse(400, "missing parameter 'machine'");
  }
  std::size_t limit = kDefaultSnapshotLimit;
  if (const std::string* text = Param(params, "limit")) {
    auto n = ParseInt(*text);
    if (!n.ok() || *n < 1 || static_cast<std::uint64_t>(*n) > kLargestSnapshotLimit) {
      return ErrorResponse(400, "bad parameter 'limit': '" + *text + "' is not an integer in [1, " +
                                    std::to_string(kLargestSnapshotLimit) + "]");
    }
    limit = static_cast<std::size_t>(*n);
  }
  std::int64_t from_ns = std::numeric_limits<std::int64_t>::min();
  std::int64_t to_ns = std::numeric_limits<std::int64_t>::max();
  for (const char* name : {"from", "to"}) {
    const std::string* text = Param(params, name);
    if (text == nullptr) continue;
    auto t = ParseInstant(*text);
    if (!t.ok()) {
      return ErrorResponse(400,
                           std::string("bad parameter '") + name + "': " + t.status().message());
    }
    (std::string_view(name) == "from" ? from_ns : to_ns) = *t;
  }
  if (from_ns > to_ns) return ErrorResponse(400, "bad parameter 'from': after 'to'");
  auto list = reader.Snapshots(*machine, from_ns, to_ns, limit);
  if (!list.ok()) return StatusResponse(list.status());
  json out = json::array();
  for (const sink::SnapshotInfo& s : *list) out.push_back(SnapshotInfoJson(s));
  return JsonResponse(200, out);
}

Response SnapshotResponse(sink::StoreReader& reader, const std::string& id_text,
                          const Params& params) {
  if (!params.repeated.empty()) {
    return ErrorResponse(400, "parameter '" + params.repeated + "' given more than once");
  }
  auto id = ParseInt(id_text);
  if (!id.ok() || *id < 1) {
    return ErrorResponse(400, "bad snapshot id '" + id_text + "' (expected an integer >= 1)");
  }
  const std::string* view_param = Param(params, "view");
  const std::string view = view_param ? *view_param : "spectrum";
  if (view != "spectrum" && view != "samples") {
    return ErrorResponse(400,
                         "bad parameter 'view': '" + view + "' (expected spectrum or samples)");
  }
  auto snap = reader.Snapshot(*id);
  if (!snap.ok()) return StatusResponse(snap.status());
  json out = SnapshotInfoJson(snap->info);
  out["channels"] = snap->samples.channels;
  if (view == "samples") {
    out["samples"] = snap->samples.samples;
    return JsonResponse(200, out);
  }
  auto spectra = features::ComputeSnapshotSpectra(snap->samples.samples, snap->samples.fs_hz);
  if (!spectra.ok())
    return ErrorResponse(500, "snapshot " + id_text + ": " + spectra.status().message());
  out["freq_hz"] = spectra->freq_hz;
  out["amplitude"] = spectra->amplitude;
  out["envelope"] = json{{"band_hz", {spectra->envelope_band.lo_hz, spectra->envelope_band.hi_hz}},
                         {"amplitude", spectra->envelope_amplitude}};
  return JsonResponse(200, out);
}

Result<StreamRequest> ParseStreamRequest(const Params& params, const std::string& last_event_id) {
  if (!params.repeated.empty()) {
    return Status::InvalidArgument("parameter '" + params.repeated + "' given more than once");
  }
  StreamRequest r;
  r.last_event_id = last_event_id;
  if (r.last_event_id.empty()) {
    if (const std::string* id = Param(params, "last_event_id")) r.last_event_id = *id;
  }
  if (const std::string* since = Param(params, "since")) {
    auto t = ParseInstant(*since);
    if (!t.ok()) return Status::InvalidArgument("bad parameter 'since': " + t.status().message());
    r.since_ns = *t;
  }
  return r;
}

namespace {

// An embedded asset with its validator and its gzip form.
struct StaticAsset {
  const EmbeddedFile* file = nullptr;
  std::string etag{};
  std::string gzip{};
};

// Every embedded asset, prepared at the first call (thread-safe static).
const std::vector<StaticAsset>& StaticAssets() {
  static const std::vector<StaticAsset> assets = [] {
    std::vector<StaticAsset> out;
    out.reserve(kEmbeddedFileCount);
    for (std::size_t i = 0; i < kEmbeddedFileCount; ++i) {
      StaticAsset a;
      a.file = &kEmbeddedFiles[i];
      const std::string_view bytes(a.file->data, a.file->size);
      // FNV-1a 64 of the bytes: a new binary with a changed file has a new tag.
      std::uint64_t h = 1469598103934665603ull;
      for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
      char tag[24];
      std::snprintf(tag, sizeof tag, "\"%016llx\"", static_cast<unsigned long long>(h));
      a.etag = tag;
      auto packed = Compress(Compression::kGzip, bytes, 9);
      if (packed.ok() && packed->size() < bytes.size()) a.gzip = std::move(packed).value();
      out.push_back(std::move(a));
    }
    return out;
  }();
  return assets;
}

}  // namespace

Response StaticResponse(std::string_view path) {
  if (path == "/") path = "/index.html";
  const EmbeddedFile* file = FindEmbeddedFile(path);
  if (file == nullptr) return NotFoundResponse(path);
  const StaticAsset& asset = StaticAssets()[static_cast<std::size_t>(file - kEmbeddedFiles)];
  Response r;
  r.content_type = ContentTypeFor(path);
  // Revalidate every time: a rebuilt binary must never serve a stale app.js
  // (the ETag makes the revalidation a 304 without the bytes).
  r.cache_control = "no-cache";
  r.body.assign(file->data, file->size);
  r.etag = asset.etag;
  r.gzip_body = asset.gzip;
  return r;
}

Response NotFoundResponse(std::string_view path) {
  return ErrorResponse(404, "not found: " + std::string(path));
}

std::string ContentTypeFor(std::string_view path) {
  auto ends = [&](std::string_view ext) {
    return path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".json")) return "application/json";
  if (ends(".svg")) return "image/svg+xml";
  if (ends(".png")) return "image/png";
  if (ends(".ico")) return "image/x-icon";
  return "application/octet-stream";
}

}  // namespace mh::http
