#include "replay/input_files.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <system_error>

#include <glob.h>

#include "core/strings.h"
#include "replay/table_file.h"

namespace mh::replay {
namespace {

namespace fs = std::filesystem;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

void SortNatural(std::vector<std::string>* files) {
  std::sort(files->begin(), files->end(),
            [](const std::string& a, const std::string& b) { return NaturalLess(a, b); });
}

Result<InputFiles> ExpandFolder(const std::string& spec) {
  InputFiles out;
  out.multiple = true;
  std::vector<std::string> subfolders;
  std::error_code ec;
  fs::directory_iterator it(spec, ec);
  if (ec) return Status::IOError(spec + ": cannot list the folder: " + ec.message());
  for (const fs::directory_entry& e : it) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code type_ec;
    if (e.is_directory(type_ec)) {
      subfolders.push_back(name);
      continue;
    }
    if (!e.is_regular_file(type_ec) || !IsDataFileName(name)) continue;
    std::string path = spec;
    if (path.back() != '/') path += '/';
    out.files.push_back(path + name);
  }
  if (out.files.empty()) {
    std::string message =
        spec + ": is a folder without data files (*.csv, *.tsv, *.txt, *.parquet)";
    if (!subfolders.empty()) {
      SortNatural(&subfolders);
      message += "; it holds the folders ";
      for (std::size_t i = 0; i < subfolders.size() && i < 5; ++i) {
        message += (i == 0 ? "'" : ", '") + subfolders[i] + "'";
      }
      if (subfolders.size() > 5) message += ", ...";
      std::string base = spec;
      if (base.back() != '/') base += '/';
      message += ": give one of them, or a glob such as '" + base + "*/*.csv'";
    }
    return Status::InvalidArgument(message);
  }
  SortNatural(&out.files);
  return out;
}

Result<InputFiles> ExpandGlob(const std::string& spec) {
  glob_t g{};
  const int rc = glob(spec.c_str(), GLOB_NOSORT | GLOB_MARK, nullptr, &g);
  InputFiles out;
  out.multiple = true;
  if (rc == GLOB_NOMATCH) {
    globfree(&g);
    return Status::NotFound(spec + ": no file matches the pattern");
  }
  if (rc != 0) {
    globfree(&g);
    return Status::IOError(spec + ": cannot expand the pattern");
  }
  for (std::size_t i = 0; i < g.gl_pathc; ++i) {
    std::string path = g.gl_pathv[i];
    if (!path.empty() && path.back() == '/') {  // GLOB_MARK: a folder
      globfree(&g);
      return Status::InvalidArgument(spec + ": the pattern matches the folder '" + path +
                                     "'; match files only (e.g. '" + path + "*.csv')");
    }
    out.files.push_back(std::move(path));
  }
  globfree(&g);
  SortNatural(&out.files);
  return out;
}

}  // namespace

bool IsDataFileName(std::string_view name) {
  if (name.empty() || name[0] == '.') return false;
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return false;
  const std::string ext = AsciiLower(name.substr(dot + 1));
  return ext == "csv" || ext == "tsv" || ext == "txt" || ext == "parquet";
}

bool HasGlobPattern(std::string_view spec) {
  return spec.find_first_of("*?[") != std::string_view::npos;
}

Result<InputFiles> ExpandInputs(const std::string& spec) {
  if (spec.empty()) return Status::InvalidArgument("no input given");
  if (IsHttpUrl(spec)) return InputFiles{{spec}, false};
  std::error_code ec;
  const fs::file_status st = fs::status(spec, ec);
  if (fs::is_directory(st)) return ExpandFolder(spec);
  if (fs::exists(st)) return InputFiles{{spec}, false};
  if (HasGlobPattern(spec)) return ExpandGlob(spec);
  return Status::NotFound(spec + ": no such file or folder");
}

bool NaturalLess(std::string_view a, std::string_view b) {
  std::size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    if (IsDigit(a[i]) && IsDigit(b[j])) {
      std::size_t ia = i, jb = j;
      while (ia < a.size() && a[ia] == '0') ++ia;
      while (jb < b.size() && b[jb] == '0') ++jb;
      std::size_t ea = ia, eb = jb;
      while (ea < a.size() && IsDigit(a[ea])) ++ea;
      while (eb < b.size() && IsDigit(b[eb])) ++eb;
      const std::size_t la = ea - ia, lb = eb - jb;
      if (la != lb) return la < lb;  // more significant digits: larger
      const int c = a.substr(ia, la).compare(b.substr(jb, lb));
      if (c != 0) return c < 0;
      // Same value: fewer leading zeros first ("acc_1" before "acc_01").
      if ((ia - i) != (jb - j)) return (ia - i) < (jb - j);
      i = ea;
      j = eb;
      continue;
    }
    if (a[i] != b[j]) {
      return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
    }
    ++i;
    ++j;
  }
  if ((a.size() - i) != (b.size() - j)) return (a.size() - i) < (b.size() - j);
  return a < b;
}

}  // namespace mh::replay
