#include "app/config_file.h"

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>

#include <toml++/toml.h>

#include "core/strings.h"
#include "core/toml_util.h"

namespace mh::app {
namespace {

// Options that are not configuration: help, version and --config itself.
bool Configurable(const CLI::App& app, const CLI::Option& o) {
  if (!o.nonpositional() || o.get_lnames().empty()) return false;
  if (&o == app.get_help_ptr() || &o == app.get_help_all_ptr() || &o == app.get_config_ptr()) {
    return false;
  }
  return o.get_lnames().front() != "version";
}

std::string Normalise(std::string key) {
  std::replace(key.begin(), key.end(), '_', '-');
  return key;
}

const CLI::Option* FindOption(const CLI::App& app, const std::string& key) {
  const std::string want = Normalise(key);
  for (const CLI::Option* o : app.get_options()) {
    if (!Configurable(app, *o)) continue;
    for (const std::string& l : o->get_lnames()) {
      if (Normalise(l) == want) return o;
    }
  }
  return nullptr;
}

CLI::App* FindCommand(CLI::App& app, const std::string& name) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == name) return sub;
  }
  return nullptr;
}

CLI::App* FindPath(CLI::App& root, const std::vector<std::string>& path) {
  CLI::App* app = &root;
  for (const std::string& p : path) {
    app = FindCommand(*app, p);
    if (app == nullptr) return nullptr;
  }
  return app;
}

std::string TableName(const std::vector<std::string>& path) {
  std::string s;
  for (const std::string& p : path) s += (s.empty() ? "" : ".") + TomlKey(p);
  return s;
}

// What an option takes, from CLI11's type name ("INT:INT in [1 - 1000]").
enum class Want : std::uint8_t { kFlag, kInteger, kNumber, kBoolean, kText };

Want WantOf(const CLI::Option& o) {
  if (o.get_expected_min() == 0) return Want::kFlag;  // as CLI11 reads config flags
  std::string type = o.get_type_name();
  type = type.substr(0, type.find(':'));
  if (type == "INT" || type == "UINT") return Want::kInteger;
  if (type == "FLOAT" || type == "NUMBER") return Want::kNumber;
  if (type == "BOOLEAN") return Want::kBoolean;
  return Want::kText;
}

const char* WantName(Want w) {
  switch (w) {
    case Want::kFlag:
    case Want::kBoolean:
      return "a boolean";
    case Want::kInteger:
      return "an integer";
    case Want::kNumber:
      return "a number";
    case Want::kText:
      return "a string";
  }
  return "a value";
}

bool Multi(const CLI::Option& o) { return o.get_items_expected_max() > 1; }

// One scalar for an option wanting `w`; nullopt when its type does not fit.
std::optional<ConfigScalar> ScalarFor(const toml::node& n, Want w) {
  using K = ConfigScalar::Kind;
  if (const auto* b = n.as_boolean()) {
    if (w != Want::kFlag && w != Want::kBoolean) return std::nullopt;
    return ConfigScalar{K::kBoolean, b->get() ? "true" : "false"};
  }
  if (const auto* i = n.as_integer()) {
    if (w == Want::kFlag || w == Want::kBoolean) return std::nullopt;
    return ConfigScalar{K::kInteger, std::to_string(i->get())};
  }
  if (const auto* f = n.as_floating_point()) {
    if (w != Want::kNumber && w != Want::kText) return std::nullopt;
    return ConfigScalar{K::kFloat, FormatDouble(f->get())};
  }
  if (const auto* s = n.as_string()) {
    if (w != Want::kText) return std::nullopt;
    return ConfigScalar{K::kString, s->get()};
  }
  return std::nullopt;
}

class Checker {
 public:
  Checker(std::string path, const CliBuilder& build) : path_(std::move(path)) {
    build(schema_, io_, action_);
  }

