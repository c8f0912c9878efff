// The one loader of models for every command that takes --model (score,
// run, baseline assign, model info; run's machine registry too): a local
// path, or a remote source as blob_client.h describes (https:// with a SAS,
// az://ACCOUNT/CONTAINER/PATH, Shared Key, managed identity). Both
// machine-health model files and scikit-learn pickle/joblib files load
// (iforest::LoadAnyModelBytes chooses by content).
//
// Thread safety: reentrant.
#ifndef MH_BLOB_MODEL_SOURCE_H_
#define MH_BLOB_MODEL_SOURCE_H_

#include <string>

#include "blob/blob_client.h"
#include "core/environment.h"
#include "core/result.h"
#include "iforest/model.h"

namespace mh::blob {

// The model source to use: `flag` when not empty, else the prototype's
// az://$STORAGE_ACCOUNT_NAME/$MODEL_CONTAINER_NAME/$MODEL_FILE_PATH when all
// three are set, else "". InvalidArgument naming the missing ones when only
// some are set.
Result<std::string> ResolveModelSource(const std::string& flag, const Environment& env);

// The bytes of a model source: a file's (shown = the path, auth "none"),
// or a download's (DownloadSource: with its ETag and Last-Modified). Errors
// as LoadModelSource's for reading.
Result<Download> ReadModelSource(const std::string& source, const BlobOptions& options);

// Loads a model from a path or remote source. The model card's source is
// the shown (secret-free) source. Errors name it.
Result<iforest::Model> LoadModelSource(const std::string& source, const BlobOptions& options);

// LoadModelSource with the process environment and the default token
// provider.
Result<iforest::Model> LoadModelSource(const std::string& source);

}  // namespace mh::blob

#endif  // MH_BLOB_MODEL_SOURCE_H_
