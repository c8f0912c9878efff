#include "registry/internal/machines_file.h"

#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include <toml++/toml.h>

#include "core/strings.h"
#include "core/time_util.h"
#include "core/toml_util.h"
#include "score/baseline.h"

namespace mh::registry::internal {
namespace {

// Longest id, name, location, channel or field name accepted.
constexpr std::size_t kMaxTextBytes = 200;
constexpr std::size_t kMaxChannels = 64;
constexpr std::int64_t kMaxLearningWindows = 10'000'000;

struct Pos {
  std::uint32_t line = 0;
  std::uint32_t column = 0;
};
Pos PosOf(const toml::source_region& r) { return {r.begin.line, r.begin.column}; }

template <typename T>
struct Given {
  T value{};
  Pos pos;
};

// What one table ([defaults] or a machine) gives, each with where it does.
struct Fields {
  std::optional<Given<std::string>> name, location, model, rpm_field;
  std::optional<Given<double>> fs_hz, rpm;
  std::optional<Given<std::vector<std::string>>> channels;
  std::optional<Given<SampleUnit>> unit;
  std::optional<Given<Bearing>> bearing;
  std::optional<Given<features::IsoGroup>> iso_group;
  std::optional<Given<features::Foundation>> foundation;
  std::optional<Given<Learning>> learning;
  std::optional<Given<int>> alarm_k, alarm_n, alarm_m;
  std::optional<Given<score::ThresholdRule>> rule;
  std::optional<Given<double>> q, z, margin;
};

class Problems {
 public:
  explicit Problems(std::string file) : file_(std::move(file)) {}

  void Add(Pos pos, const std::string& key, const std::string& problem,
           const std::string& hint = "") {
    // Bounded memory for a hostile file; past the cap only the count grows.
    if (lines_.size() >= kKeptProblems) {
      ++dropped_;
      return;
    }
    std::string line = file_ + ":" + std::to_string(pos.line) + ":" + std::to_string(pos.column) +
                       ": " + (key.empty() ? "" : key + ": ") + problem;
    if (!hint.empty()) line += " (" + hint + ")";
    lines_.push_back({pos, std::move(line)});
  }
  bool empty() const { return lines_.empty(); }
  // In file order (toml++ hands keys over sorted by name), the first
  // kMaxReportedProblems of them.
  Status ToStatus() {
    std::stable_sort(lines_.begin(), lines_.end(), [](const Line& a, const Line& b) {
      return a.pos.line != b.pos.line ? a.pos.line < b.pos.line : a.pos.column < b.pos.column;
    });
    std::string msg;
    const std::size_t shown = std::min(lines_.size(), kMaxReportedProblems);
    for (std::size_t i = 0; i < shown; ++i) msg += (i ? "\n" : "") + lines_[i].text;
    if (lines_.size() + dropped_ > shown) {
      msg += "\n... and " + std::to_string(lines_.size() + dropped_ - shown) + " more";
    }
    return Status::InvalidArgument(msg);
  }

 private:
  struct Line {
    Pos pos;
    std::string text;
  };
  std::string file_;
  static constexpr std::size_t kKeptProblems = 1000;
  std::vector<Line> lines_;
  std::size_t dropped_ = 0;
};

// The value as text for "got ..." (bounded).
std::string Shown(const toml::node& n) {
  if (const auto* s = n.as_string()) return QuoteForMessage(s->get(), 40);
  if (const auto* i = n.as_integer()) return std::to_string(i->get());
  if (const auto* f = n.as_floating_point()) return FormatDouble(f->get());
  if (const auto* b = n.as_boolean()) return b->get() ? "true" : "false";
  return TomlTypeName(n);
}

std::size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// "did you mean 'fs_hz'? " when a known key is close, then the list.
std::string KnownKeysHint(std::string_view key, std::initializer_list<const char*> known) {
  std::string hint;
  const char* best = nullptr;
  std::size_t best_d = 3;
  if (key.size() <= 64) {
    for (const char* k : known) {
      const std::size_t d = EditDistance(key, k);
      if (d < best_d) best_d = d, best = k;
    }
  }
  if (best) hint = "did you mean '" + std::string(best) + "'? ";
  hint += "known keys:";
  bool first = true;
  for (const char* k : known) {
    hint += (first ? " " : ", ") + std::string(k);
    first = false;
  }
  return hint;
}

bool HasControl(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) == 0x7f;
  });
}