  ConfigFile Run(const std::string& text) {
    ConfigFile out;
    out.path = path_;
    toml::table root;
    try {
      root = toml::parse(text, path_);
    } catch (const toml::parse_error& e) {
      Add(e.source().begin.line, TomlMessage(e.description()), e.source().begin.column);
      return Finish(std::move(out));
    } catch (const std::exception& e) {
      Add(0, std::string("cannot parse: ") + e.what());
      return Finish(std::move(out));
    }
    Table(root, schema_, {});
    out.entries = std::move(entries_);
    std::stable_sort(out.entries.begin(), out.entries.end(),
                     [](const ConfigEntry& a, const ConfigEntry& b) { return a.line < b.line; });
    return Finish(std::move(out));
  }

  void AddRaw(const std::string& problem) { Add(0, problem); }
  ConfigFile Finish(ConfigFile out) {
    std::stable_sort(problems_.begin(), problems_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& p : problems_) {
      if (out.errors.size() < kMaxConfigErrors) {
        out.errors.push_back(std::move(p.second));
      } else {
        ++out.more_errors;
      }
    }
    return out;
  }

 private:
  // "config FILE:LINE: problem" (":LINE:COLUMN" for a syntax error; no
  // line for a file that cannot be read).
  void Add(std::uint32_t line, const std::string& problem, std::uint32_t column = 0) {
    std::string where = "config " + EscapeControls(path_);
    if (line > 0) where += ":" + std::to_string(line);
    if (column > 0) where += ":" + std::to_string(column);
    std::string text = where + ": " + problem;
    if (text.size() > kMaxMessageBytes) {  // a hostile key: cut at a character boundary
      std::size_t cut = kMaxMessageBytes;
      while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
      text.resize(cut);
      text += "...";
    }
    problems_.emplace_back(line, std::move(text));
  }

  static std::string In(const std::vector<std::string>& path) {
    return path.empty() ? "" : "[" + TableName(path) + "] ";
  }

  void Table(const toml::table& table, CLI::App& app, const std::vector<std::string>& path) {
    for (const auto& [k, node] : table) {
      const std::string key(k.str());
      const std::uint32_t line = node.source().begin.line;
      const CLI::Option* option = FindOption(app, key);
      if (const toml::table* sub = node.as_table()) {
        CLI::App* command = FindCommand(app, key);
        std::vector<std::string> sub_path = path;
        sub_path.push_back(key);
        if (command == nullptr) {
          if (option != nullptr) {
            Add(line, In(path) + key + ": expected " + WantName(WantOf(*option)) + ", got a table");
          } else {
            Add(line, "unknown table [" + TableName(sub_path) + "]");
          }
          continue;
        }
        Table(*sub, *command, sub_path);
        continue;
      }
      if (option == nullptr) {
        if (FindCommand(app, key) != nullptr) {
          Add(line, In(path) + key + ": is a command: its options go in a table [" +
                        TableName(path) + (path.empty() ? "" : ".") + key + "]");
        } else {
          Add(line, In(path) + "unknown key \"" + EscapeControls(key) + "\"");
        }
        continue;
      }
      Value(node, *option, path, line);
    }
  }

