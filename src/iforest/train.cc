#include "iforest/train.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <string>
#include <thread>
#include <utility>

#include "core/random.h"
#include "core/strings.h"
#include "iforest/scorer.h"

namespace mh::iforest {
namespace {

// sklearn's FEATURE_THRESHOLD: a feature whose range at a node is at most
// this is treated as constant there.
constexpr double kFeatureThreshold = 1e-7;

// xoshiro256** (core/random.h): small, fast, good enough for random
// partitions, and fully determined by (seed, stream).
class Rng : public Xoshiro256StarStar {
 public:
  Rng(std::uint64_t seed, std::uint64_t stream)
      : Xoshiro256StarStar(seed ^ (0x9E3779B97F4A7C15ULL * (stream + 1))) {}
  // Uniform in [0, n), n >= 1, without modulo bias.
  std::uint64_t Below(std::uint64_t n) {
    const std::uint64_t limit =
        std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
    std::uint64_t r;
    do {
      r = Next();
    } while (r >= limit);
    return r % n;
  }
};

struct ForestPlan {
  std::size_t n = 0, d = 0;
  std::int64_t max_samples = 0;
  std::size_t n_tree_features = 0;  // k
  int max_depth = 0;
  bool bootstrap = false;
  std::uint64_t seed = 0;
};

// Per-thread scratch reused across trees.
struct Worker {
  std::vector<std::uint32_t> perm;     // a permutation of [0, n), restored after each tree
  std::vector<std::int32_t> features;  // a permutation of [0, d), restored likewise
  std::vector<std::uint32_t> swaps;    // Fisher-Yates draws, to undo them
  std::vector<std::uint32_t> rows;     // the tree's distinct rows
  std::vector<float> sub;              // rows x k, column-major
  std::vector<std::uint32_t> idx;      // node partitions of [0, m)
  std::vector<std::vector<std::int32_t>> candidates;  // per depth
};

class TreeBuilder {
 public:
  TreeBuilder(const ForestPlan& plan, Rng& rng, Worker& w, std::size_t m, Tree& tree)
      : plan_(plan), rng_(rng), w_(w), m_(m), tree_(tree) {}

  void Build() {
    w_.idx.resize(m_);
    std::iota(w_.idx.begin(), w_.idx.end(), 0u);
    w_.candidates.resize(static_cast<std::size_t>(plan_.max_depth) + 1);
    Grow(0, m_, 0);
  }

 private:
  std::int32_t AddNode(std::size_t count, int depth) {
    tree_.left.push_back(-1);
    tree_.right.push_back(-1);
    tree_.feature.push_back(-2);  // sklearn's TREE_UNDEFINED at leaves
    tree_.threshold.push_back(-2.0);
    tree_.n_node_samples.push_back(static_cast<double>(count));
    tree_.depth.push_back(depth);
    return static_cast<std::int32_t>(tree_.left.size() - 1);
  }

