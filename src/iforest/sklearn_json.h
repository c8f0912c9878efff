// Import of a scikit-learn IsolationForest (optionally behind a
// StandardScaler) from the JSON written by tools/iforest_sklearn_export.py:
//
//   {"feature_names": ["rms", ...],
//    "scaler": null | {"mean": [...], "scale": [...]},
//    "max_samples": 256,                   // max_samples_
//    "offset": -0.5,                       // offset_
//    "estimators_features": [[0, 3], ...] | [],  // [] when every tree uses all features
//    "trees": [{"children_left": [...], "children_right": [...], "feature": [...],
//               "threshold": [...], "n_node_samples": [...]}, ...]}
//
// Other keys are ignored. Thread safety: stateless.
#ifndef MH_IFOREST_SKLEARN_JSON_H_
#define MH_IFOREST_SKLEARN_JSON_H_

#include <string_view>

#include "core/result.h"
#include "iforest/model.h"

namespace mh::iforest {

// Builds a validated Model from the JSON text above. Corruption for invalid
// JSON, a missing or mistyped key (named), or a model failing ValidateModel.
Result<Model> ModelFromSklearnJson(std::string_view json_text);

}  // namespace mh::iforest

#endif  // MH_IFOREST_SKLEARN_JSON_H_
