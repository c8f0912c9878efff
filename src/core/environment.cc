#include "core/environment.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <unistd.h>

namespace mh {

Environment ProcessEnvironment() {
  Environment env;
  env.get_env = [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
  env.read_file = [](const std::string& path) -> Result<std::string> {
    const auto failure = [&path](int err) {
      std::string what = "cannot read '" + path + "': " + std::strerror(err);
      if (err == ENOENT) return Status::NotFound(what);
      return Status::IOError(what);
    };
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return failure(errno);
    std::string text;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        const int err = errno;  // e.g. EISDIR: a directory opens but does not read
        ::close(fd);
        return failure(err);
      }
      text.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return text;
  };
  return env;
}

Result<std::string> ReadSecretFile(const Environment& env, std::string_view option,
                                   const std::string& path) {
  const std::string name(option);
  if (path.empty()) return Status::InvalidArgument(name + " is empty");
  Result<std::string> text = env.read_file(path);
  if (!text.ok()) {
    return text.status().WithContext(name);
  }
  std::string secret = std::move(text).value();
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r' ||
                             secret.back() == ' ' || secret.back() == '\t')) {
    secret.pop_back();
  }
  if (secret.empty()) return Status::InvalidArgument(name + " '" + path + "' is empty");
  if (secret.find_first_of("\r\n") != std::string::npos) {
    return Status::InvalidArgument(name + " '" + path +
                                   "' holds more than one line (expected the secret alone)");
  }
  return secret;
}

}  // namespace mh
