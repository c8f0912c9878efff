#include "iforest/sklearn_import.h"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <system_error>
#include <vector>

#include "core/strings.h"
#include "iforest/model_io.h"
#include "iforest/pickle_numpy.h"
#include "iforest/pickle_reader.h"

namespace mh::iforest {
namespace {

constexpr std::size_t kMaxFileBytes = std::size_t{1} << 30;

Status Bad(const std::string& what) { return Status::Corruption(what); }

bool IsClass(const PickleValue* v, std::string_view module, std::string_view name) {
  return v != nullptr && v->kind == PickleKind::kObject && v->callable != nullptr &&
         v->callable->IsGlobal(module, name);
}

// The BUILD state dict of an sklearn estimator object.
Result<const PickleValue*> StateDict(const PickleValue& obj, const std::string& what) {
  if (obj.state == nullptr || obj.state->kind != PickleKind::kDict) {
    return Bad(what + ": state is not a dict");
  }
  return obj.state;
}

Result<const PickleValue*> Field(const PickleValue& dict, std::string_view key,
                                 const std::string& what) {
  const PickleValue* v = dict.Get(key);
  if (v == nullptr) return Bad(what + ": missing '" + std::string(key) + "'");
  return v;
}

// Text for a parameter value in the card.
std::string ParamText(const PickleValue* v) {
  if (v == nullptr) return "?";
  switch (v->kind) {
    case PickleKind::kNone:
      return "None";
    case PickleKind::kBool:
      return v->boolean ? "True" : "False";
    case PickleKind::kInt:
      return std::to_string(v->integer);
    case PickleKind::kFloat: {
      std::string t = FormatDouble(v->number);  // Python's repr: 1.0, not 1
      if (t.find_first_of(".eEnI") == std::string::npos) t += ".0";
      return t;
    }
    case PickleKind::kString:
      return v->text.size() <= 64 ? v->text : v->text.substr(0, 64);
    default: {
      Result<double> d = NumberFromPickle(*v);
      if (d.ok()) return FormatDouble(*d);
      return DescribePickleValue(*v);
    }
  }
}

Result<std::vector<double>> Doubles(const PickleValue& v, const std::string& what) {
  Result<NumpyArray> a = ArrayFromPickle(v);
  if (!a.ok()) return Bad(what + ": " + a.status().message());
  Result<std::vector<double>> d = ArrayDoubles(*a);
  if (!d.ok()) return Bad(what + ": " + d.status().message());
  return d;
}

struct Parts {
  const PickleValue* scaler = nullptr;  // StandardScaler object or null
  const PickleValue* forest = nullptr;  // IsolationForest object
  const PickleValue* features = nullptr;
  const PickleValue* threshold = nullptr;
};

Status FromEstimator(const PickleValue* est, Parts* parts) {
  if (IsClass(est, "sklearn.ensemble._iforest", "IsolationForest")) {
    parts->forest = est;
    return Status::OK();
  }
  if (!IsClass(est, "sklearn.pipeline", "Pipeline")) {
    return Status::NotSupported(
        "expected a Pipeline or an IsolationForest, got " +
        (est == nullptr ? std::string("nothing") : DescribePickleValue(*est)));
  }
  MH_ASSIGN_OR_RETURN(const PickleValue* st, StateDict(*est, "Pipeline"));
  MH_ASSIGN_OR_RETURN(const PickleValue* steps, Field(*st, "steps", "Pipeline"));
  if (steps->kind != PickleKind::kList && steps->kind != PickleKind::kTuple) {
    return Bad("Pipeline: steps is not a list");
  }
  for (std::size_t i = 0; i < steps->items.size(); ++i) {
    const PickleValue* step = steps->items[i];
    if (step->kind != PickleKind::kTuple || step->items.size() != 2) {
      return Bad("Pipeline: step " + std::to_string(i) + " is not a (name, estimator) pair");
    }
    const PickleValue* e = step->items[1];
    if (e->kind == PickleKind::kNone ||
        (e->kind == PickleKind::kString && e->text == "passthrough")) {
      continue;
    }
    if (IsClass(e, "sklearn.preprocessing._data", "StandardScaler") && parts->scaler == nullptr &&
        parts->forest == nullptr) {
      parts->scaler = e;
    } else if (IsClass(e, "sklearn.ensemble._iforest", "IsolationForest") &&
               parts->forest == nullptr && i + 1 == steps->items.size()) {
      parts->forest = e;
    } else {
      return Status::NotSupported("Pipeline: step " + std::to_string(i) + " (" +
                                  DescribePickleValue(*e) +
                                  ") is not supported; expected [StandardScaler,] IsolationForest");
    }
  }
  if (parts->forest == nullptr) return Bad("Pipeline: no IsolationForest as the last step");
  return Status::OK();
}

Status FindParts(const PickleValue& root, Parts* parts) {
  if (root.kind != PickleKind::kDict) return FromEstimator(&root, parts);
  if (const PickleValue* p = root.Get("pipeline"); p != nullptr) {
    parts->features = root.Get("features");
    parts->threshold = root.Get("threshold");
    return FromEstimator(p, parts);
  }
  if (const PickleValue* m = root.Get("model"); m != nullptr) return FromEstimator(m, parts);
  const PickleValue* scaler = root.Get("scaler");
  const PickleValue* clf = root.Get("clf");
  if (scaler != nullptr && clf != nullptr) {
    if (!IsClass(scaler, "sklearn.preprocessing._data", "StandardScaler")) {
      return Status::NotSupported("dict 'scaler' is a " + DescribePickleValue(*scaler) +
                                  ", not a StandardScaler");
    }
    if (!IsClass(clf, "sklearn.ensemble._iforest", "IsolationForest")) {
      return Status::NotSupported("dict 'clf' is a " + DescribePickleValue(*clf) +
                                  ", not an IsolationForest");
    }
    parts->scaler = scaler;
    parts->forest = clf;
    parts->features = root.Get("features");
    parts->threshold = root.Get("threshold");
    return Status::OK();
  }
  std::string keys;
  for (std::size_t i = 0; i < root.items.size() && i < 40; i += 2) {
    keys += (keys.empty() ? "" : ", ") + (root.items[i]->kind == PickleKind::kString
                                              ? "'" + root.items[i]->text + "'"
                                              : DescribePickleValue(*root.items[i]));
  }
  return Status::NotSupported(
      "a dict without the keys 'pipeline', 'model' or 'scaler'+'clf' (keys: " + keys + ")");
}

Status ImportScaler(const PickleValue& obj, Model* m) {
  MH_ASSIGN_OR_RETURN(const PickleValue* st, StateDict(obj, "StandardScaler"));
  const PickleValue* mean = st->Get("mean_");
  const PickleValue* scale = st->Get("scale_");
  if (mean == nullptr || scale == nullptr)
    return Bad("StandardScaler: not fitted (no mean_/scale_)");
  const std::size_t d = m->feature_names.size();
  if (mean->kind == PickleKind::kNone) {
    m->scaler.mean.assign(d, 0.0);
  } else {
    MH_ASSIGN_OR_RETURN(m->scaler.mean, Doubles(*mean, "StandardScaler mean_"));
  }
  if (scale->kind == PickleKind::kNone) {
    m->scaler.scale.assign(d, 1.0);
  } else {
    MH_ASSIGN_OR_RETURN(m->scaler.scale, Doubles(*scale, "StandardScaler scale_"));
  }
  if (m->scaler.mean.size() != d || m->scaler.scale.size() != d) {
    return Bad("StandardScaler: " + std::to_string(m->scaler.mean.size()) + " means and " +
               std::to_string(m->scaler.scale.size()) + " scales for " + std::to_string(d) +
               " features");
  }
  m->has_scaler = true;
  return Status::OK();
}

Result<Tree> ImportTree(const PickleValue& estimator, std::size_t t, std::size_t n_features) {
  const std::string what = "IsolationForest tree " + std::to_string(t);
  if (!IsClass(&estimator, "sklearn.tree._classes", "ExtraTreeRegressor")) {
    return Status::NotSupported(what + " is a " + DescribePickleValue(estimator) +
                                ", not an ExtraTreeRegressor");
  }
  MH_ASSIGN_OR_RETURN(const PickleValue* st, StateDict(estimator, what));
  MH_ASSIGN_OR_RETURN(const PickleValue* tree_obj, Field(*st, "tree_", what));
  if (!IsClass(tree_obj, "sklearn.tree._tree", "Tree")) return Bad(what + ": tree_ is not a Tree");
  const PickleValue* args = tree_obj->args;
  if (args == nullptr || args->items.empty()) return Bad(what + ": Tree has no arguments");
  Result<std::int64_t> tree_features = IntFromPickle(*args->items[0]);
  if (!tree_features.ok() || *tree_features != static_cast<std::int64_t>(n_features)) {
    return Bad(what + ": Tree n_features does not match the feature subset (" +
               std::to_string(n_features) + ")");
  }
  MH_ASSIGN_OR_RETURN(const PickleValue* tst, StateDict(*tree_obj, what + " Tree"));
  MH_ASSIGN_OR_RETURN(const PickleValue* nodes_value, Field(*tst, "nodes", what));
  Result<NumpyArray> nodes = ArrayFromPickle(*nodes_value);
  if (!nodes.ok()) return Bad(what + ": nodes: " + nodes.status().message());
  if (nodes->dtype.kind != 'V' || nodes->shape.size() != 1) {
    return Bad(what + ": nodes is not a 1-d record array");
  }
  if (const PickleValue* count = tst->Get("node_count"); count != nullptr) {
    Result<std::int64_t> c = IntFromPickle(*count);
    if (!c.ok() || *c != static_cast<std::int64_t>(nodes->count)) {
      return Bad(what + ": node_count disagrees with the nodes array");
    }
  }
  if (nodes->count == 0) return Bad(what + ": no nodes");
  Tree tree;
  auto ints32 = [&](const char* field, std::vector<std::int32_t>* out) -> Status {
    Result<std::vector<std::int64_t>> v = ArrayInts(*nodes, field);
    if (!v.ok()) return Bad(what + ": nodes: " + v.status().message());
    out->resize(v->size());
    for (std::size_t i = 0; i < v->size(); ++i) {
      const std::int64_t x = (*v)[i];
      if (x < std::numeric_limits<std::int32_t>::min() ||
          x > std::numeric_limits<std::int32_t>::max()) {
        return Bad(what + ": node " + std::to_string(i) + ": " + field + " out of range");
      }
      (*out)[i] = static_cast<std::int32_t>(x);
    }
    return Status::OK();
  };
  MH_RETURN_IF_ERROR(ints32("left_child", &tree.left));
  MH_RETURN_IF_ERROR(ints32("right_child", &tree.right));
  MH_RETURN_IF_ERROR(ints32("feature", &tree.feature));
  Result<std::vector<double>> thr = ArrayDoubles(*nodes, "threshold");
  if (!thr.ok()) return Bad(what + ": nodes: " + thr.status().message());
  tree.threshold = std::move(*thr);
  Result<std::vector<double>> counts = ArrayDoubles(*nodes, "n_node_samples");
  if (!counts.ok()) return Bad(what + ": nodes: " + counts.status().message());
  tree.n_node_samples = std::move(*counts);
  return tree;
}

Status ImportForest(const PickleValue& obj, Model* m, std::size_t* d_out) {
  MH_ASSIGN_OR_RETURN(const PickleValue* st, StateDict(obj, "IsolationForest"));
  MH_ASSIGN_OR_RETURN(const PickleValue* estimators, Field(*st, "estimators_", "IsolationForest"));
  if (estimators->kind != PickleKind::kList || estimators->items.empty()) {
    return Bad("IsolationForest: estimators_ is not a non-empty list");
  }
  MH_ASSIGN_OR_RETURN(const PickleValue* features_value,
                      Field(*st, "estimators_features_", "IsolationForest"));
  if (features_value->kind != PickleKind::kList ||
      features_value->items.size() != estimators->items.size()) {
    return Bad("IsolationForest: estimators_features_ does not have one entry per tree");
  }
  MH_ASSIGN_OR_RETURN(const PickleValue* nfi, Field(*st, "n_features_in_", "IsolationForest"));
  Result<std::int64_t> d = IntFromPickle(*nfi);
  if (!d.ok() || *d < 1 || *d > (1 << 20)) return Bad("IsolationForest: bad n_features_in_");
  MH_ASSIGN_OR_RETURN(const PickleValue* mf, Field(*st, "_max_features", "IsolationForest"));
  Result<std::int64_t> max_features = IntFromPickle(*mf);
  if (!max_features.ok() || *max_features < 1 || *max_features > *d) {
    return Bad("IsolationForest: bad _max_features");
  }
  MH_ASSIGN_OR_RETURN(const PickleValue* ms, Field(*st, "max_samples_", "IsolationForest"));
  Result<std::int64_t> max_samples = IntFromPickle(*ms);
  if (!max_samples.ok())
    return Bad("IsolationForest: max_samples_: " + max_samples.status().message());
  m->max_samples = *max_samples;
  MH_ASSIGN_OR_RETURN(const PickleValue* off, Field(*st, "offset_", "IsolationForest"));
  Result<double> offset = NumberFromPickle(*off);
  if (!offset.ok()) return Bad("IsolationForest: offset_: " + offset.status().message());
  m->offset = *offset;

  // sklearn feeds the trees X[:, estimators_features_[t]] only when
  // _max_features differs from the feature count; otherwise X itself.
  const bool subsets = *max_features != *d;
  const std::size_t n = estimators->items.size();
  m->trees.reserve(n);
  if (subsets) m->tree_features.resize(n);
  for (std::size_t t = 0; t < n; ++t) {
    std::size_t tree_d = static_cast<std::size_t>(*d);
    if (subsets) {
      const std::string what = "IsolationForest estimators_features_[" + std::to_string(t) + "]";
      Result<NumpyArray> a = ArrayFromPickle(*features_value->items[t]);
      if (!a.ok()) return Bad(what + ": " + a.status().message());
      Result<std::vector<std::int64_t>> idx = ArrayInts(*a);
      if (!idx.ok()) return Bad(what + ": " + idx.status().message());
      for (std::int64_t f : *idx) {
        if (f < 0 || f >= *d) return Bad(what + ": feature index out of range");
        m->tree_features[t].push_back(static_cast<std::int32_t>(f));
      }
      tree_d = idx->size();
    }
    MH_ASSIGN_OR_RETURN(Tree tree, ImportTree(*estimators->items[t], t, tree_d));
    m->trees.push_back(std::move(tree));
  }
  *d_out = static_cast<std::size_t>(*d);

  // Card: training rows, seed and parameters.
  if (const PickleValue* rows = st->Get("_n_samples"); rows != nullptr && m->card.rows == 0) {
    if (Result<std::int64_t> r = IntFromPickle(*rows); r.ok()) m->card.rows = *r;
  }
  if (const PickleValue* rs = st->Get("random_state");
      rs != nullptr && rs->kind == PickleKind::kInt && rs->integer >= 0) {
    m->card.seed = static_cast<std::uint64_t>(rs->integer);
  }
  std::string params;
  if (const PickleValue* v = st->Get("_sklearn_version"); v != nullptr) {
    params = "sklearn_version=" + ParamText(v);
  }
  for (const char* key : {"n_estimators", "max_samples", "max_features", "contamination",
                          "bootstrap", "random_state"}) {
    const PickleValue* v = st->Get(key);
    if (v == nullptr) continue;
    std::string text = v->kind == PickleKind::kObject ? "RandomState" : ParamText(v);
    params += (params.empty() ? "" : " ") + std::string(key) + "=" + text;
  }
  params += " max_samples_=" + std::to_string(m->max_samples);
  m->card.params = params;
  return Status::OK();
}

// Feature names recorded by sklearn when fitted on a DataFrame.
const PickleValue* FeatureNamesIn(const PickleValue* estimator) {
  if (estimator == nullptr || estimator->state == nullptr) return nullptr;
  return estimator->state->Get("feature_names_in_");
}

Result<Model> Import(const PickleValue& root) {
  Parts parts;
  MH_RETURN_IF_ERROR(FindParts(root, &parts));
  Model m;
  std::size_t d = 0;
  MH_RETURN_IF_ERROR(ImportForest(*parts.forest, &m, &d));

  const PickleValue* names_value = parts.features;
  if (names_value == nullptr) names_value = FeatureNamesIn(parts.forest);
  if (names_value == nullptr) names_value = FeatureNamesIn(parts.scaler);
  if (names_value != nullptr && names_value->kind != PickleKind::kNone) {
    Result<std::vector<std::string>> names = StringsFromPickle(*names_value);
    if (!names.ok()) return Bad("feature names: " + names.status().message());
    if (names->size() != d) {
      return Bad("feature names: " + std::to_string(names->size()) + " names for a model of " +
                 std::to_string(d) + " features");
    }
    m.feature_names = std::move(*names);
  } else {
    for (std::size_t j = 0; j < d; ++j)
      m.feature_names.push_back("feature_" + std::to_string(j + 1));
  }
  for (std::size_t j = 0; j < d; ++j) {
    if (m.feature_names[j].empty())
      return Bad("feature names: name " + std::to_string(j) + " is empty");
    for (std::size_t k = 0; k < j; ++k) {
      if (m.feature_names[k] == m.feature_names[j]) {
        return Bad("feature names: '" + m.feature_names[j] + "' appears twice");
      }
    }
  }
  if (parts.scaler != nullptr) {
    MH_RETURN_IF_ERROR(ImportScaler(*parts.scaler, &m));
    const PickleValue* seen = parts.scaler->state->Get("n_samples_seen_");
    if (seen != nullptr) {
      if (Result<std::int64_t> r = IntFromPickle(*seen); r.ok()) m.card.rows = *r;
    }
  }
  if (parts.threshold != nullptr && parts.threshold->kind != PickleKind::kNone) {
    Result<double> t = NumberFromPickle(*parts.threshold);
    if (!t.ok()) return Bad("threshold: " + t.status().message());
    m.has_threshold = true;
    m.threshold = *t;
  }
  Status valid = ValidateModel(m);
  if (!valid.ok()) return Bad("inconsistent model: " + valid.message());
  return m;
}

}  // namespace

Result<std::string> ReadModelFile(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::NotFound(path + ": no such file");
  const auto size = std::filesystem::file_size(path, ec);
  if (!ec && size > kMaxFileBytes) {
    return Status::Corruption(path + ": file of " + std::to_string(size) + " bytes is too large");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open: " + std::strerror(errno));
  // One read into a string of the file's size (a stream copy grows and
  // copies the bytes several times); a file that grew meanwhile is read on.
  std::string bytes(ec ? 0 : static_cast<std::size_t>(size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  if (in.bad()) return Status::IOError(path + ": read failed");
  if (!in.eof() && in.peek() != std::char_traits<char>::eof()) {
    std::ostringstream rest;
    rest << in.rdbuf();
    if (in.bad()) return Status::IOError(path + ": read failed");
    bytes += rest.str();
    if (bytes.size() > kMaxFileBytes) {
      return Status::Corruption(path + ": file of more than " + std::to_string(kMaxFileBytes) +
                                " bytes is too large");
    }
  }
  return bytes;
}

Result<Model> ImportSklearnPickle(std::string_view bytes, const std::string& name,
                                  const PickleLimits& limits) {
  Result<PickleDocument> doc = ParsePickle(bytes, limits);
  if (!doc.ok()) return doc.status().WithContext(name);
  Result<Model> m = Import(doc->root());
  if (!m.ok()) return m.status().WithContext(name);
  m->card.source = name;
  return m;
}

Result<Model> ImportSklearnFile(const std::string& path) {
  MH_ASSIGN_OR_RETURN(std::string bytes, ReadModelFile(path));
  return ImportSklearnPickle(bytes, path);
}

Result<Model> LoadAnyModel(const std::string& path) {
  MH_ASSIGN_OR_RETURN(std::string bytes, ReadModelFile(path));
  return LoadAnyModelBytes(bytes, path);
}

Result<Model> LoadAnyModelBytes(std::string_view bytes, const std::string& path) {
  if (bytes.size() >= 8 && bytes.compare(0, 8, "MHIFORST") == 0) return ParseModel(bytes, path);
  if (LooksLikePickle(bytes)) return ImportSklearnPickle(bytes, path);
  return Status::Corruption(path +
                            ": neither a machine-health model nor a pickle/joblib file "
                            "(unknown first bytes)");
}

}  // namespace mh::iforest