// Reads the value of one key of a machine or [defaults] table.
class TableReader {
 public:
  TableReader(Problems* problems, std::string prefix) : p_(problems), prefix_(std::move(prefix)) {}

  std::string Path(std::string_view key) const { return prefix_ + "." + TomlKey(key); }

  std::optional<double> Number(const toml::node& n, const std::string& key, const char* hint) {
    double v;
    if (const auto* i = n.as_integer()) {
      v = static_cast<double>(i->get());
    } else if (const auto* f = n.as_floating_point()) {
      v = f->get();
    } else {
      p_->Add(PosOf(n.source()), key, std::string("expected a number, got ") + TomlTypeName(n),
              hint);
      return std::nullopt;
    }
    if (!std::isfinite(v)) {
      p_->Add(PosOf(n.source()), key, "expected a finite number, got " + Shown(n), hint);
      return std::nullopt;
    }
    return v;
  }

  // A number with lo < v <= hi (lo_open) or lo <= v <= hi.
  std::optional<double> Ranged(const toml::node& n, const std::string& key, double lo, bool lo_open,
                               double hi, bool hi_open, const std::string& range,
                               const char* hint) {
    auto v = Number(n, key, hint);
    if (!v) return v;
    const bool ok = (lo_open ? *v > lo : *v >= lo) && (hi_open ? *v < hi : *v <= hi);
    if (!ok) {
      p_->Add(PosOf(n.source()), key, "expected a number " + range + ", got " + Shown(n), hint);
      return std::nullopt;
    }
    return v;
  }

  std::optional<std::int64_t> Integer(const toml::node& n, const std::string& key, std::int64_t lo,
                                      std::int64_t hi, const char* hint) {
    const auto* i = n.as_integer();
    if (i == nullptr) {
      p_->Add(PosOf(n.source()), key,
              std::string("expected an integer in ") + std::to_string(lo) + ".." +
                  std::to_string(hi) + ", got " +
                  (n.is_floating_point() ? Shown(n) : TomlTypeName(n)),
              hint);
      return std::nullopt;
    }
    if (i->get() < lo || i->get() > hi) {
      p_->Add(PosOf(n.source()), key,
              "expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi) +
                  ", got " + Shown(n),
              hint);
      return std::nullopt;
    }
    return i->get();
  }

  std::optional<std::string> Text(const toml::node& n, const std::string& key, bool allow_empty,
                                  const char* hint) {
    const auto* s = n.as_string();
    if (s == nullptr) {
      p_->Add(PosOf(n.source()), key, std::string("expected a string, got ") + TomlTypeName(n),
              hint);
      return std::nullopt;
    }
    const std::string& v = s->get();
    if (v.empty() && !allow_empty) {
      p_->Add(PosOf(n.source()), key, "expected a non-empty string", hint);
      return std::nullopt;
    }
    if (v.size() > kMaxTextBytes || HasControl(v)) {
      p_->Add(PosOf(n.source()), key,
              "expected at most " + std::to_string(kMaxTextBytes) +
                  " bytes without control characters, got " + QuoteForMessage(v, 40),
              hint);
      return std::nullopt;
    }
    return v;
  }

  template <typename Fn>
  void SubTable(const toml::node& n, const std::string& key, const char* hint,
                std::initializer_list<const char*> known, Fn&& on_key) {
    const auto* t = n.as_table();
    if (t == nullptr) {
      p_->Add(PosOf(n.source()), key, std::string("expected a table, got ") + TomlTypeName(n),
              hint);
      return;
    }
    for (auto&& [k, v] : *t) {
      const std::string sub = key + "." + TomlKey(k.str());
      // (Not capturing the binding itself: clang before 16 refuses that.)
      const std::string_view name = k.str();
      if (std::find_if(known.begin(), known.end(), [name](const char* x) { return name == x; }) ==
          known.end()) {
        p_->Add(PosOf(k.source()), sub, "unknown key", KnownKeysHint(k.str(), known));
        continue;
      }
      on_key(k.str(), v, sub);
    }
  }

  Problems* problems() { return p_; }

 private:
  Problems* p_;
  std::string prefix_;
};