  // Grows the subtree over idx[begin, end); nodes are numbered in pre-order,
  // so children always follow their parent.
  std::int32_t Grow(std::size_t begin, std::size_t end, int depth) {
    const std::int32_t node = AddNode(end - begin, depth);
    if (depth >= plan_.max_depth || end - begin < 2) return node;
    std::vector<std::int32_t>& cand = w_.candidates[static_cast<std::size_t>(depth)];
    cand.resize(plan_.n_tree_features);
    std::iota(cand.begin(), cand.end(), 0);
    std::size_t n_cand = cand.size();
    const std::uint32_t* idx = w_.idx.data();
    while (n_cand > 0) {
      const std::size_t j = rng_.Below(n_cand);
      const std::int32_t f = cand[j];
      const float* col = w_.sub.data() + static_cast<std::size_t>(f) * m_;
      float lo = col[idx[begin]], hi = lo;
      for (std::size_t i = begin + 1; i < end; ++i) {
        const float v = col[idx[i]];
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
      if (static_cast<double>(hi) <= static_cast<double>(lo) + kFeatureThreshold) {
        std::swap(cand[j], cand[n_cand - 1]);  // constant here: draw another feature
        --n_cand;
        continue;
      }
      const double dlo = lo, dhi = hi;
      double threshold = (dhi - dlo) * rng_.Uniform() + dlo;
      if (threshold >= dhi) threshold = dlo;  // rounding reached max: keep both sides non-empty
      std::uint32_t* first = w_.idx.data() + begin;
      std::uint32_t* last = w_.idx.data() + end;
      std::uint32_t* mid = std::partition(
          first, last, [&](std::uint32_t r) { return static_cast<double>(col[r]) <= threshold; });
      const auto split = begin + static_cast<std::size_t>(mid - first);
      tree_.feature[node] = f;
      tree_.threshold[node] = threshold;
      const std::int32_t l = Grow(begin, split, depth + 1);
      const std::int32_t r = Grow(split, end, depth + 1);
      tree_.left[node] = l;
      tree_.right[node] = r;
      return node;
    }
    return node;  // every feature constant: a leaf, as in sklearn
  }

  const ForestPlan& plan_;
  Rng& rng_;
  Worker& w_;
  std::size_t m_;
  Tree& tree_;
};

// Fits tree t; xs is the scaled input, n x d column-major float32.
void FitTree(const ForestPlan& plan, const std::vector<float>& xs, std::size_t t, Worker& w,
             Tree& tree, std::vector<std::int32_t>& subset) {
  Rng rng(plan.seed, t);
  const std::size_t k = plan.n_tree_features;
  subset.clear();
  if (k < plan.d) {
    // Partial Fisher-Yates, then undo the swaps so the next tree starts from
    // the identity (keeps trees independent of which worker built them).
    std::vector<std::pair<std::size_t, std::size_t>> swaps;
    swaps.reserve(k);
    for (std::size_t i = 0; i < k; ++i) {
      const std::size_t j = i + rng.Below(plan.d - i);
      std::swap(w.features[i], w.features[j]);
      swaps.emplace_back(i, j);
    }
    subset.assign(w.features.begin(), w.features.begin() + static_cast<std::ptrdiff_t>(k));
    for (auto it = swaps.rbegin(); it != swaps.rend(); ++it) {
      std::swap(w.features[it->first], w.features[it->second]);
    }
  }
  const auto psi = static_cast<std::size_t>(plan.max_samples);
  w.rows.clear();
  if (plan.bootstrap) {
    // sklearn passes bootstrap counts as sample weights: a tree sees each
    // drawn row once, so node sample counts are distinct rows.
    for (std::size_t i = 0; i < psi; ++i) {
      w.rows.push_back(static_cast<std::uint32_t>(rng.Below(plan.n)));
    }
    std::sort(w.rows.begin(), w.rows.end());
    w.rows.erase(std::unique(w.rows.begin(), w.rows.end()), w.rows.end());
  } else {
    w.swaps.clear();
    for (std::size_t i = 0; i < psi; ++i) {
      const std::size_t j = i + rng.Below(plan.n - i);
      std::swap(w.perm[i], w.perm[j]);
      w.rows.push_back(w.perm[i]);
      w.swaps.push_back(static_cast<std::uint32_t>(j));
    }
    // Undo the swaps so the next tree again starts from the identity.
    for (std::size_t i = psi; i-- > 0;) std::swap(w.perm[i], w.perm[w.swaps[i]]);
  }
  const std::size_t m = w.rows.size();
  w.sub.resize(m * k);
  for (std::size_t f = 0; f < k; ++f) {
    const std::size_t src = k < plan.d ? static_cast<std::size_t>(subset[f]) : f;
    const float* col = xs.data() + src * plan.n;
    float* dst = w.sub.data() + f * m;
    for (std::size_t i = 0; i < m; ++i) dst[i] = col[w.rows[i]];
  }
  tree = Tree{};
  TreeBuilder(plan, rng, w, m, tree).Build();
}

Status CheckInput(const Matrix& x, const std::vector<std::string>& names) {
  if (x.rows == 0 || x.cols == 0) return Status::InvalidArgument("training data is empty");
  if (x.data.size() != x.rows * x.cols) {
    return Status::InvalidArgument("matrix data size differs from rows x cols");
  }
  if (names.size() != x.cols) {
    return Status::InvalidArgument("got " + std::to_string(names.size()) + " feature names for " +
                                   std::to_string(x.cols) + " columns");
  }
  if (x.rows > std::numeric_limits<std::uint32_t>::max()) {
    return Status::InvalidArgument("too many training rows");
  }
  std::set<std::string> seen;
  for (const std::string& name : names) {
    if (name.empty()) return Status::InvalidArgument("empty feature name");
    if (!seen.insert(name).second) {
      return Status::InvalidArgument("duplicate feature name '" + name + "'");
    }
  }
  for (std::size_t i = 0; i < x.rows; ++i) {
    for (std::size_t j = 0; j < x.cols; ++j) {
      const double v = x.data[i * x.cols + j];
      if (!std::isfinite(v)) {
        return Status::InvalidArgument("row " + std::to_string(i) + ", column " +
                                       std::to_string(j) + " (" + names[j] + ") is " +
                                       (std::isnan(v) ? "nan" : "infinite"));
      }
    }
  }
  return Status::OK();
}

// sklearn StandardScaler (population variance; near-constant features get
// scale 1, using sklearn's bound on the variance's rounding error).
StandardScaler FitScaler(const Matrix& x) {
  const std::size_t n = x.rows, d = x.cols;
  StandardScaler s;
  s.mean.assign(d, 0.0);
  s.scale.assign(d, 1.0);
  for (std::size_t j = 0; j < d; ++j) {
    double sum = 0.0;
    for (std::size_t i = 0; i < n; ++i) sum += x.data[i * d + j];
    const double mean = sum / static_cast<double>(n);
    double ss = 0.0, corr = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const double dev = x.data[i * d + j] - mean;
      ss += dev * dev;
      corr += dev;
    }
    const double nd = static_cast<double>(n);
    const double var = (ss - corr * corr / nd) / nd;  // corrected two-pass
    const double eps = std::numeric_limits<double>::epsilon();
    const double bound = nd * eps * var + (nd * mean * eps) * (nd * mean * eps);
    s.mean[j] = mean;
    s.scale[j] = (var <= bound) ? 1.0 : std::sqrt(var);
  }
  return s;
}

std::string FormatParams(const TrainOptions& o, std::int64_t max_samples, std::size_t k) {
  return "n_estimators=" + std::to_string(o.n_estimators) + " max_samples=" + o.max_samples +
         " max_samples_=" + std::to_string(max_samples) +
         " max_features=" + FormatDouble(o.max_features) +
         " features_per_tree=" + std::to_string(k) +
         " bootstrap=" + (o.bootstrap ? "true" : "false") + " contamination=" + o.contamination +
         " standardize=" + (o.standardize ? "true" : "false");
}

int ResolveThreads(int threads, std::size_t work) {
  int n = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  if (n < 1) n = 1;
  if (static_cast<std::size_t>(n) > work) n = static_cast<int>(std::max<std::size_t>(work, 1));
  return n;
}

// Runs fn(worker_index, item) for items [0, count) on `threads` threads, each
// thread taking a fixed stride (results never depend on scheduling).
template <typename Fn>
void ParallelFor(int threads, std::size_t count, Fn fn) {
  if (threads <= 1) {
    for (std::size_t i = 0; i < count; ++i) fn(0, i);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads));
  for (int w = 0; w < threads; ++w) {
    pool.emplace_back([w, threads, count, &fn] {
      for (std::size_t i = static_cast<std::size_t>(w); i < count;
           i += static_cast<std::size_t>(threads)) {
        fn(w, i);
      }
    });
  }
  for (auto& th : pool) th.join();
}

}  // namespace