  void Value(const toml::node& node, const CLI::Option& option,
             const std::vector<std::string>& path, std::uint32_t line) {
    ConfigEntry e;
    e.table = path;
    e.name = option.get_lnames().front();
    e.line = line;
    const Want want = WantOf(option);
    e.flag = want == Want::kFlag;
    const std::string what = In(path) + e.name + ": ";
    // "model-poll" and "model_poll" are one option: given twice is an error,
    // not a silent choice of one of them.
    for (const ConfigEntry& earlier : entries_) {
      if (earlier.table == path && earlier.name == e.name) {
        Add(line, what + "given twice (also on line " + std::to_string(earlier.line) + ")");
        return;
      }
    }
    if (const toml::array* a = node.as_array()) {
      if (!Multi(option)) {
        Add(line, what + "expected " + std::string(WantName(want)) + ", got an array");
        return;
      }
      e.array = true;
      for (const toml::node& item : *a) {
        std::optional<ConfigScalar> s = ScalarFor(item, want);
        if (!s) {
          Add(item.source().begin.line,
              what + "expected " + WantName(want) + " in the array, got " + TomlTypeName(item));
          return;
        }
        e.values.push_back(std::move(*s));
      }
    } else {
      std::optional<ConfigScalar> s = ScalarFor(node, want);
      if (!s) {
        Add(line, what + "expected " + std::string(WantName(want)) + ", got " + TomlTypeName(node));
        return;
      }
      e.values.push_back(std::move(*s));
    }
    // The option's own conversion and validators, on a copy of the CLI
    // (nothing of the real command line is touched).
    CLI::App* app = FindPath(schema_, path);
    CLI::Option* o = app == nullptr ? nullptr : app->get_option_no_throw("--" + e.name);
    if (o != nullptr) {
      try {
        o->clear();
        if (e.flag) {
          o->add_result(o->get_flag_value(e.name, e.values.front().text));
        } else {
          std::vector<std::string> inputs;
          for (const ConfigScalar& s : e.values) inputs.push_back(s.text);
          o->add_result(inputs);
        }
        o->run_callback();
        o->clear();
      } catch (const CLI::Error& err) {
        o->clear();
        Add(line, what + EscapeControls(err.what()));
        return;
      }
    }
    entries_.push_back(std::move(e));
  }

  std::string path_;
  std::ostringstream sink_;
  CommandIo io_{sink_, sink_};
  Action action_;
  CLI::App schema_;
  std::vector<ConfigEntry> entries_;
  std::vector<std::pair<std::uint32_t, std::string>> problems_;
};

// The prototype's variables that commands read with getenv when the option
// is empty (cmd_score.cc, score_stream.cc, cmd_replay.cc).
struct PrototypeEnv {
  const char* table;
  const char* option;
  std::vector<std::string> names;
  bool direct;
};
const std::vector<PrototypeEnv>& PrototypeTable() {
  static const std::vector<PrototypeEnv> kTable = {
      {"score",
       "model",
       {"STORAGE_ACCOUNT_NAME", "MODEL_CONTAINER_NAME", "MODEL_FILE_PATH"},
       false},
      {"score", "to", {"INFLUXDB_URL"}, false},
      {"score", "features", {"FEATURE_KEYS"}, true},
      {"replay", "batch", {"BATCH_SIZE"}, true},
      {"replay", "delay", {"DELAY_SEC"}, true},
      {"replay", "loop", {"LOOP"}, true},
      {"replay", "feature-keys", {"FEATURE_KEYS"}, true},
      {"replay", "feature-count", {"FEATURE_COUNT"}, true},
      {"replay", "sensor-id-column", {"SENSOR_ID_COLUMN"}, true},
      {"replay", "sensor-ids", {"SENSOR_IDS"}, true},
      {"replay", "timestamp-column", {"TIMESTAMP_COLUMN"}, true},
  };
  return kTable;
}

// TOML text for one scalar.
void AppendScalar(const ConfigScalar& s, std::string* out) {
  if (s.kind == ConfigScalar::Kind::kString) {
    AppendJsonString(ReplaceInvalidUtf8(s.text), out);  // a TOML basic string escapes as JSON
  } else {
    *out += s.text;
  }
}

// An environment variable's text typed as the option wants it.
ConfigScalar EnvScalar(const std::string& text, const CLI::Option& o) {
  using K = ConfigScalar::Kind;
  switch (WantOf(o)) {
    case Want::kFlag:
    case Want::kBoolean: {
      const std::string s = AsciiLower(text);
      return {K::kBoolean,
              s == "1" || s == "true" || s == "yes" || s == "y" || s == "on" ? "true" : "false"};
    }
    case Want::kInteger:
      if (ParseInt(text).ok()) return {K::kInteger, text};
      break;
    case Want::kNumber:
      if (ParseInt(text).ok() || ParseDouble(text).ok()) return {K::kFloat, text};
      break;
    case Want::kText:
      break;
  }
  return {K::kString, text};
}