constexpr std::initializer_list<const char*> kMachineKeys = {
    "name",    "location",  "fs_hz",      "channels", "unit",  "rpm",       "rpm_field",
    "bearing", "iso_group", "foundation", "learning", "alarm", "threshold", "model"};

void ReadBearing(TableReader& r, const toml::node& n, const std::string& key,
                 std::optional<Given<Bearing>>* out) {
  const char* hint =
      "a built-in name (\"6205\", \"za2115\", \"femto\"), \"none\", or the geometry: bearing = "
      "{ rolling_elements = 9, element_diameter = 7.94, pitch_diameter = 39.04, "
      "contact_angle_deg = 0 }";
  Problems* p = r.problems();
  Bearing b;
  if (const auto* s = n.as_string()) {
    if (s->get() == "none") {
      *out = Given<Bearing>{b, PosOf(n.source())};
      return;
    }
    auto g = features::LookupBearing(s->get());
    if (!g.ok()) {
      p->Add(
          PosOf(n.source()), key,
          "unknown bearing " + QuoteForMessage(s->get(), 40) + " (built in: 6205, za2115, femto)",
          "give a built-in name, \"none\", or the geometry as a table with rolling_elements, "
          "element_diameter, pitch_diameter and contact_angle_deg");
      return;
    }
    b.name = s->get();
    b.geometry = *g;
    *out = Given<Bearing>{b, PosOf(n.source())};
    return;
  }
  if (!n.is_table()) {
    p->Add(PosOf(n.source()), key,
           std::string("expected a string or a table, got ") + TomlTypeName(n), hint);
    return;
  }
  features::BearingGeometry g;
  bool has_z = false, has_d = false, has_pd = false, bad = false;
  Pos pd_pos;
  r.SubTable(n, key, hint,
             {"rolling_elements", "element_diameter", "pitch_diameter", "contact_angle_deg"},
             [&](std::string_view k, const toml::node& v, const std::string& sub) {
               if (k == "rolling_elements") {
                 auto z = r.Integer(v, sub, 1, 1000, "the number of balls or rollers per row");
                 if (z) g.rolling_elements = static_cast<int>(*z), has_z = true;
                 bad |= !z;
               } else if (k == "element_diameter") {
                 auto d = r.Ranged(v, sub, 0, true, 1e6, false, "> 0",
                                   "the ball diameter d, in the unit of pitch_diameter");
                 if (d) g.element_diameter = *d, has_d = true;
                 bad |= !d;
               } else if (k == "pitch_diameter") {
                 auto d = r.Ranged(v, sub, 0, true, 1e6, false, "> 0",
                                   "the pitch (mean) diameter D, in the unit of element_diameter");
                 if (d) g.pitch_diameter = *d, has_pd = true, pd_pos = PosOf(v.source());
                 bad |= !d;
               } else {
                 auto a = r.Ranged(v, sub, 0, false, 90, true, "in [0, 90)",
                                   "the contact angle in degrees, 0 for deep-groove ball bearings");
                 if (a) g.contact_angle_deg = *a;
                 bad |= !a;
               }
             });
  if (bad) return;
  if (!has_z || !has_d || !has_pd) {
    std::string missing;
    for (auto [has, name] :
         {std::pair{has_z, "rolling_elements"}, std::pair{has_d, "element_diameter"},
          std::pair{has_pd, "pitch_diameter"}}) {
      if (!has) missing += (missing.empty() ? "" : ", ") + std::string(name);
    }
    p->Add(PosOf(n.source()), key, "bearing geometry lacks " + missing, hint);
    return;
  }
  if (!(g.pitch_diameter > g.element_diameter)) {
    p->Add(pd_pos, key + ".pitch_diameter",
           "expected more than element_diameter (" + FormatDouble(g.element_diameter) + "), got " +
               FormatDouble(g.pitch_diameter),
           "D is the pitch diameter of the ball set, d the diameter of one ball");
    return;
  }
  b.name = "custom";
  b.geometry = g;
  *out = Given<Bearing>{b, PosOf(n.source())};
}

