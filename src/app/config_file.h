// The configuration file (`--config FILE`, docs/configuration.md): one TOML
// file covering every option of every command. Top-level keys are the root
// options (log-level, log-format), a table per command ([score], [run]) and
// nested tables for sub-subcommands ([baseline.retrain]) hold that command's
// options under their long names without "--" ("model-poll" or
// "model_poll": '_' reads as '-').
//
// Precedence: command-line flags override environment variables, which
// override the file. One table (EnvOverrides) names, for each option, the
// environment variables that take its place: the CLI11 `envname` of the
// option and the prototype's variables that the commands read with getenv
// when the flag is empty (FEATURE_KEYS, INFLUXDB_URL, STORAGE_ACCOUNT_NAME,
// ...). A file value is handed to CLI11 only when none of them is set, so a
// file value never hides one of them (docs/decisions/0007-config-file.md).
//
// The whole file is checked, not only the table of the command that runs:
// unknown tables and keys, wrong types (a string for an integer option, an
// array for a single value), values an option's validator refuses. Errors
// name the file and line ("config FILE:12: [score] unknown key \"modle\"");
// a syntax error names line and column.
//
// Thread safety: none needed (used while parsing the command line).
#ifndef MH_APP_CONFIG_FILE_H_
#define MH_APP_CONFIG_FILE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"

namespace mh::app {

// The value of an environment variable; nullopt when unset or empty.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
// The process environment (getenv, empty = unset).
EnvLookup ProcessEnvLookup();

// Registers the root options and every command on `app` (command.cc).
using CliBuilder = std::function<void(CLI::App& app, CommandIo& io, Action& action)>;

// One scalar of a file value, as TOML typed it.
struct ConfigScalar {
  enum class Kind : std::uint8_t { kString = 0, kInteger = 1, kFloat = 2, kBoolean = 3 };
  Kind kind = Kind::kString;
  std::string text;  // the value as CLI11 reads it ("60s", "4096", "true")
};

// One accepted key of the file.
struct ConfigEntry {
  std::vector<std::string> table;  // {} top level, {"score"}, {"baseline", "retrain"}
  std::string name;                // the option's long name without "--"
  std::vector<ConfigScalar> values;
  bool array = false;  // written as a TOML array
  bool flag = false;   // the option is a flag (a boolean)
  std::uint32_t line = 0;
};

// Most errors kept and shown; past it "... and N more".
inline constexpr std::size_t kMaxConfigErrors = 50;

struct ConfigFile {
  std::string path;
  std::vector<ConfigEntry> entries;  // the valid keys, in file order
  // "config FILE:LINE: [table] problem", in file order, at most
  // kMaxConfigErrors; more_errors counts the rest.
  std::vector<std::string> errors;
  std::size_t more_errors = 0;
};

// Parses `text` (the contents of `path`) and checks every table and key
// against the commands and options `build` registers. Never throws.
ConfigFile CheckConfigText(const std::string& path, const std::string& text,
                           const CliBuilder& build);
// The same for a file read from disk (a file that cannot be read is one error).
ConfigFile CheckConfigFile(const std::string& path, const CliBuilder& build);

// How an environment variable takes an option's place.
struct EnvOverride {
  std::vector<std::string> names;  // any of them set overrides the file's value
  // The variable gives the option's value itself (FEATURE_KEYS for
  // --features); false when the command reads it in the option's place in
  // its own way (STORAGE_ACCOUNT_NAME/... for --model, INFLUXDB_URL for --to).
  bool direct = true;
};

// The variables overriding the option `name` of the command `table`:
// `option`'s CLI11 envname and the prototype's variables. nullopt: none.
std::optional<EnvOverride> EnvOverrides(const std::vector<std::string>& table,
                                        const std::string& name, const CLI::Option& option);

// The set variable among `o.names`, if any.
std::optional<std::string> SetOverride(const EnvOverride& o, const EnvLookup& env);

// The effective configuration: the file's values with the environment's
// overrides applied, top-level keys then one [table] per command, as TOML;
// secrets masked (IsSecretName, MaskValue).
std::string FormatEffectiveConfig(const ConfigFile& file, const CliBuilder& build,
                                  const EnvLookup& env);

// Whether an option or variable name names a secret: one of its words
// (split at '-' and '_', case ignored) is or ends with key, token, secret,
// password, sas, signature or sig, or it holds connection-string
// (connection_string). "feature-keys" is not one.
bool IsSecretName(const std::string& name);
// `value` with a URL's userinfo and query string replaced by "***"
// ("https://***@host/p?***"), and the values of sig=, sas=, key=, token=,
// password= and SharedAccessKey= pairs in a connection string likewise.
std::string MaskValue(const std::string& value);

// CLI11's view of the file: from_config checks the whole file (throwing
// ConfigFileError when it has errors) and hands CLI11 the values of the
// root and of the commands chosen on the command line only, leaving out
// those an environment variable overrides. Unchosen commands are never
// triggered.
class TomlConfig : public CLI::Config {
 public:
  TomlConfig(const CLI::App* root, CliBuilder build, EnvLookup env);
  std::string to_config(const CLI::App*, bool, bool, std::string) const override;
  std::vector<CLI::ConfigItem> from_config(std::istream& input) const override;

 private:
  const CLI::App* root_;
  CliBuilder build_;
  EnvLookup env_;
};

// Thrown by TomlConfig::from_config: the file's errors.
struct ConfigFileError {
  std::vector<std::string> errors;
  std::size_t more_errors = 0;
};

}  // namespace mh::app

#endif  // MH_APP_CONFIG_FILE_H_