void PrintTable(const CLI::App& app, const std::vector<std::string>& path, const ConfigFile& file,
                const EnvLookup& env, std::string* out) {
  std::string body;
  for (const CLI::Option* o : app.get_options()) {
    if (!Configurable(app, *o)) continue;
    const std::string name = o->get_lnames().front();
    const ConfigEntry* entry = nullptr;
    for (const ConfigEntry& e : file.entries) {
      if (e.table == path && e.name == name) entry = &e;
    }
    std::vector<ConfigScalar> values;
    bool array = false;
    std::string origin;
    std::optional<EnvOverride> over = EnvOverrides(path, name, *o);
    std::optional<std::string> set = over ? SetOverride(*over, env) : std::nullopt;
    if (set && !over->direct) {
      std::string names;
      for (const std::string& n : over->names) names += (names.empty() ? "" : ", ") + n;
      body += "# " + name + ": taken from the environment (" + names + ")" +
              (entry != nullptr ? "; the file's value is not used" : "") + "\n";
      continue;
    }
    if (set) {
      const std::optional<std::string> text = env(*set);
      values.push_back(EnvScalar(text.value_or(""), *o));
      origin = "  # from " + *set;
    } else if (entry != nullptr) {
      values = entry->values;
      array = entry->array;
    } else {
      continue;
    }
    const bool secret = IsSecretName(name) || (set && IsSecretName(*set));
    body += name + " = ";
    if (array) body += "[";
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (i > 0) body += ", ";
      ConfigScalar v = values[i];
      if (secret) {
        v = {ConfigScalar::Kind::kString, "***"};
      } else if (v.kind == ConfigScalar::Kind::kString) {
        v.text = MaskValue(v.text);
      }
      AppendScalar(v, &body);
    }
    if (array) body += "]";
    body += origin + "\n";
  }
  if (!body.empty()) {
    if (!path.empty()) *out += "\n[" + TableName(path) + "]\n";
    *out += body;
  }
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    std::vector<std::string> sub_path = path;
    sub_path.push_back(sub->get_name());
    PrintTable(*sub, sub_path, file, env, out);
  }
}

std::vector<std::string> Words(const std::string& name) {
  std::vector<std::string> words;
  std::string w;
  for (char c : AsciiLower(name)) {
    if (c == '-' || c == '_') {
      if (!w.empty()) words.push_back(std::move(w));
      w.clear();
    } else {
      w += c;
    }
  }
  if (!w.empty()) words.push_back(std::move(w));
  return words;
}

// The items CLI11 gets for `app` (a chosen command) and the commands chosen
// under it.
void ChosenItems(const CLI::App& app, const std::vector<std::string>& path, const ConfigFile& file,
                 const EnvLookup& env, std::vector<CLI::ConfigItem>* items) {
  for (const ConfigEntry& e : file.entries) {
    if (e.table != path) continue;
    const CLI::Option* o = FindOption(app, e.name);
    if (o == nullptr) continue;
    std::optional<EnvOverride> over = EnvOverrides(path, e.name, *o);
    if (over && SetOverride(*over, env)) continue;  // the environment wins
    CLI::ConfigItem item;
    item.parents = path;
    item.name = e.name;
    for (const ConfigScalar& s : e.values) item.inputs.push_back(s.text);
    items->push_back(std::move(item));
  }
  for (const CLI::App* sub : app.get_subcommands()) {
    std::vector<std::string> sub_path = path;
    sub_path.push_back(sub->get_name());
    ChosenItems(*sub, sub_path, file, env, items);
  }
}

}  // namespace

EnvLookup ProcessEnvLookup() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr || *v == '\0') return std::nullopt;
    return std::string(v);
  };
}

ConfigFile CheckConfigText(const std::string& path, const std::string& text,
                           const CliBuilder& build) {
  Checker checker(path, build);
  return checker.Run(text);
}

ConfigFile CheckConfigFile(const std::string& path, const CliBuilder& build) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    Checker checker(path, build);
    checker.AddRaw("cannot read the file");
    return checker.Finish(ConfigFile{path, {}, {}, 0});
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return CheckConfigText(path, text, build);
}