void ReadIsoGroup(TableReader& r, const toml::node& n, const std::string& key,
                  std::optional<Given<features::IsoGroup>>* out) {
  const char* hint =
      "ISO 20816-3 group 1 (large machines, 300 kW to 50 MW) or 2 (medium machines, 15 kW to "
      "300 kW): iso_group = 2 or \"group2\"";
  int g = 0;
  if (const auto* i = n.as_integer()) {
    g = i->get() == 1 || i->get() == 2 ? static_cast<int>(i->get()) : 0;
  } else if (const auto* s = n.as_string()) {
    std::string t = AsciiLower(s->get());
    t.erase(std::remove(t.begin(), t.end(), ' '), t.end());
    if (t == "1" || t == "group1") g = 1;
    if (t == "2" || t == "group2") g = 2;
  } else {
    r.problems()->Add(PosOf(n.source()), key,
                      std::string("expected an integer or a string, got ") + TomlTypeName(n), hint);
    return;
  }
  if (g == 0) {
    const bool pumps = n.is_integer() && (n.as_integer()->get() == 3 || n.as_integer()->get() == 4);
    r.problems()->Add(PosOf(n.source()), key,
                      "unknown group " + Shown(n) +
                          (pumps ? " (groups 3 and 4 of ISO 10816-3, pumps, are not in ISO "
                                   "20816-3 and not supported)"
                                 : ""),
                      hint);
    return;
  }
  *out = Given<features::IsoGroup>{static_cast<features::IsoGroup>(g), PosOf(n.source())};
}

void ReadLearning(TableReader& r, const toml::node& n, const std::string& key,
                  std::optional<Given<Learning>>* out) {
  const char* hint = "a number of windows (learning = 300) or a duration (learning = \"10m\")";
  Learning l;
  if (n.is_integer()) {
    auto w = r.Integer(n, key, 1, kMaxLearningWindows, hint);
    if (!w) return;
    l.in_windows = true;
    l.windows = static_cast<std::size_t>(*w);
  } else if (const auto* s = n.as_string()) {
    auto d = ParseDuration(s->get());
    if (!d.ok() || d->count() <= 0) {
      r.problems()->Add(PosOf(n.source()), key,
                        "expected a duration > 0, got " + QuoteForMessage(s->get(), 40), hint);
      return;
    }
    l.in_windows = false;
    l.duration = *d;
  } else {
    r.problems()->Add(PosOf(n.source()), key,
                      std::string("expected an integer or a string, got ") + TomlTypeName(n), hint);
    return;
  }
  *out = Given<Learning>{l, PosOf(n.source())};
}

constexpr const char* kRuleNames = "\"auto\", \"quantile\", \"quantile-margin\" or \"robust-z\"";

void ReadThreshold(TableReader& r, const toml::node& n, const std::string& key, Fields* f) {
  const char* hint =
      "threshold = { rule = \"quantile-margin\", q = 0.005, margin = 0.05 }; rules: auto, "
      "quantile (q), quantile-margin (q, margin), robust-z (z)";
  r.SubTable(n, key, hint, {"rule", "q", "margin", "z"},
             [&](std::string_view k, const toml::node& v, const std::string& sub) {
               const Pos pos = PosOf(v.source());
               if (k == "rule") {
                 auto s = r.Text(v, sub, false, kRuleNames);
                 if (!s) return;
                 auto rule = score::ParseThresholdRule(*s);
                 if (rule.ok()) {
                   f->rule = Given<score::ThresholdRule>{*rule, pos};
                 } else {
                   r.problems()->Add(pos, sub, "unknown rule " + QuoteForMessage(*s, 40),
                                     kRuleNames);
                 }
               } else if (k == "q") {
                 auto q = r.Ranged(v, sub, 0, true, 0.5, false, "in (0, 0.5]",
                                   "the share of training scores below the threshold, e.g. "
                                   "q = 0.005");
                 if (q) f->q = Given<double>{*q, pos};
               } else if (k == "z") {
                 auto z = r.Ranged(v, sub, 0, true, 1e6, false, "in (0, 1e6]",
                                   "robust standard deviations below the median, e.g. z = 6");
                 if (z) f->z = Given<double>{*z, pos};
               } else {
                 auto m = r.Ranged(v, sub, 0, false, 1e6, false, "in [0, 1e6]",
                                   "how far below the q-quantile the threshold goes, in units "
                                   "of decision_function, e.g. margin = 0.05");
                 if (m) f->margin = Given<double>{*m, pos};
               }
             });
}

