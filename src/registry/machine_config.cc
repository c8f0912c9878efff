#include "registry/machine_config.h"

#include <cmath>
#include <string>

#include "core/strings.h"
#include "core/time_util.h"

namespace mh::registry {

const char* SampleUnitName(SampleUnit unit) {
  switch (unit) {
    case SampleUnit::kG:
      return "g";
    case SampleUnit::kMetersPerS2:
      return "m/s^2";
    case SampleUnit::kMillimetersPerS:
      return "mm/s";
  }
  return "?";
}

Result<SampleUnit> ParseSampleUnit(std::string_view text) {
  if (text == "g") return SampleUnit::kG;
  if (text == "m/s^2" || text == "m/s2" || text == "m/s\u00b2") return SampleUnit::kMetersPerS2;
  if (text == "mm/s") return SampleUnit::kMillimetersPerS;
  return Status::InvalidArgument("unknown unit " + QuoteForMessage(text) +
                                 " (expected \"g\", \"m/s^2\" or \"mm/s\")");
}

std::size_t LearningWindows(const Learning& learning, std::chrono::nanoseconds hop) {
  if (learning.in_windows) return learning.windows;
  if (hop.count() <= 0) return 1;
  const std::int64_t n = (learning.duration.count() + hop.count() - 1) / hop.count();
  return n < 1 ? 1 : static_cast<std::size_t>(n);
}

std::string LearningText(const Learning& learning) {
  if (learning.in_windows) return std::to_string(learning.windows) + " windows";
  // Largest units first; "1h30m", "90ms", "2.5s" is "2s500ms".
  std::int64_t ns = learning.duration.count();
  if (ns <= 0) return "0s";
  struct Unit {
    const char* name;
    std::int64_t ns;
  };
  static constexpr Unit kUnits[] = {{"d", 86'400'000'000'000},
                                    {"h", 3'600'000'000'000},
                                    {"m", 60'000'000'000},
                                    {"s", 1'000'000'000},
                                    {"ms", 1'000'000},
                                    {"us", 1'000},
                                    {"ns", 1}};
  std::string out;
  for (const Unit& u : kUnits) {
    if (ns >= u.ns) {
      out += std::to_string(ns / u.ns) + u.name;
      ns %= u.ns;
    }
  }
  return out;
}

features::StreamShape StreamShapeOf(const MachineConfig& m) {
  features::StreamShape shape;
  shape.fs_hz = m.fs_hz;
  shape.channels = m.channels;
  if (m.shaft.source == ShaftSpeedSource::kFixed) shape.shaft_rpm = m.shaft.rpm;
  shape.bearing = m.bearing.geometry;
  return shape;
}

namespace {

void Key(std::string_view key, std::string* out) {
  AppendJsonString(key, out);
  out->push_back(':');
}

void Number(double v, std::string* out) {
  if (std::isfinite(v)) {
    AppendJsonNumber(v, out);
  } else {
    *out += "null";
  }
}

}  // namespace

std::string MachineJson(const MachineConfig& m) {
  std::string o = "{";
  Key("id", &o);
  AppendJsonString(m.id, &o);
  o += ',';
  Key("name", &o);
  AppendJsonString(m.name, &o);
  o += ',';
  Key("location", &o);
  AppendJsonString(m.location, &o);
  o += ',';
  Key("from_file", &o);
  o += m.from_file ? "true" : "false";
  o += ',';
  Key("first_seen", &o);
  if (m.first_seen_ns != 0) {
    AppendJsonString(FormatRfc3339(m.first_seen_ns, 3), &o);
  } else {
    o += "null";
  }
  o += ',';
  Key("fs_hz", &o);
  if (m.fs_hz > 0) {
    Number(m.fs_hz, &o);
  } else {
    o += "null";
  }
  o += ',';
  Key("channels", &o);
  o += '[';
  for (std::size_t i = 0; i < m.channels.size(); ++i) {
    if (i) o += ',';
    AppendJsonString(m.channels[i], &o);
  }
  o += "],";
  Key("unit", &o);
  AppendJsonString(SampleUnitName(m.unit), &o);
  o += ',';

  Key("shaft", &o);
  o += '{';
  Key("source", &o);
  static constexpr const char* kSources[] = {"none", "fixed", "event_field"};
  AppendJsonString(kSources[static_cast<int>(m.shaft.source)], &o);
  o += ',';
  Key("rpm", &o);
  if (m.shaft.source == ShaftSpeedSource::kFixed) {
    Number(m.shaft.rpm, &o);
    o += ',';
    Key("shaft_hz", &o);
    Number(m.shaft.shaft_hz, &o);
  } else {
    o += "null,";
    Key("shaft_hz", &o);
    o += "null";
  }
  o += ',';
  Key("rpm_field", &o);
  if (m.shaft.source == ShaftSpeedSource::kEventField) {
    AppendJsonString(m.shaft.field, &o);
  } else {
    o += "null";
  }
  o += "},";

  Key("bearing", &o);
  if (m.bearing.geometry) {
    const features::BearingGeometry& g = *m.bearing.geometry;
    o += '{';
    Key("name", &o);
    AppendJsonString(m.bearing.name, &o);
    o += ',';
    Key("rolling_elements", &o);
    o += std::to_string(g.rolling_elements);
    o += ',';
    Key("element_diameter", &o);
    Number(g.element_diameter, &o);
    o += ',';
    Key("pitch_diameter", &o);
    Number(g.pitch_diameter, &o);
    o += ',';
    Key("contact_angle_deg", &o);
    Number(g.contact_angle_deg, &o);
    o += ',';
    Key("frequencies_hz", &o);
    if (m.bearing.frequencies) {
      const features::BearingFrequencies& f = *m.bearing.frequencies;
      o += '{';
      Key("ftf", &o);
      Number(f.ftf_hz, &o);
      o += ',';
      Key("bpfo", &o);
      Number(f.bpfo_hz, &o);
      o += ',';
      Key("bpfi", &o);
      Number(f.bpfi_hz, &o);
      o += ',';
      Key("bsf", &o);
      Number(f.bsf_hz, &o);
      o += '}';
    } else {
      o += "null";
    }
    o += '}';
  } else {
    o += "null";
  }
  o += ',';

  Key("iso_group", &o);
  o += std::to_string(static_cast<int>(m.iso_group));
  o += ',';
  Key("foundation", &o);
  AppendJsonString(m.foundation == features::Foundation::kRigid ? "rigid" : "flexible", &o);
  o += ',';

  Key("learning", &o);
  o += '{';
  Key("windows", &o);
  o += m.learning.in_windows ? std::to_string(m.learning.windows) : "null";
  o += ',';
  Key("duration_s", &o);
  if (m.learning.in_windows) {
    o += "null";
  } else {
    Number(static_cast<double>(m.learning.duration.count()) / 1e9, &o);
  }
  o += "},";

  Key("alarm", &o);
  o += '{';
  Key("k", &o);
  o += std::to_string(m.alarm.k) + ',';
  Key("n", &o);
  o += std::to_string(m.alarm.n) + ',';
  Key("m", &o);
  o += std::to_string(m.alarm.m) + "},";

  Key("threshold", &o);
  o += '{';
  const score::ThresholdRule rule = m.threshold.rule;
  Key("rule", &o);
  AppendJsonString(score::ThresholdRuleName(rule), &o);
  o += ',';
  Key("q", &o);
  if (rule == score::ThresholdRule::kQuantile || rule == score::ThresholdRule::kQuantileMargin) {
    Number(m.threshold.q, &o);
  } else {
    o += "null";
  }
  o += ',';
  Key("margin", &o);
  if (rule == score::ThresholdRule::kQuantileMargin) {
    Number(m.threshold.margin, &o);
  } else {
    o += "null";
  }
  o += ',';
  Key("z", &o);
  if (rule == score::ThresholdRule::kRobustZ) {
    Number(m.threshold.z, &o);
  } else {
    o += "null";
  }
  o += "},";

  Key("model", &o);
  if (m.model.empty()) {
    o += "null";
  } else {
    AppendJsonString(m.model, &o);
  }
  o += '}';
  return o;
}

}  // namespace mh::registry