double Percentile(std::vector<double> values, double q) {
  MH_CHECK(!values.empty() && q >= 0.0 && q <= 100.0);
  std::sort(values.begin(), values.end());
  const double quantile = q / 100.0;
  const std::size_t n = values.size();
  const double virtual_index = static_cast<double>(n - 1) * quantile;
  if (virtual_index >= static_cast<double>(n - 1)) return values.back();
  const double prev = std::floor(virtual_index);
  const auto i = static_cast<std::size_t>(prev);
  const double a = values[i], b = values[i + 1];
  const double gamma = virtual_index - prev;
  const double diff = b - a;
  // numpy's _lerp: interpolate from the nearer end.
  return gamma >= 0.5 ? b - diff * (1.0 - gamma) : a + diff * gamma;
}

Result<std::int64_t> ResolveMaxSamples(const std::string& max_samples, std::int64_t n) {
  if (max_samples == "auto") return std::min<std::int64_t>(256, n);
  const bool integral = max_samples.find_first_of(".eE") == std::string::npos;
  if (integral) {
    Result<std::int64_t> v = ParseInt(max_samples);
    if (!v.ok() || *v < 1) {
      return Status::InvalidArgument("max_samples '" + max_samples +
                                     "' is not 'auto', an integer >= 1 or a fraction in (0, 1]");
    }
    return std::min(*v, n);
  }
  Result<double> f = ParseDouble(max_samples);
  if (!f.ok() || !(*f > 0.0 && *f <= 1.0)) {
    return Status::InvalidArgument("max_samples '" + max_samples +
                                   "' is not 'auto', an integer >= 1 or a fraction in (0, 1]");
  }
  // sklearn: int(max_samples * n_samples); we keep at least one row.
  return std::max<std::int64_t>(1, static_cast<std::int64_t>(*f * static_cast<double>(n)));
}