// Reads the keys of one machine or [defaults] table.
Fields ReadFields(const toml::table& table, const std::string& prefix, bool is_defaults,
                  Problems* p) {
  TableReader r(p, prefix);
  Fields f;
  for (auto&& [k, v] : table) {
    const std::string key = r.Path(k.str());
    const std::string_view name = k.str();
    const Pos pos = PosOf(v.source());
    if (name == "name") {
      if (is_defaults) {
        p->Add(PosOf(k.source()), key, "a name is per machine",
               "remove it from [defaults]; a machine without a name shows its id");
        continue;
      }
      if (auto s = r.Text(v, key, false, "the machine's display name, e.g. name = \"Pump 7\"")) {
        f.name = Given<std::string>{*s, pos};
      }
    } else if (name == "location") {
      if (auto s = r.Text(v, key, true, "free text, e.g. location = \"hall 2, line B\"")) {
        f.location = Given<std::string>{*s, pos};
      }
    } else if (name == "fs_hz") {
      if (auto x = r.Ranged(v, key, 0, true, 1e7, false, "in (0, 1e7]",
                            "the sampling rate in Hz, e.g. fs_hz = 25600")) {
        f.fs_hz = Given<double>{*x, pos};
      }
    } else if (name == "channels") {
      const char* hint = "the channel names, e.g. channels = [\"ax\", \"ay\", \"az\"]";
      const auto* a = v.as_array();
      if (a == nullptr) {
        p->Add(pos, key, std::string("expected an array of strings, got ") + TomlTypeName(v), hint);
        continue;
      }
      if (a->empty() || a->size() > kMaxChannels) {
        p->Add(pos, key,
               "expected 1.." + std::to_string(kMaxChannels) + " channel names, got " +
                   std::to_string(a->size()),
               hint);
        continue;
      }
      std::vector<std::string> names;
      bool ok = true;
      for (std::size_t i = 0; i < a->size(); ++i) {
        const std::string item = key + "[" + std::to_string(i) + "]";
        auto s = r.Text((*a)[i], item, false, hint);
        if (!s) {
          ok = false;
          continue;
        }
        if (std::find(names.begin(), names.end(), *s) != names.end()) {
          p->Add(PosOf((*a)[i].source()), item,
                 "channel " + QuoteForMessage(*s, 40) + " given twice", "name each channel once");
          ok = false;
          continue;
        }
        names.push_back(*s);
      }
      if (ok) f.channels = Given<std::vector<std::string>>{names, pos};
    } else if (name == "unit") {
      if (auto s = r.Text(v, key, false, "\"g\" or \"m/s^2\"")) {
        auto u = ParseSampleUnit(*s);
        if (u.ok() && *u == SampleUnit::kMillimetersPerS) {
          p->Add(pos, key, "unit \"mm/s\" (velocity) is not supported yet",
                 "the pipeline takes acceleration: \"g\" or \"m/s^2\"");
        } else if (u.ok()) {
          f.unit = Given<SampleUnit>{*u, pos};
        } else {
          p->Add(pos, key, "unknown unit " + QuoteForMessage(*s, 40), "\"g\" or \"m/s^2\"");
        }
      }
    } else if (name == "rpm") {
      if (auto x = r.Ranged(v, key, 0, true, 1e6, false, "in (0, 1e6]",
                            "the fixed shaft speed in revolutions per minute, e.g. rpm = 1797")) {
        f.rpm = Given<double>{*x, pos};
      }
    } else if (name == "rpm_field") {
      if (auto s = r.Text(v, key, false,
                          "the name of the event field carrying the shaft speed in rpm")) {
        f.rpm_field = Given<std::string>{*s, pos};
      }
    } else if (name == "bearing") {
      ReadBearing(r, v, key, &f.bearing);
    } else if (name == "iso_group") {
      ReadIsoGroup(r, v, key, &f.iso_group);
    } else if (name == "foundation") {
      if (auto s = r.Text(v, key, false, "\"rigid\" or \"flexible\"")) {
        if (*s == "rigid") {
          f.foundation = Given<features::Foundation>{features::Foundation::kRigid, pos};
        } else if (*s == "flexible") {
          f.foundation = Given<features::Foundation>{features::Foundation::kFlexible, pos};
        } else {
          p->Add(pos, key, "unknown foundation " + QuoteForMessage(*s, 40),
                 "\"rigid\" or \"flexible\"");
        }
      }
    } else if (name == "learning") {
      ReadLearning(r, v, key, &f.learning);
    } else if (name == "alarm") {
      r.SubTable(v, key, "alarm = { k = 3, n = 5, m = 5 }", {"k", "n", "m"},
                 [&](std::string_view sk, const toml::node& sv, const std::string& sub) {
                   const char* hint = sk == "k"   ? "anomalous windows among the last n that open "
                                                    "an alarm, k <= n"
                                      : sk == "n" ? "the windows looked back on, n >= k"
                                                  : "consecutive normal windows that close an "
                                                    "alarm";
                   auto x = r.Integer(sv, sub, 1, alarm::kMaxAlarmWindows, hint);
                   if (!x) return;
                   Given<int> g{static_cast<int>(*x), PosOf(sv.source())};
                   (sk == "k" ? f.alarm_k : sk == "n" ? f.alarm_n : f.alarm_m) = g;
                 });
    } else if (name == "threshold") {
      ReadThreshold(r, v, key, &f);
    } else if (name == "model") {
      if (auto s = r.Text(v, key, false,
                          "a model file from `machine-health train` or a scikit-learn .joblib")) {
        f.model = Given<std::string>{*s, pos};
      }
    } else {
      p->Add(PosOf(k.source()), key, "unknown key", KnownKeysHint(name, kMachineKeys));
    }
  }
  if (f.rpm && f.rpm_field) {
    const Pos later = std::max(f.rpm->pos.line, f.rpm_field->pos.line) == f.rpm->pos.line
                          ? f.rpm->pos
                          : f.rpm_field->pos;
    p->Add(later, prefix, "rpm and rpm_field are both given",
           "give either rpm (a fixed shaft speed) or rpm_field (the event field carrying it), "
           "not both");
  }
  return f;
}

