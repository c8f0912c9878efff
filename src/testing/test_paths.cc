#include "testing/test_paths.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <sys/stat.h>
#include <sys/wait.h>

namespace mh::testing {

std::string SourceDir() {
  if (const char* dir = std::getenv("MH_SOURCE_DIR")) return dir;
  return std::filesystem::current_path().string();
}

std::string SharedDir() {
  std::filesystem::path p = std::filesystem::path(SourceDir()) / ".." / "shared";
  std::error_code ec;
  if (!std::filesystem::is_directory(p, ec)) return "";
  return std::filesystem::weakly_canonical(p).string();
}

std::string BinaryPath() {
  if (const char* bin = std::getenv("MH_BINARY")) return bin;
  return "";
}

std::string ReferencePython() { return "/usr/bin/python3"; }

std::string MakeTempDir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
  if (mkdtemp(tmpl.data()) == nullptr) return "";
  return tmpl;
}

int RunCommand(const std::string& command, std::string* stdout_text) {
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) {
    if (stdout_text) stdout_text->append(buf.data(), n);
  }
  int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace mh::testing
