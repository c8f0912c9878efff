// Environment: where configuration reads the process state from:
// environment variables and secret files (tokens, passwords, connection
// strings). Configuration parsers take one, so that tests give them fixed
// variables and files (testing/fake_environment.h) instead of the real ones.
//
// Thread safety: ProcessEnvironment's functions are as safe as getenv and
// reading a file; nothing here writes the environment.
#ifndef MH_CORE_ENVIRONMENT_H_
#define MH_CORE_ENVIRONMENT_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace mh {

struct Environment {
  // The value of an environment variable, nullopt when unset.
  std::function<std::optional<std::string>(const std::string& name)> get_env;
  // The whole contents of a file; NotFound (no such file) or IOError
  // "cannot read 'PATH': REASON" otherwise (never the contents).
  std::function<Result<std::string>(const std::string& path)> read_file;
};

// The real process environment (getenv) and file system.
Environment ProcessEnvironment();

// Reads the secret (password, token, connection string) held in the file
// `path`, given by the option `option` (e.g. "password_file"). Trailing
// whitespace (the newline editors and `echo` add, CR, spaces, tabs) is not
// part of the secret. Errors name the option and the path, never the
// contents: InvalidArgument when `path` is empty, when the file holds
// nothing but whitespace or more than one line; NotFound/IOError from
// env.read_file when it cannot be read.
Result<std::string> ReadSecretFile(const Environment& env, std::string_view option,
                                   const std::string& path);

}  // namespace mh

#endif  // MH_CORE_ENVIRONMENT_H_
