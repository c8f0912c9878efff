#include "blob/model_source.h"

#include "iforest/sklearn_import.h"

namespace mh::blob {

Result<std::string> ResolveModelSource(const std::string& flag, const Environment& env) {
  if (!flag.empty()) return flag;
  static constexpr const char* kNames[] = {"STORAGE_ACCOUNT_NAME", "MODEL_CONTAINER_NAME",
                                           "MODEL_FILE_PATH"};
  std::string values[3], missing;
  int set = 0;
  for (int i = 0; i < 3; ++i) {
    std::optional<std::string> v = env.get_env ? env.get_env(kNames[i]) : std::nullopt;
    if (v && !v->empty()) {
      values[i] = *v;
      ++set;
    } else {
      missing += std::string(missing.empty() ? "" : ", ") + kNames[i];
    }
  }
  if (set == 0) return std::string();
  if (set < 3) {
    return Status::InvalidArgument("model from blob storage: " + missing +
                                   " not set (STORAGE_ACCOUNT_NAME, MODEL_CONTAINER_NAME and "
                                   "MODEL_FILE_PATH go together)");
  }
  std::string path = values[2];
  while (!path.empty() && path.front() == '/') path.erase(0, 1);
  return "az://" + values[0] + "/" + values[1] + "/" + path;
}

Result<Download> ReadModelSource(const std::string& source, const BlobOptions& options) {
  if (IsRemoteSource(source)) return DownloadSource(source, options);
  Download d;
  MH_ASSIGN_OR_RETURN(d.bytes, iforest::ReadModelFile(source));
  d.shown = source;
  d.auth = "none";
  return d;
}

Result<iforest::Model> LoadModelSource(const std::string& source, const BlobOptions& options) {
  MH_ASSIGN_OR_RETURN(Download d, ReadModelSource(source, options));
  return iforest::LoadAnyModelBytes(d.bytes, d.shown);
}

Result<iforest::Model> LoadModelSource(const std::string& source) {
  BlobOptions options;
  options.env = ProcessEnvironment();
  return LoadModelSource(source, options);
}

}  // namespace mh::blob
