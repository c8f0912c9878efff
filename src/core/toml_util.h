// Small helpers for reading TOML files with toml++ (the configuration file,
// app/config_file.h, and the machines file, registry/): how a node's type,
// a key and a parser message are shown in error messages.
//
// Thread safety: pure functions.
#ifndef MH_CORE_TOML_UTIL_H_
#define MH_CORE_TOML_UTIL_H_

#include <string>
#include <string_view>

#include <toml++/toml.h>

namespace mh {

// "a table", "an array", "a string", "an integer", "a float", "a boolean",
// "a date", "a time", "a date-time" ("nothing" for anything else).
const char* TomlTypeName(const toml::node& n);

// A key as TOML writes it: bare when it can be ([A-Za-z0-9_-]+), else a
// quoted basic string.
std::string TomlKey(std::string_view key);

// toml++'s parser message on one line: newlines, tabs and other control
// bytes (it quotes the byte it saw) written as \n, \t, \xNN; the first
// letter lower-cased.
std::string TomlMessage(std::string_view description);

}  // namespace mh

#endif  // MH_CORE_TOML_UTIL_H_