// `f` over `base`, then the checks that need both; `prefix` names the table.
MachineConfig Apply(const MachineConfig& base, const Fields& f, const std::string& prefix,
                    const std::filesystem::path& base_dir, const ParseOptions& options,
                    Problems* p) {
  MachineConfig m = base;
  if (f.name) m.name = f.name->value;
  if (f.location) m.location = f.location->value;
  if (f.fs_hz) m.fs_hz = f.fs_hz->value;
  if (f.channels) m.channels = f.channels->value;
  if (f.unit) m.unit = f.unit->value;
  if (f.rpm) {
    m.shaft = ShaftSpeed{};
    m.shaft.source = ShaftSpeedSource::kFixed;
    m.shaft.rpm = f.rpm->value;
  } else if (f.rpm_field) {
    m.shaft = ShaftSpeed{};
    m.shaft.source = ShaftSpeedSource::kEventField;
    m.shaft.field = f.rpm_field->value;
  }
  if (f.bearing) m.bearing = f.bearing->value;
  if (f.iso_group) m.iso_group = f.iso_group->value;
  if (f.foundation) m.foundation = f.foundation->value;
  if (f.learning) m.learning = f.learning->value;
  if (f.alarm_k) m.alarm.k = f.alarm_k->value;
  if (f.alarm_n) m.alarm.n = f.alarm_n->value;
  if (f.alarm_m) m.alarm.m = f.alarm_m->value;
  if (f.rule) m.threshold.rule = f.rule->value;
  if (f.q) m.threshold.q = f.q->value;
  if (f.z) m.threshold.z = f.z->value;
  if (f.margin) m.threshold.margin = f.margin->value;

  if ((f.alarm_k || f.alarm_n) && m.alarm.k > m.alarm.n) {
    const bool at_k = f.alarm_k.has_value();
    p->Add(at_k ? f.alarm_k->pos : f.alarm_n->pos, prefix + (at_k ? ".alarm.k" : ".alarm.n"),
           "k = " + std::to_string(m.alarm.k) + " is more than n = " + std::to_string(m.alarm.n),
           "k anomalous windows among the last n: give k <= n");
  }
  // A parameter the table's rule does not use is a mistake (a typo'd rule,
  // or one changed without its parameters).
  const score::ThresholdRule rule = m.threshold.rule;
  const std::string rule_name = score::ThresholdRuleName(rule);
  const bool uses_q =
      rule == score::ThresholdRule::kQuantile || rule == score::ThresholdRule::kQuantileMargin;
  if (f.q && !uses_q) {
    p->Add(f.q->pos, prefix + ".threshold.q",
           "q applies to rules \"quantile\" and \"quantile-margin\", but the rule is \"" +
               rule_name + "\"",
           "remove q or change the rule");
  }
  if (f.margin && rule != score::ThresholdRule::kQuantileMargin) {
    p->Add(f.margin->pos, prefix + ".threshold.margin",
           "margin applies to rule \"quantile-margin\", but the rule is \"" + rule_name + "\"",
           "remove margin or set rule = \"quantile-margin\"");
  }
  if (f.z && rule != score::ThresholdRule::kRobustZ) {
    p->Add(f.z->pos, prefix + ".threshold.z",
           "z applies to rule \"robust-z\", but the rule is \"" + rule_name + "\"",
           "remove z or set rule = \"robust-z\"");
  }
  if (f.model) {
    std::filesystem::path path(f.model->value);
    if (path.is_relative() && !base_dir.empty()) path = base_dir / path;
    m.model = path.lexically_normal().string();
    if (options.check_model_files) {
      std::error_code ec;
      if (!std::filesystem::is_regular_file(path, ec)) {
        p->Add(f.model->pos, prefix + ".model", "no such file " + QuoteForMessage(m.model, 120),
               "a model file from `machine-health train` or a scikit-learn .joblib; relative "
               "paths are from the machines file's folder");
      }
    }
  }
  // Derived values.
  if (m.shaft.source == ShaftSpeedSource::kFixed) m.shaft.shaft_hz = m.shaft.rpm / 60.0;
  m.bearing.frequencies.reset();
  if (m.bearing.geometry && m.shaft.source == ShaftSpeedSource::kFixed) {
    auto fr = features::ComputeBearingFrequencies(*m.bearing.geometry, m.shaft.shaft_hz);
    if (fr.ok()) m.bearing.frequencies = *fr;
  }
  return m;
}