std::optional<EnvOverride> EnvOverrides(const std::vector<std::string>& table,
                                        const std::string& name, const CLI::Option& option) {
  EnvOverride o;
  if (!option.get_envname().empty()) o.names.push_back(option.get_envname());
  if (table.size() == 1) {
    for (const PrototypeEnv& p : PrototypeTable()) {
      if (table[0] == p.table && name == p.option) {
        o.names.insert(o.names.end(), p.names.begin(), p.names.end());
        o.direct = p.direct;
      }
    }
  }
  if (o.names.empty()) return std::nullopt;
  return o;
}

std::optional<std::string> SetOverride(const EnvOverride& o, const EnvLookup& env) {
  for (const std::string& n : o.names) {
    if (env(n)) return n;
  }
  return std::nullopt;
}

std::string FormatEffectiveConfig(const ConfigFile& file, const CliBuilder& build,
                                  const EnvLookup& env) {
  CLI::App app;
  std::ostringstream sink;
  CommandIo io{sink, sink};
  Action action;
  build(app, io, action);
  std::string out = "# effective configuration of ";
  out += EscapeControls(file.path);
  out += " (file < environment < command line; secrets masked)\n";
  PrintTable(app, {}, file, env, &out);
  return out;
}

bool IsSecretName(const std::string& name) {
  const std::string lower = Normalise(AsciiLower(name));
  if (lower.find("connection-string") != std::string::npos) return true;
  for (const std::string& w : Words(name)) {
    for (const char* s : {"key", "token", "secret", "password", "sas", "signature", "sig"}) {
      if (EndsWith(w, s)) return true;
    }
  }
  return false;
}

std::string MaskValue(const std::string& value) {
  std::string v = value;
  const std::size_t scheme = v.find("://");
  if (scheme != std::string::npos) {
    const std::size_t host = scheme + 3;
    const std::size_t end = v.find_first_of("/?#", host);
    const std::size_t at = v.rfind('@', end == std::string::npos ? v.size() : end);
    if (at != std::string::npos && at >= host) v.replace(host, at - host, "***");
    const std::size_t q = v.find('?', host);
    if (q != std::string::npos) {
      const std::size_t frag = v.find('#', q);
      v.replace(q + 1, (frag == std::string::npos ? v.size() : frag) - q - 1, "***");
    }
  }
  // key=value pairs of a connection string ("AccountKey=...;") or a query
  // written without a scheme.
  std::string out;
  std::size_t i = 0;
  while (i < v.size()) {
    const std::size_t eq = v.find('=', i);
    if (eq == std::string::npos) break;
    std::size_t start = v.find_last_of(";&?", eq);
    start = start == std::string::npos || start < i ? i : start + 1;
    const std::size_t stop = std::min(v.find_first_of(";&", eq), v.size());
    out += v.substr(i, eq + 1 - i);
    const std::string name = v.substr(start, eq - start);
    if (IsSecretName(name)) {
      out += "***";
    } else {
      out += v.substr(eq + 1, stop - eq - 1);
    }
    i = stop;
    if (i < v.size()) out += v[i++];
  }
  out += v.substr(std::min(i, v.size()));
  return out;
}

TomlConfig::TomlConfig(const CLI::App* root, CliBuilder build, EnvLookup env)
    : root_(root), build_(std::move(build)), env_(std::move(env)) {}

std::string TomlConfig::to_config(const CLI::App*, bool, bool, std::string) const { return {}; }

std::vector<CLI::ConfigItem> TomlConfig::from_config(std::istream& input) const {
  std::string text((std::istreambuf_iterator<char>(input)), std::istreambuf_iterator<char>());
  const CLI::Option* config = root_->get_config_ptr();
  const std::string path = config != nullptr ? config->as<std::string>() : std::string("?");
  ConfigFile file = CheckConfigText(path, text, build_);
  if (!file.errors.empty()) throw ConfigFileError{std::move(file.errors), file.more_errors};
  std::vector<CLI::ConfigItem> items;
  ChosenItems(*root_, {}, file, env_, &items);
  return items;
}

}  // namespace mh::app
