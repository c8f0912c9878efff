#include "registry/registry.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <mutex>
#include <shared_mutex>
#include <sstream>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/time_util.h"
#include "registry/internal/machines_file.h"

namespace mh::registry {
namespace {

// Heterogeneous lookup: find a std::string key by string_view, no copy.
struct IdHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

}  // namespace

struct Registry::Impl {
  std::string path;
  MachineConfig defaults;
  std::vector<MachinePtr> file_machines;  // immutable after construction

  mutable std::shared_mutex mu;
  // Every machine by id: the file's and those seen since. Guarded by mu.
  std::unordered_map<std::string, MachinePtr, IdHash, std::equal_to<>> by_id;
  // First-sight machines in order of appearance. Guarded by mu.
  std::vector<MachinePtr> seen;

  MachinePtr MakeDefault(std::string_view id, std::int64_t seen_ns) const {
    auto m = std::make_shared<MachineConfig>(defaults);
    m->id = std::string(id);
    m->name = m->id;
    m->from_file = false;
    m->first_seen_ns = seen_ns;
    m->file_line = 0;
    return m;
  }
};

Registry::Registry(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Registry::~Registry() = default;

std::unique_ptr<Registry> Registry::FromFile(std::string path, internal::MachinesFile file) {
  auto impl = std::make_unique<Impl>();
  impl->path = std::move(path);
  impl->defaults = std::move(file.defaults);
  for (MachineConfig& m : file.machines) {
    auto ptr = std::make_shared<const MachineConfig>(std::move(m));
    impl->by_id.emplace(ptr->id, ptr);
    impl->file_machines.push_back(std::move(ptr));
  }
  return std::unique_ptr<Registry>(new Registry(std::move(impl)));
}

Result<std::unique_ptr<Registry>> Registry::Load(const std::string& path,
                                                 const MachineConfig& base) {
  std::error_code ec;
  const auto st = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(st)) return Status::NotFound(path + ": no such file");
  if (std::filesystem::is_directory(st)) {
    return Status::InvalidArgument(path + ": is a folder (give the machines file)");
  }
  if (std::filesystem::is_regular_file(st)) {
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > kMaxMachinesFileBytes) {
      return Status::InvalidArgument(path + ": " + std::to_string(size) +
                                     " bytes is too large for a machines file (at most " +
                                     std::to_string(kMaxMachinesFileBytes) + ")");
    }
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": read failed");
  internal::ParseOptions options;
  options.check_model_files = true;
  options.base = base;
  MH_ASSIGN_OR_RETURN(internal::MachinesFile file,
                      internal::ParseMachinesFile(text.str(), path, options));
  return FromFile(path, std::move(file));
}

Result<std::unique_ptr<Registry>> Registry::Parse(std::string_view text, std::string_view file_name,
                                                  const MachineConfig& base) {
  internal::ParseOptions options;
  options.base = base;
  MH_ASSIGN_OR_RETURN(internal::MachinesFile file,
                      internal::ParseMachinesFile(text, file_name, options));
  return FromFile(std::string(file_name), std::move(file));
}

std::unique_ptr<Registry> Registry::BuiltIn(const MachineConfig& base) {
  auto impl = std::make_unique<Impl>();
  impl->defaults = base;
  impl->defaults.id.clear();
  impl->defaults.name.clear();
  impl->defaults.from_file = false;
  impl->defaults.first_seen_ns = 0;
  impl->defaults.file_line = 0;
  return std::unique_ptr<Registry>(new Registry(std::move(impl)));
}

MachinePtr Registry::Lookup(std::string_view machine_id, std::int64_t seen_ns) {
  {
    std::shared_lock lock(impl_->mu);
    auto it = impl_->by_id.find(machine_id);
    if (it != impl_->by_id.end()) return it->second;
  }
  MachinePtr made = impl_->MakeDefault(machine_id, seen_ns);
  std::unique_lock lock(impl_->mu);
  // Another thread may have registered it meanwhile: the first one wins.
  auto it = impl_->by_id.find(machine_id);
  if (it != impl_->by_id.end()) return it->second;
  if (impl_->seen.size() >= kMaxFirstSightMachines) return made;
  impl_->by_id.emplace(made->id, made);
  impl_->seen.push_back(made);
  return made;
}

MachinePtr Registry::Lookup(std::string_view machine_id) {
  {
    std::shared_lock lock(impl_->mu);
    auto it = impl_->by_id.find(machine_id);
    if (it != impl_->by_id.end()) return it->second;
  }
  return Lookup(machine_id, WallNowNs());
}

MachinePtr Registry::Peek(std::string_view machine_id) const {
  {
    std::shared_lock lock(impl_->mu);
    auto it = impl_->by_id.find(machine_id);
    if (it != impl_->by_id.end()) return it->second;
  }
  return impl_->MakeDefault(machine_id, 0);
}

std::vector<MachinePtr> Registry::List() const {
  std::vector<MachinePtr> all = impl_->file_machines;
  std::shared_lock lock(impl_->mu);
  all.insert(all.end(), impl_->seen.begin(), impl_->seen.end());
  return all;
}

const MachineConfig& Registry::defaults() const { return impl_->defaults; }

const std::string& Registry::path() const { return impl_->path; }

}  // namespace mh::registry