// "cannot redefine existing table 'machines.m1'": the line where that table
// was first defined, by parsing the text before the second definition.
std::uint32_t FirstDefinitionLine(std::string_view text, std::uint32_t error_line,
                                  const std::string& id) {
  std::size_t cut = 0;
  for (std::uint32_t line = 1; line < error_line && cut < text.size(); ++line) {
    const std::size_t nl = text.find('\n', cut);
    if (nl == std::string_view::npos) return 0;
    cut = nl + 1;
  }
  try {
    toml::table head = toml::parse(text.substr(0, cut), std::string_view{});
    const toml::table* machines = head["machines"].as_table();
    if (machines == nullptr) return 0;
    const toml::node* m = machines->get(id);
    return m ? m->source().begin.line : 0;
  } catch (const std::exception&) {
    return 0;
  }
}

// The keys of the table header on line `line` ("[machines.\"a.b\"]" ->
// machines, a.b), read by toml++ itself; empty if that line is no header.
std::vector<std::string> HeaderKeys(std::string_view text, std::uint32_t line) {
  std::size_t begin = 0;
  for (std::uint32_t l = 1; l < line; ++l) {
    begin = text.find('\n', begin);
    if (begin == std::string_view::npos) return {};
    ++begin;
  }
  std::size_t end = text.find('\n', begin);
  if (end == std::string_view::npos) end = text.size();
  std::vector<std::string> keys;
  try {
    toml::table header = toml::parse(text.substr(begin, end - begin), std::string_view{});
    const toml::table* t = &header;
    while (t->size() == 1 && t->begin()->second.is_table()) {
      keys.emplace_back(t->begin()->first.str());
      t = t->begin()->second.as_table();
    }
    if (!t->empty()) return {};
  } catch (const std::exception&) {
    return {};
  }
  return keys;
}

