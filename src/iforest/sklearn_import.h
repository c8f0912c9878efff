// Import of scikit-learn models saved with joblib.dump or pickle.dump
// (protocols 2-5), read by the safe PickleReader (pickle_reader.h): nothing in
// the file is executed. Accepted shapes (root object):
//   - Pipeline([(name, StandardScaler), (name, IsolationForest)]) (the scaler
//     step is optional; "passthrough"/None steps are skipped);
//   - a bare IsolationForest;
//   - the prototype's dicts: {"pipeline": <above>, "features": [names],
//     "threshold": number} ("features" and "threshold" optional),
//     {"model": <above>}, {"scaler": StandardScaler, "clf": IsolationForest}.
// Both the scikit-learn 1.2 layout (7-field tree nodes) and the 1.3+ layout
// (nodes with missing_go_to_left) import: node fields are read by name and
// offset from the pickled dtype.
//
// Feature names: the dict's "features", else the estimators'
// feature_names_in_, else feature_1..feature_N (the prototype's convention).
//
// Thread safety: stateless.
#ifndef MH_IFOREST_SKLEARN_IMPORT_H_
#define MH_IFOREST_SKLEARN_IMPORT_H_

#include <string>
#include <string_view>

#include "core/result.h"
#include "iforest/model.h"
#include "iforest/pickle_reader.h"

namespace mh::iforest {

// Imports a model from pickle/joblib bytes; `name` (e.g. the path) prefixes
// messages and becomes card.source. The card also gets the training rows
// (scaler n_samples_seen_ or forest _n_samples), the seed (an int
// random_state) and the parameters ("sklearn_version=1.7.2 n_estimators=100
// ..."). Errors: NotSupported for a refused class ("refusing global
// 'os.system'") or an unsupported feature; Corruption for a malformed pickle,
// corrupt, truncated or over-limit (1 GiB decompressed) compressed data, or
// an inconsistent model (naming the field or tree). Compressed joblib files
// (compress=N, or gzip/bz2/xz/lzma) are decompressed first (ParsePickle).
// `limits` bound the parse (and the decompressed size).
Result<Model> ImportSklearnPickle(std::string_view bytes, const std::string& name,
                                  const PickleLimits& limits = {});

// Reads `path` (at most 1 GiB) and imports it. NotFound if it does not exist,
// IOError if it cannot be read, else as ImportSklearnPickle.
Result<Model> ImportSklearnFile(const std::string& path);

// The bytes of a model file (at most 1 GiB): NotFound if it does not exist,
// IOError if it cannot be read, Corruption if it is larger.
Result<std::string> ReadModelFile(const std::string& path);

// Loads a machine-health model file or a scikit-learn pickle/joblib file,
// chosen by content (the "MHIFORST" magic, a pickle PROTO opcode or a
// compressed joblib file's magic: zlib, gzip, bz2, xz, lzma). Errors
// as LoadModel / ImportSklearnFile; Corruption naming the path if it is
// neither.
Result<Model> LoadAnyModel(const std::string& path);

// LoadAnyModel for bytes already in memory (a download); `name` (secret-free)
// prefixes messages and becomes card.source.
Result<Model> LoadAnyModelBytes(std::string_view bytes, const std::string& name);

}  // namespace mh::iforest

#endif  // MH_IFOREST_SKLEARN_IMPORT_H_