Result<Model> Train(const Matrix& x, std::vector<std::string> names, const TrainOptions& options) {
  MH_RETURN_IF_ERROR(CheckInput(x, names));
  const std::size_t n = x.rows, d = x.cols;
  if (options.n_estimators < 1 || options.n_estimators > 100000) {
    return Status::InvalidArgument("n_estimators " + std::to_string(options.n_estimators) +
                                   " is not in [1, 100000]");
  }
  if (options.threads < 0) {
    return Status::InvalidArgument("threads " + std::to_string(options.threads) + " is negative");
  }
  MH_ASSIGN_OR_RETURN(const std::int64_t max_samples,
                      ResolveMaxSamples(options.max_samples, static_cast<std::int64_t>(n)));
  const double mf = options.max_features;
  std::size_t k = 0;
  if (!(mf > 0.0) || !std::isfinite(mf)) {
    return Status::InvalidArgument("max_features " + FormatDouble(mf) + " is not positive");
  } else if (mf <= 1.0) {
    k = std::max<std::size_t>(1, static_cast<std::size_t>(mf * static_cast<double>(d)));
  } else if (mf != std::floor(mf) || mf > static_cast<double>(d)) {
    return Status::InvalidArgument("max_features " + FormatDouble(mf) +
                                   " is neither a fraction in (0, 1] nor an integer in (1, " +
                                   std::to_string(d) + "]");
  } else {
    k = static_cast<std::size_t>(mf);
  }
  double contamination = 0.0;
  if (options.contamination != "auto") {
    Result<double> c = ParseDouble(options.contamination);
    if (!c.ok() || !(*c > 0.0 && *c <= 0.5)) {
      return Status::InvalidArgument("contamination '" + options.contamination +
                                     "' is not 'auto' or a fraction in (0, 0.5]");
    }
    contamination = *c;
  }

  Model model;
  model.feature_names = std::move(names);
  model.has_scaler = options.standardize;
  if (options.standardize) model.scaler = FitScaler(x);
  model.max_samples = max_samples;

  // Scaled input as float32, column-major (trees compare float32 values).
  std::vector<float> xs(n * d);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < d; ++j) {
      const double v = x.data[i * d + j];
      xs[j * n + i] = static_cast<float>(
          options.standardize ? (v - model.scaler.mean[j]) / model.scaler.scale[j] : v);
    }
  }

  ForestPlan plan;
  plan.n = n;
  plan.d = d;
  plan.max_samples = max_samples;
  plan.n_tree_features = k;
  plan.max_depth = static_cast<int>(
      std::ceil(std::log2(static_cast<double>(std::max<std::int64_t>(max_samples, 2)))));
  plan.bootstrap = options.bootstrap;
  plan.seed = options.seed;

  const auto n_trees = static_cast<std::size_t>(options.n_estimators);
  model.trees.resize(n_trees);
  std::vector<std::vector<std::int32_t>> subsets(n_trees);
  const int threads = ResolveThreads(options.threads, n_trees);
  std::vector<Worker> workers(static_cast<std::size_t>(threads));
  for (Worker& w : workers) {
    if (!plan.bootstrap) {
      w.perm.resize(n);
      std::iota(w.perm.begin(), w.perm.end(), 0u);
    }
    w.features.resize(d);
    std::iota(w.features.begin(), w.features.end(), 0);
  }
  ParallelFor(threads, n_trees, [&](int w, std::size_t t) {
    FitTree(plan, xs, t, workers[static_cast<std::size_t>(w)], model.trees[t], subsets[t]);
  });
  if (k < d) model.tree_features = std::move(subsets);
  MH_RETURN_IF_ERROR(ValidateModel(model).WithContext("internal error: trained model invalid"));

  model.offset = -0.5;
  if (options.contamination != "auto") {
    std::vector<double> scores(n);
    ParallelScorer(model, options.threads).ScoreSamplesBatch(x, scores);
    model.offset = Percentile(std::move(scores), 100.0 * contamination);
  }

  model.card.rows = static_cast<std::int64_t>(n);
  model.card.seed = options.seed;
  model.card.params = FormatParams(options, max_samples, k);
  return model;
}

}  // namespace mh::iforest