void ReportSyntax(const toml::parse_error& e, std::string_view text, Problems* p) {
  const Pos pos = PosOf(e.source());
  const std::string desc = TomlMessage(e.description());
  if (desc.find("cannot redefine existing table") != std::string::npos) {
    // A second [machines.<id>]: name the id (read from the header, as
    // toml++'s message may show a quoted id oddly) and where it came first.
    const std::vector<std::string> keys = HeaderKeys(text, pos.line);
    if (keys.size() == 2 && keys[0] == "machines") {
      const std::uint32_t first = FirstDefinitionLine(text, pos.line, keys[1]);
      p->Add(pos, "machines." + TomlKey(keys[1]),
             "duplicate machine id " + QuoteForMessage(keys[1], 60) +
                 (first ? ", first defined at line " + std::to_string(first) : ""),
             "give each machine one [machines.<id>] table: merge the two or rename one");
      return;
    }
    p->Add(pos, "", "syntax: " + desc,
           "each table appears once; see docs/machines.md for the layout");
    return;
  }
  p->Add(pos, "", "syntax: " + desc, "see docs/machines.md for the layout");
}

}  // namespace

Result<MachinesFile> ParseMachinesFile(std::string_view text, std::string_view file_name,
                                       const ParseOptions& options) {
  Problems p{std::string(file_name)};
  toml::table root;
  try {
    root = toml::parse(text, file_name);
  } catch (const toml::parse_error& e) {
    ReportSyntax(e, text, &p);
    return p.ToStatus();
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string(file_name) + ": cannot parse: " + e.what());
  }
  const std::filesystem::path base_dir = std::filesystem::path(file_name).parent_path();

  MachinesFile out;
  out.defaults = options.base;
  out.defaults.id.clear();
  out.defaults.name.clear();
  out.defaults.from_file = false;
  const toml::table* defaults = nullptr;
  const toml::table* machines = nullptr;
  for (auto&& [k, v] : root) {
    if (k.str() == "defaults" || k.str() == "machines") {
      if (!v.is_table()) {
        p.Add(PosOf(v.source()), std::string(k.str()),
              std::string("expected a table, got ") + TomlTypeName(v),
              k.str() == "defaults" ? "[defaults] holds the fields every machine inherits"
                                    : "each machine is a [machines.<id>] table");
        continue;
      }
      (k.str() == "defaults" ? defaults : machines) = v.as_table();
      continue;
    }
    std::string hint = "the file has [defaults] and [machines.<id>] tables only";
    if (v.is_table()) hint = "a machine is a table [machines." + TomlKey(k.str()) + "]";
    p.Add(PosOf(k.source()), TomlKey(k.str()), "unknown key", hint);
  }

  if (defaults != nullptr) {
    Fields f = ReadFields(*defaults, "defaults", true, &p);
    out.defaults = Apply(out.defaults, f, "defaults", base_dir, options, &p);
  }
  if (machines != nullptr) {
    struct Entry {
      Pos pos;
      std::string id;
      const toml::table* table;
    };
    std::vector<Entry> entries;
    for (auto&& [k, v] : *machines) {
      const std::string id(k.str());
      const std::string key = "machines." + TomlKey(id);
      if (id.empty() || id.size() > kMaxTextBytes || HasControl(id)) {
        p.Add(PosOf(k.source()), key,
              "a machine id must be 1.." + std::to_string(kMaxTextBytes) +
                  " bytes without control characters",
              "the id the sensor's events carry, e.g. [machines.pump-7]");
        continue;
      }
      if (!v.is_table()) {
        p.Add(PosOf(v.source()), key, std::string("expected a table, got ") + TomlTypeName(v),
              "each machine is a [machines.<id>] table");
        continue;
      }
      entries.push_back({PosOf(v.source()), id, v.as_table()});
    }
    // toml++ keeps keys sorted; the registry lists machines in file order.
    std::stable_sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
      return a.pos.line != b.pos.line ? a.pos.line < b.pos.line : a.pos.column < b.pos.column;
    });
    for (const Entry& e : entries) {
      const std::string prefix = "machines." + TomlKey(e.id);
      Fields f = ReadFields(*e.table, prefix, false, &p);
      MachineConfig m = Apply(out.defaults, f, prefix, base_dir, options, &p);
      m.id = e.id;
      if (!f.name) m.name = e.id;
      m.from_file = true;
      m.first_seen_ns = 0;
      m.file_line = static_cast<int>(e.pos.line);
      out.machines.push_back(std::move(m));
    }
  }
  if (!p.empty()) return p.ToStatus();
  return out;
}

}  // namespace mh::registry::internal
