// FakeEnvironment: a fixed set of environment variables and files for tests
// of configuration parsers (see core/environment.h). Get() refers to this
// object, which must outlive the Environment it returns.
#ifndef MH_TESTING_FAKE_ENVIRONMENT_H_
#define MH_TESTING_FAKE_ENVIRONMENT_H_

#include <map>
#include <optional>
#include <string>

#include "core/environment.h"

namespace mh::testing {

struct FakeEnvironment {
  std::map<std::string, std::string> vars;
  std::map<std::string, std::string> files;  // path -> contents

  Environment Get() const {
    Environment env;
    env.get_env = [this](const std::string& name) -> std::optional<std::string> {
      auto it = vars.find(name);
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
    env.read_file = [this](const std::string& path) -> Result<std::string> {
      auto it = files.find(path);
      if (it == files.end()) return Status::IOError("cannot read '" + path + "': no such file");
      return it->second;
    };
    return env;
  }
};

}  // namespace mh::testing

#endif  // MH_TESTING_FAKE_ENVIRONMENT_H_
