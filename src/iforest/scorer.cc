#include "iforest/scorer.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <utility>

#include "core/check.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MH_IFOREST_SIMD 1
#else
#define MH_IFOREST_SIMD 0
#endif

namespace mh::iforest {
namespace {

// The largest float <= t: for every float x, x <= FloatAtOrBelow(t) exactly
// when (double)x <= t.
float FloatAtOrBelow(double t) {
  float f = static_cast<float>(t);
  if (static_cast<double>(f) > t) f = std::nextafter(f, -std::numeric_limits<float>::infinity());
  return f;
}

// A leaf's contribution; sklearn adds (nodes on the path = depth + 1) + c(n)
// - 1.0 per tree: keep its rounding order.
double LeafValue(const Tree& tree, std::int32_t i) {
  return (static_cast<double>(tree.depth[i] + 1) + AveragePathLength(tree.n_node_samples[i])) - 1.0;
}

bool CpuHasAvx512() {
#if MH_IFOREST_SIMD
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

bool CpuHasAvx2() {
#if MH_IFOREST_SIMD
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

}  // namespace

Status CheckRow(const Model& model, std::span<const double> row) {
  if (row.size() != model.feature_names.size()) {
    return Status::InvalidArgument("row has " + std::to_string(row.size()) +
                                   " values, the model expects " +
                                   std::to_string(model.feature_names.size()));
  }
  for (std::size_t j = 0; j < row.size(); ++j) {
    if (!std::isfinite(row[j])) {
      return Status::InvalidArgument("column " + std::to_string(j) + " (" + model.feature_names[j] +
                                     ") is " + (std::isnan(row[j]) ? "nan" : "infinite"));
    }
  }
  return Status::OK();
}

Scorer::Scorer(const Model& model, ScorerOptions options)
    : num_features_(model.feature_names.size()),
      has_scaler_(model.has_scaler),
      mean_(model.scaler.mean.data()),
      scale_(model.scaler.scale.data()),
      offset_(model.offset) {
  MH_CHECK(!model.trees.empty());
  MH_CHECK(!has_scaler_ || (model.scaler.mean.size() == num_features_ &&
                            model.scaler.scale.size() == num_features_));
  // sklearn: len(estimators_) * _average_path_length([max_samples_]).
  denominator_ = static_cast<double>(model.trees.size()) *
                 AveragePathLength(static_cast<double>(model.max_samples));
  std::size_t total = 0;
  for (const Tree& tree : model.trees) total += tree.size();
  nodes_.reserve(total);
  roots_.reserve(model.trees.size());
  std::vector<std::int32_t> order;  // breadth-first: new index -> tree node
  for (std::size_t t = 0; t < model.trees.size(); ++t) {
    const Tree& tree = model.trees[t];
    MH_CHECK(tree.depth.size() == tree.size());
    const std::vector<std::int32_t>* subset =
        (model.tree_features.empty() || model.tree_features[t].empty()) ? nullptr
                                                                        : &model.tree_features[t];
    const auto base = static_cast<std::int32_t>(nodes_.size());
    roots_.push_back(base);
    // Breadth-first renumbering puts the two children of a node next to each
    // other, so a node needs only one child index.
    order.assign(1, 0);
    for (std::size_t k = 0; k < order.size(); ++k) {
      const std::int32_t i = order[k];
      Node node{};
      if (tree.left[i] < 0) {
        node.value = LeafValue(tree, i);
        node.feature = -1;
        node.left = -1;
      } else {
        node.value = tree.threshold[i];
        // Map the tree-local feature to the model's column once, here, so
        // scoring needs no per-tree gather.
        node.feature = subset ? (*subset)[tree.feature[i]] : tree.feature[i];
        MH_CHECK(node.feature >= 0 && static_cast<std::size_t>(node.feature) < num_features_);
        node.left = base + static_cast<std::int32_t>(order.size());
        order.push_back(tree.left[i]);
        order.push_back(tree.right[i]);
      }
      nodes_.push_back(node);
    }
    MH_CHECK(order.size() == tree.size());
  }
  // Rows per block: kMaxBlock, or fewer (a multiple of kLanes) for wide rows.
  block_ = std::clamp(kScratchFloats / std::max<std::size_t>(num_features_, 1) / kLanes * kLanes,
                      kLanes, kMaxBlock);
  scratch_.assign(block_ * num_features_, 0.0f);
  depths_.assign(block_, 0.0);
  perfect_ = BuildPerfect(model);
  if (!perfect_) return;  // the pointer layout has only the portable kernel
  const ScorerKernel want = options.kernel;
  bool fits_avx512 = num_features_ <= kSimdMaxFeatures && block_ % kSimdLanes == 0;
  for (const PerfectTree& pt : ptrees_) fits_avx512 = fits_avx512 && pt.depth <= kSimdMaxDepth;
  const bool fits_avx2 = block_ % kAvx2Lanes == 0;
  if ((want == ScorerKernel::kAuto || want == ScorerKernel::kAvx512) && fits_avx512 &&
      CpuHasAvx512()) {
    kernel_ = ScorerKernel::kAvx512;
  } else if ((want == ScorerKernel::kAuto || want == ScorerKernel::kAvx2) && fits_avx2 &&
             CpuHasAvx2()) {
    kernel_ = ScorerKernel::kAvx2;
  }
  if (kernel_ == ScorerKernel::kAvx512) {
    sthr_.assign(ptrees_.size() * kSimdTable, 0.0f);
    sfeat_.assign(ptrees_.size() * kSimdTable, 0);
    for (std::size_t t = 0; t < ptrees_.size(); ++t) {
      const PerfectTree& pt = ptrees_[t];
      const std::size_t internal = (std::size_t{1} << pt.depth) - 1;
      for (std::size_t i = 0; i < internal; ++i) {
        const PerfectNode& n = pnodes_[pt.nodes + i];
        sthr_[t * kSimdTable + i] = n.threshold;
        sfeat_[t * kSimdTable + i] = static_cast<std::int32_t>(n.x_offset / block_ * kSimdLanes);
      }
    }
  } else if (kernel_ == ScorerKernel::kAvx2) {
    BuildAvx2Tables();
  }
}

void Scorer::BuildAvx2Tables() {
  // The sorted distinct thresholds of each feature.
  std::vector<std::vector<float>> splits(num_features_);
  for (const PerfectNode& n : pnodes_) splits[n.x_offset / block_].push_back(n.threshold);
  vsplit_begin_.assign(1, 0);
  vsplits_.clear();
  for (std::vector<float>& u : splits) {
    std::sort(u.begin(), u.end());
    // -0 and 0 are one threshold: every x compares alike with both.
    u.erase(std::unique(u.begin(), u.end()), u.end());
    vsplits_.insert(vsplits_.end(), u.begin(), u.end());
    vsplit_begin_.push_back(static_cast<std::uint32_t>(vsplits_.size()));
  }
  // f << vshift_ | rank: f takes the top bits (for at most 8 features bits
  // 31-29, which the blends read), the rank the others.
  const int fbits = num_features_ <= kAvx2BlendFeatures ? 3 : std::bit_width(num_features_ - 1);
  vshift_ = 32 - fbits;
  std::size_t max_rank = 0;
  for (std::size_t f = 0; f < num_features_; ++f) {
    max_rank = std::max<std::size_t>(max_rank, vsplit_begin_[f + 1] - vsplit_begin_[f]);
  }
  if (fbits > 31 || max_rank >= (std::size_t{1} << vshift_) ||
      (num_features_ > kAvx2BlendFeatures &&
       num_features_ * block_ >
           static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))) {
    kernel_ = ScorerKernel::kPortable;  // cannot happen with kMaxPerfectNodes; stay safe
    return;
  }
  vnodes_.assign(pnodes_.size() + kAvx2Pad, 0);
  for (std::size_t i = 0; i < pnodes_.size(); ++i) {
    const std::size_t f = pnodes_[i].x_offset / block_;
    const float* u = vsplits_.data() + vsplit_begin_[f];
    const float* end = vsplits_.data() + vsplit_begin_[f + 1];
    const auto j = static_cast<std::uint32_t>(std::lower_bound(u, end, pnodes_[i].threshold) - u);
    vnodes_[i] = static_cast<std::int32_t>((static_cast<std::uint32_t>(f) << vshift_) | j);
  }
  ranks_.assign(block_ * num_features_, 0);
  leaf_index_.assign(block_ * kAvx2LeafChunk, 0);
}

bool Scorer::BuildPerfect(const Model& model) {
  std::size_t total = 0;
  std::vector<int> depth(model.trees.size(), 0);
  for (std::size_t t = 0; t < model.trees.size(); ++t) {
    for (std::int32_t d : model.trees[t].depth) depth[t] = std::max(depth[t], static_cast<int>(d));
    if (depth[t] > kMaxPerfectDepth) return false;
    total += std::size_t{1} << depth[t];
    if (total > kMaxPerfectNodes) return false;
  }
  pnodes_.reserve(total);
  pleaves_.reserve(total);
  ptrees_.reserve(model.trees.size());
  struct Step {
    std::int32_t src;
    std::size_t dst;
    int level;
  };
  std::vector<Step> stack;
  for (std::size_t t = 0; t < model.trees.size(); ++t) {
    const Tree& tree = model.trees[t];
    const std::vector<std::int32_t>* subset =
        (model.tree_features.empty() || model.tree_features[t].empty()) ? nullptr
                                                                        : &model.tree_features[t];
    const int d = depth[t];
    const std::size_t internal = (std::size_t{1} << d) - 1;
    const PerfectTree pt{pnodes_.size(), pleaves_.size(), d};
    pnodes_.resize(pnodes_.size() + internal, PerfectNode{0.0f, 0});
    pleaves_.resize(pleaves_.size() + internal + 1, 0.0);
    stack.assign(1, Step{0, 0, 0});
    while (!stack.empty()) {
      const Step step = stack.back();
      stack.pop_back();
      const std::int32_t i = step.src;
      if (step.level == d) {
        MH_CHECK(tree.left[i] < 0);
        pleaves_[pt.leaves + step.dst - internal] = LeafValue(tree, i);
        continue;
      }
      if (tree.left[i] < 0) {
        // A leaf above depth d: both subtrees lead to it, whatever the row.
        stack.push_back(Step{i, 2 * step.dst + 1, step.level + 1});
        stack.push_back(Step{i, 2 * step.dst + 2, step.level + 1});
        continue;
      }
      PerfectNode& node = pnodes_[pt.nodes + step.dst];
      node.threshold = FloatAtOrBelow(tree.threshold[i]);
      const std::int32_t feature = subset ? (*subset)[tree.feature[i]] : tree.feature[i];
      MH_CHECK(feature >= 0 && static_cast<std::size_t>(feature) < num_features_);
      MH_CHECK(static_cast<std::size_t>(feature) * block_ <=
               std::numeric_limits<std::uint32_t>::max());
      node.x_offset = static_cast<std::uint32_t>(static_cast<std::size_t>(feature) * block_);
      stack.push_back(Step{tree.left[i], 2 * step.dst + 1, step.level + 1});
      stack.push_back(Step{tree.right[i], 2 * step.dst + 2, step.level + 1});
    }
    ptrees_.push_back(pt);
  }
  return true;
}

double Scorer::PerfectPathLengthSum(const float* xs) const {
  // kTrees trees descended together, level by level: their node loads are
  // independent, so their cache misses overlap (a machine's forest is rarely
  // in cache when `run` scores one window of each machine in turn). The
  // leaves are added in tree order, so the sum is that of one tree at a time.
  constexpr std::size_t kTrees = 8;
  const auto step = [&](const PerfectNode* nodes, std::size_t i) {
    const PerfectNode& n = nodes[i];
    return 2 * i + 1 + static_cast<std::size_t>(!(xs[n.x_offset] <= n.threshold));
  };
  const auto leaf = [&](const PerfectTree& pt, std::size_t i) {
    return pleaves_[pt.leaves + i - ((std::size_t{1} << pt.depth) - 1)];
  };
  double depths = 0.0;
  const std::size_t trees = ptrees_.size();
  std::size_t t = 0;
  for (; t + kTrees <= trees; t += kTrees) {
    const PerfectTree* g = ptrees_.data() + t;
    const PerfectNode* nodes[kTrees];
    std::size_t at[kTrees];
    int shallowest = g[0].depth, deepest = g[0].depth;
    for (std::size_t l = 0; l < kTrees; ++l) {
      nodes[l] = pnodes_.data() + g[l].nodes;
      at[l] = 0;
      shallowest = std::min(shallowest, g[l].depth);
      deepest = std::max(deepest, g[l].depth);
    }
    int level = 0;
    for (; level < shallowest; ++level) {
      for (std::size_t l = 0; l < kTrees; ++l) at[l] = step(nodes[l], at[l]);
    }
    for (; level < deepest; ++level) {
      for (std::size_t l = 0; l < kTrees; ++l) {
        if (level < g[l].depth) at[l] = step(nodes[l], at[l]);
      }
    }
    for (std::size_t l = 0; l < kTrees; ++l) depths += leaf(g[l], at[l]);
  }
  for (; t < trees; ++t) {
    const PerfectTree& pt = ptrees_[t];
    const PerfectNode* nodes = pnodes_.data() + pt.nodes;
    std::size_t i = 0;
    for (int level = 0; level < pt.depth; ++level) i = step(nodes, i);
    depths += leaf(pt, i);
  }
  return depths;
}

void Scorer::PerfectLanes(const PerfectTree& pt, const float* xs, double* depths) const {
  static_assert(sizeof(PerfectNode) == sizeof(double), "nodes and leaves share byte offsets");
  const char* nodes = reinterpret_cast<const char*>(pnodes_.data() + pt.nodes);
  // kLanes independent descents, fully unrolled so that the positions stay
  // in registers and the loads of different rows overlap. A position is the
  // byte offset of node i (8 i), so that it addresses the node directly;
  // node i's children are at 8 (2 i + 1) and 8 (2 i + 2).
  std::size_t at[kLanes];
#pragma GCC unroll 8
  for (std::size_t l = 0; l < kLanes; ++l) at[l] = 0;
  for (int level = 0; level < pt.depth; ++level) {
#pragma GCC unroll 8
    for (std::size_t l = 0; l < kLanes; ++l) {
      float threshold;
      std::uint32_t x_offset;
      std::memcpy(&threshold, nodes + at[l] + offsetof(PerfectNode, threshold), sizeof threshold);
      std::memcpy(&x_offset, nodes + at[l] + offsetof(PerfectNode, x_offset), sizeof x_offset);
      const bool right = !(xs[x_offset + l] <= threshold);
      at[l] = 2 * at[l] + sizeof(PerfectNode) + (right ? sizeof(PerfectNode) : 0);
    }
  }
  // Leaf k of the expanded tree is position 8 (internal + k).
  const char* leaves = reinterpret_cast<const char*>(pleaves_.data() + pt.leaves) -
                       ((std::size_t{1} << pt.depth) - 1) * sizeof(double);
#pragma GCC unroll 8
  for (std::size_t l = 0; l < kLanes; ++l) {
    double leaf;
    std::memcpy(&leaf, leaves + at[l], sizeof leaf);
    depths[l] += leaf;
  }
}

void Scorer::PerfectBlock(std::size_t rows) {
  const std::size_t groups = (rows + kLanes - 1) / kLanes;
  for (const PerfectTree& pt : ptrees_) {
    for (std::size_t g = 0; g < groups; ++g) {
      PerfectLanes(pt, scratch_.data() + g * kLanes, depths_.data() + g * kLanes);
    }
  }
}

#if MH_IFOREST_SIMD
// GCC 12's intrinsic headers start casts and gathers from _mm*_undefined_*(),
// which -Wmaybe-uninitialized reports once inlined here.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
namespace {

// PerfectLanes for G groups of 16 rows (rows first_row .. first_row + 16 G
// of the block xs, feature f of row r at xs[f * block + r]), each group in
// the lanes of AVX-512 registers; the G groups are independent, so their
// steps overlap. Per level, each lane's node index i selects the node's
// threshold and 16 x feature from the level's slice of the tree's tables
// (thr, feat) with two-register permutes (32 entries each: levels 0-4 from
// one pair kept in registers, level 5 one pair, level 6 two, level 7 four),
// and the row's value of that feature from the group's feature registers the
// same way (entry 16 feature + lane, two features per pair). The compare is
// !(x <= t) (_CMP_NLE_UQ: true for NaN), the step i -> 2 i + 1 (+ 1 to the
// right). The leaf path lengths are gathered and added to depths in tree
// order, so the sums are the portable code's bits. Needs d <= 8, depth <= 8.
template <int G>
__attribute__((target("avx512f"), always_inline)) inline void Avx512Groups(
    const float* thr, const std::int32_t* feat, const double* leaves, int depth, const float* xs,
    std::size_t block, std::size_t d, std::size_t first_row, double* depths) {
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i one = _mm512_set1_epi32(1);
  const __m512i bit5 = _mm512_set1_epi32(32);
  const __m512i bit6 = _mm512_set1_epi32(64);
  const __m512 t_lo = _mm512_loadu_ps(thr), t_hi = _mm512_loadu_ps(thr + 16);
  const __m512i f_lo = _mm512_loadu_si512(feat), f_hi = _mm512_loadu_si512(feat + 16);
  __m512 x[G][8];
  __m512i idx[G];
#pragma GCC unroll 4
  for (int g = 0; g < G; ++g) {
    idx[g] = _mm512_setzero_si512();
#pragma GCC unroll 8
    for (std::size_t f = 0; f < 8; ++f) {
      x[g][f] = f < d ? _mm512_loadu_ps(xs + f * block + first_row + 16 * g) : _mm512_setzero_ps();
    }
  }
  for (int level = 0; level < depth; ++level) {
    __m512 th[G];
    __m512i fe[G];
    if (level <= 4) {
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g) {
        th[g] = _mm512_permutex2var_ps(t_lo, idx[g], t_hi);
        fe[g] = _mm512_permutex2var_epi32(f_lo, idx[g], f_hi);
      }
    } else {
      // Level L holds nodes base .. 2 base, base = 2^L - 1; k = i - base.
      // A permute pair covers 32 entries (k mod 32); bits 5 and 6 of k
      // choose the pair.
      const int base = (1 << level) - 1;
      const float* tb = thr + base;
      const std::int32_t* fb = feat + base;
#pragma GCC unroll 4
      for (int g = 0; g < G; ++g) {
        const __m512i k = _mm512_sub_epi32(idx[g], _mm512_set1_epi32(base));
        th[g] = _mm512_permutex2var_ps(_mm512_loadu_ps(tb), k, _mm512_loadu_ps(tb + 16));
        fe[g] = _mm512_permutex2var_epi32(_mm512_loadu_si512(fb), k, _mm512_loadu_si512(fb + 16));
        if (level >= 6) {
          const __mmask16 m5 = _mm512_test_epi32_mask(k, bit5);
          th[g] = _mm512_mask_mov_ps(
              th[g], m5,
              _mm512_permutex2var_ps(_mm512_loadu_ps(tb + 32), k, _mm512_loadu_ps(tb + 48)));
          fe[g] = _mm512_mask_mov_epi32(fe[g], m5,
                                        _mm512_permutex2var_epi32(_mm512_loadu_si512(fb + 32), k,
                                                                  _mm512_loadu_si512(fb + 48)));
          if (level == 7) {
            const __mmask16 m6 = _mm512_test_epi32_mask(k, bit6);
            const __m512 th_hi = _mm512_mask_mov_ps(
                _mm512_permutex2var_ps(_mm512_loadu_ps(tb + 64), k, _mm512_loadu_ps(tb + 80)), m5,
                _mm512_permutex2var_ps(_mm512_loadu_ps(tb + 96), k, _mm512_loadu_ps(tb + 112)));
            const __m512i fe_hi =
                _mm512_mask_mov_epi32(_mm512_permutex2var_epi32(_mm512_loadu_si512(fb + 64), k,
                                                                _mm512_loadu_si512(fb + 80)),
                                      m5,
                                      _mm512_permutex2var_epi32(_mm512_loadu_si512(fb + 96), k,
                                                                _mm512_loadu_si512(fb + 112)));
            th[g] = _mm512_mask_mov_ps(th[g], m6, th_hi);
            fe[g] = _mm512_mask_mov_epi32(fe[g], m6, fe_hi);
          }
        }
      }
    }
#pragma GCC unroll 4
    for (int g = 0; g < G; ++g) {
      // The row's value: entry 16 feature + lane of x[g][0..7], pairwise.
      const __m512i c = _mm512_add_epi32(fe[g], lane);
      __m512 v = _mm512_permutex2var_ps(x[g][0], c, x[g][1]);
#pragma GCC unroll 3
      for (std::size_t p = 1; p < 4; ++p) {
        if (2 * p >= d) break;
        const __mmask16 in_pair =
            _mm512_cmpge_epi32_mask(c, _mm512_set1_epi32(static_cast<int>(32 * p)));
        v = _mm512_mask_mov_ps(v, in_pair, _mm512_permutex2var_ps(x[g][2 * p], c, x[g][2 * p + 1]));
      }
      const __mmask16 right = _mm512_cmp_ps_mask(v, th[g], _CMP_NLE_UQ);
      idx[g] = _mm512_add_epi32(_mm512_add_epi32(idx[g], idx[g]), one);
      idx[g] = _mm512_mask_add_epi32(idx[g], right, idx[g], one);
    }
  }
  const __m512i internal = _mm512_set1_epi32((1 << depth) - 1);
#pragma GCC unroll 4
  for (int g = 0; g < G; ++g) {
    const __m512i leaf = _mm512_sub_epi32(idx[g], internal);
    double* dd = depths + first_row + 16 * g;
    const __m512d lo = _mm512_i32gather_pd(_mm512_castsi512_si256(leaf), leaves, 8);
    const __m512d hi = _mm512_i32gather_pd(_mm512_extracti64x4_epi64(leaf, 1), leaves, 8);
    _mm512_storeu_pd(dd, _mm512_add_pd(_mm512_loadu_pd(dd), lo));
    _mm512_storeu_pd(dd + 8, _mm512_add_pd(_mm512_loadu_pd(dd + 8), hi));
  }
}

// _mm256_blendv_ps(a, b, m) (b where m's sign bit is set), as one
// instruction: GCC 12 rewrites the intrinsic with a mask that is an integer
// into a compare against zero and a blend, an extra instruction per blend in
// the AVX2 kernel's inner loop.
__attribute__((target("avx2"), always_inline)) inline __m256 Avx2Blend(__m256 a, __m256 b,
                                                                       __m256 m) {
  __m256 r;
  asm("vblendvps %3, %2, %1, %0" : "=x"(r) : "x"(a), "xm"(b), "x"(m));
  return r;
}

// The row's value of each lane's feature, for the AVX2 kernel: D <= 8
// features x[0..D) (lane = row), node = f << 29 | rank per lane, so that the
// sign bits of node << 2, node << 1 and node are bits 0, 1 and 2 of f: a tree
// of blends (5 for 6 features).
template <int D>
__attribute__((target("avx2"), always_inline)) inline __m256 Avx2Select(const __m256* x,
                                                                        __m256i node) {
  static_assert(D >= 1 && D <= 8);
  if constexpr (D == 1) {
    return x[0];
  } else {
    const __m256 m0 = _mm256_castsi256_ps(_mm256_slli_epi32(node, 2));
    constexpr int kA = (D + 1) / 2;
    __m256 a[kA];
#pragma GCC unroll 4
    for (int j = 0; j < kA; ++j) {
      a[j] = 2 * j + 1 < D ? Avx2Blend(x[2 * j], x[2 * j + 1], m0) : x[2 * j];
    }
    if constexpr (D <= 2) {
      return a[0];
    } else {
      const __m256 m1 = _mm256_castsi256_ps(_mm256_slli_epi32(node, 1));
      constexpr int kB = (kA + 1) / 2;
      __m256 b[kB];
#pragma GCC unroll 2
      for (int j = 0; j < kB; ++j) {
        b[j] = 2 * j + 1 < kA ? Avx2Blend(a[2 * j], a[2 * j + 1], m1) : a[2 * j];
      }
      if constexpr (D <= 4) {
        return b[0];
      } else {
        return Avx2Blend(b[0], b[1], _mm256_castsi256_ps(node));
      }
    }
  }
}

// Entry k (per lane, 0 <= k < 8 R) of the table t: one permute per 8
// entries, then blends on bits 3, 4 and 5 of k (shifted to the sign bit).
template <int R>
__attribute__((target("avx2"), always_inline)) inline __m256i Avx2Lookup(const std::int32_t* t,
                                                                         __m256i k) {
  static_assert(R == 1 || R == 2 || R == 4 || R == 8);
  __m256 p[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    p[r] = _mm256_castsi256_ps(_mm256_permutevar8x32_epi32(
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(t + 8 * r)), k));
  }
  int n = R;
  for (int bit = 3; n > 1; ++bit, n /= 2) {
    const __m256 m = _mm256_castsi256_ps(_mm256_slli_epi32(k, 31 - bit));
#if defined(__OPTIMIZE__)  // at -O0 GCC refuses the annotation of this loop (-Werror)
#pragma GCC unroll 4
#endif
    for (int r = 0; r < n / 2; ++r) p[r] = Avx2Blend(p[2 * r], p[2 * r + 1], m);
  }
  return _mm256_castps_si256(p[0]);
}

// -1 in the lanes of the 8 rows at ranks (feature f's at ranks[f * block])
// that go right at the node with code `node`.
__attribute__((target("avx2"), always_inline)) inline __m256 Avx2NodeRight(
    std::int32_t node, const std::int32_t* ranks, std::size_t block, int shift) {
  const std::int32_t* xf = ranks + (static_cast<std::uint32_t>(node) >> shift) * block;
  return _mm256_castsi256_ps(_mm256_cmpgt_epi32(
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xf)), _mm256_set1_epi32(node)));
}

// The deepest level whose nodes the AVX2 kernel looks up with permutes
// (Avx2Lookup) rather than gathers (measured, 200 trees, when thresholds and
// features were two tables: 4 1.48, 5 1.56, 6 1.63, 7 0.89 M rows/s; with
// the one table of codes 5 and 6 are alike, 7 is 1.5 against 2.4).
constexpr int kAvx2PermuteMaxLevel = 6;

// PerfectLanes for G groups of 8 rows (rows first_row .. first_row + 8 G of
// the block, whose codes f << shift | rank of the row's value of feature f
// (see Avx2Rank) are at ranks[f * block + r]), each group in the lanes of
// AVX2 registers; the G groups are independent, so their steps overlap.
// Levels 0-2: Avx2NodeRight for each node, blended by the lane's earlier
// steps. Deeper, each lane's node index i selects the node's code (f <<
// shift | rank of its threshold) from the tree's table with permutes of the
// level's slice (Avx2Lookup) down to kAvx2PermuteMaxLevel and gathers below,
// and the row's code for that feature is picked by Avx2Select (D features) or
// gathered (D = 0). Both codes carry f in the same top bits, so the row goes
// right, !(x <= t), exactly when its code is the greater: i -> 2 i + 1 (+ 1
// to the right). Stores each row's leaf (0 .. 2^depth) at leaf_out[r].
template <int D, int G>
__attribute__((target("avx2"), always_inline)) inline void Avx2Groups(
    const std::int32_t* nodes, int depth, const std::int32_t* ranks, std::size_t block, int shift,
    std::size_t first_row, std::int32_t* leaf_out) {
  const __m256i one = _mm256_set1_epi32(1);
  constexpr int kX = D > 0 ? D : 1;
  __m256 x[G][kX];
  __m256i idx[G];
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) {
    idx[g] = _mm256_setzero_si256();
    if constexpr (D > 0) {
#pragma GCC unroll 8
      for (int f = 0; f < D; ++f) {
        x[g][f] = _mm256_castsi256_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(
            ranks + static_cast<std::size_t>(f) * block + first_row + 8 * g)));
      }
    }
  }
  // Levels 0-2 (nodes 0-6, the same for every lane): compare every lane with
  // each node of the level, then pick each lane's result with blends on the
  // results of the levels above (r[0], r[1]: -1 where the lane went right).
  const int top = std::min(depth, 3);

  __m256 r[G][3];
  for (int level = 0; level < top; ++level) {
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      const std::int32_t* rows_g = ranks + first_row + 8 * g;
      __m256 right;
      if (level == 0) {
        right = Avx2NodeRight(nodes[0], rows_g, block, shift);
      } else if (level == 1) {
        right = Avx2Blend(Avx2NodeRight(nodes[1], rows_g, block, shift),
                          Avx2NodeRight(nodes[2], rows_g, block, shift), r[g][0]);
      } else {
        right = Avx2Blend(Avx2Blend(Avx2NodeRight(nodes[3], rows_g, block, shift),
                                    Avx2NodeRight(nodes[4], rows_g, block, shift), r[g][1]),
                          Avx2Blend(Avx2NodeRight(nodes[5], rows_g, block, shift),
                                    Avx2NodeRight(nodes[6], rows_g, block, shift), r[g][1]),
                          r[g][0]);
      }
      r[g][level] = right;
      idx[g] = _mm256_sub_epi32(_mm256_add_epi32(_mm256_add_epi32(idx[g], idx[g]), one),
                                _mm256_castps_si256(right));
    }
  }
  for (int level = top; level < depth; ++level) {
    __m256i nd[G];
    if (level <= kAvx2PermuteMaxLevel) {
      // Level L holds nodes base .. 2 base, base = 2^L - 1; k = i - base.
      const int base = (1 << level) - 1;
      const std::int32_t* nb = nodes + base;
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g) {
        const __m256i k = _mm256_sub_epi32(idx[g], _mm256_set1_epi32(base));
        if (level == 3) {
          nd[g] = Avx2Lookup<1>(nb, k);
        } else if (level == 4) {
          nd[g] = Avx2Lookup<2>(nb, k);
        } else if (level == 5) {
          nd[g] = Avx2Lookup<4>(nb, k);
        } else {
          nd[g] = Avx2Lookup<8>(nb, k);
        }
      }
    } else {
#pragma GCC unroll 8
      for (int g = 0; g < G; ++g) nd[g] = _mm256_i32gather_epi32(nodes, idx[g], 4);
    }
#pragma GCC unroll 8
    for (int g = 0; g < G; ++g) {
      __m256i v;
      if constexpr (D > 0) {
        v = _mm256_castps_si256(Avx2Select<kX>(x[g], nd[g]));
      } else {
        // f * block + lane: where the lane's rank of feature f is.
        const __m256i at =
            _mm256_add_epi32(_mm256_mullo_epi32(_mm256_srli_epi32(nd[g], shift),
                                                _mm256_set1_epi32(static_cast<int>(block))),
                             _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        v = _mm256_i32gather_epi32(ranks + first_row + 8 * g, at, 4);
      }
      // right is -1 in the lanes that go right: i -> 2 i + 1 - right.
      const __m256i right = _mm256_cmpgt_epi32(v, nd[g]);
      idx[g] = _mm256_sub_epi32(_mm256_add_epi32(_mm256_add_epi32(idx[g], idx[g]), one), right);
    }
  }
  const __m256i internal = _mm256_set1_epi32((1 << depth) - 1);
#pragma GCC unroll 8
  for (int g = 0; g < G; ++g) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(leaf_out + first_row + 8 * g),
                        _mm256_sub_epi32(idx[g], internal));
  }
}

// The ranks of one feature (see Scorer::PerfectBlockAvx2): out[r] = top |
// #{j : !(xs[r] <= u[j])} for the n > 0 sorted thresholds u and rows (a
// multiple of 8) values xs. The predicate holds for a prefix of u (all of it
// for NaN), so a branch-free binary search finds its length: 8 rows in the
// lanes of a register, kAvx2RankGroups registers at a time; every lane takes the same
// steps (len is shared), only the positions differ.
constexpr int kAvx2RankGroups = 4;
template <int K>
__attribute__((target("avx2"), always_inline)) inline void Avx2RankGroups(
    const float* u, std::uint32_t n, __m256i top, const float* xs, std::int32_t* out) {
  __m256 x[K];
  __m256i b[K];
#pragma GCC unroll 8
  for (int k = 0; k < K; ++k) {
    x[k] = _mm256_loadu_ps(xs + 8 * k);
    b[k] = _mm256_setzero_si256();
  }
  for (std::uint32_t len = n; len > 1;) {
    const std::uint32_t half = len / 2;
    const __m256i h = _mm256_set1_epi32(static_cast<int>(half));
#pragma GCC unroll 8
    for (int k = 0; k < K; ++k) {
      const __m256 t = _mm256_i32gather_ps(u + half - 1, b[k], 4);
      b[k] = _mm256_add_epi32(
          b[k], _mm256_and_si256(_mm256_castps_si256(_mm256_cmp_ps(x[k], t, _CMP_NLE_UQ)), h));
    }
    len -= half;
  }
#pragma GCC unroll 8
  for (int k = 0; k < K; ++k) {
    const __m256 t = _mm256_i32gather_ps(u, b[k], 4);
    b[k] = _mm256_sub_epi32(b[k], _mm256_castps_si256(_mm256_cmp_ps(x[k], t, _CMP_NLE_UQ)));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8 * k), _mm256_or_si256(b[k], top));
  }
}

__attribute__((target("avx2"))) void Avx2Rank(const float* u, std::uint32_t n, std::uint32_t top,
                                              const float* xs, std::size_t rows,
                                              std::int32_t* out) {
  const __m256i top_v = _mm256_set1_epi32(static_cast<int>(top));
  std::size_t r = 0;
  for (; r + 8 * kAvx2RankGroups <= rows; r += 8 * kAvx2RankGroups) {
    Avx2RankGroups<kAvx2RankGroups>(u, n, top_v, xs + r, out + r);
  }
  for (; r < rows; r += 8) Avx2RankGroups<1>(u, n, top_v, xs + r, out + r);
}

// All groups of the block's first `rows` rows for one tree, kAvx2Groups at a
// time: enough independent work to hide the latency of a level (measured,
// 200 trees: 2 groups 1.55, 3 1.73, 4 2.02, 6 2.10, 8 2.20, 12 1.74, 16 1.83
// M rows/s).
constexpr int kAvx2Groups = 8;
template <int D>
__attribute__((target("avx2"))) void Avx2Tree(const std::int32_t* nodes, int depth,
                                              const std::int32_t* ranks, std::size_t block,
                                              int shift, std::size_t rows, std::int32_t* leaf_out) {
  const std::size_t groups = (rows + 7) / 8;
  std::size_t g = 0;
  for (; g + kAvx2Groups <= groups; g += kAvx2Groups) {
    Avx2Groups<D, kAvx2Groups>(nodes, depth, ranks, block, shift, g * 8, leaf_out);
  }
  for (; g < groups; ++g) Avx2Groups<D, 1>(nodes, depth, ranks, block, shift, g * 8, leaf_out);
}

}  // namespace

__attribute__((target("avx512f"))) void Scorer::PerfectBlockAvx512(std::size_t rows) {
  static_assert(kSimdLanes == 16 && kSimdMaxFeatures == 8 && kSimdMaxDepth == 8);
  const std::size_t groups = (rows + kSimdLanes - 1) / kSimdLanes;
  for (std::size_t t = 0; t < ptrees_.size(); ++t) {
    const PerfectTree& pt = ptrees_[t];
    const float* thr = sthr_.data() + t * kSimdTable;
    const std::int32_t* feat = sfeat_.data() + t * kSimdTable;
    const double* leaves = pleaves_.data() + pt.leaves;
    // Four groups (64 rows) at a time: enough independent work to hide the
    // permutes' latency (measured: 2 groups 2.4, 4 groups 3.0 M rows/s).
    std::size_t g = 0;
    for (; g + 4 <= groups; g += 4) {
      Avx512Groups<4>(thr, feat, leaves, pt.depth, scratch_.data(), block_, num_features_,
                      g * kSimdLanes, depths_.data());
    }
    for (; g < groups; ++g) {
      Avx512Groups<1>(thr, feat, leaves, pt.depth, scratch_.data(), block_, num_features_,
                      g * kSimdLanes, depths_.data());
    }
  }
}
void Scorer::PerfectBlockAvx2(std::size_t rows) {
  static_assert(kAvx2Lanes == 8 && kAvx2BlendFeatures == 8);
  const std::size_t padded = (rows + kAvx2Lanes - 1) / kAvx2Lanes * kAvx2Lanes;
  for (std::size_t f = 0; f < num_features_; ++f) {
    const std::uint32_t n = vsplit_begin_[f + 1] - vsplit_begin_[f];
    const std::uint32_t top = static_cast<std::uint32_t>(f) << vshift_;
    if (n == 0) {
      std::fill_n(ranks_.data() + f * block_, padded, static_cast<std::int32_t>(top));
      continue;
    }
    Avx2Rank(vsplits_.data() + vsplit_begin_[f], n, top, scratch_.data() + f * block_, padded,
             ranks_.data() + f * block_);
  }
  using TreeFn = void (*)(const std::int32_t*, int, const std::int32_t*, std::size_t, int,
                          std::size_t, std::int32_t*);
  static constexpr TreeFn kByFeatures[] = {Avx2Tree<0>, Avx2Tree<1>, Avx2Tree<2>,
                                           Avx2Tree<3>, Avx2Tree<4>, Avx2Tree<5>,
                                           Avx2Tree<6>, Avx2Tree<7>, Avx2Tree<8>};
  const TreeFn tree_fn = kByFeatures[num_features_ <= kAvx2BlendFeatures ? num_features_ : 0];
  // kAvx2LeafChunk trees at a time: their leaf indices (leaf_index_, L1-sized),
  // then every row adds their path lengths, tree by tree.
  for (std::size_t t0 = 0; t0 < ptrees_.size(); t0 += kAvx2LeafChunk) {
    const std::size_t chunk = std::min(kAvx2LeafChunk, ptrees_.size() - t0);
    const double* leaves[kAvx2LeafChunk];
    for (std::size_t k = 0; k < chunk; ++k) {
      const PerfectTree& pt = ptrees_[t0 + k];
      tree_fn(vnodes_.data() + pt.nodes, pt.depth, ranks_.data(), block_, vshift_, rows,
              leaf_index_.data() + k * block_);
      leaves[k] = pleaves_.data() + pt.leaves;
    }
    const std::int32_t* li = leaf_index_.data();
    std::size_t r = 0;
    for (; r + 4 <= rows; r += 4) {
      double d0 = depths_[r], d1 = depths_[r + 1], d2 = depths_[r + 2], d3 = depths_[r + 3];
      for (std::size_t k = 0; k < chunk; ++k) {
        const std::int32_t* lk = li + k * block_ + r;
        d0 += leaves[k][lk[0]];
        d1 += leaves[k][lk[1]];
        d2 += leaves[k][lk[2]];
        d3 += leaves[k][lk[3]];
      }
      depths_[r] = d0;
      depths_[r + 1] = d1;
      depths_[r + 2] = d2;
      depths_[r + 3] = d3;
    }
    for (; r < rows; ++r) {
      for (std::size_t k = 0; k < chunk; ++k) depths_[r] += leaves[k][li[k * block_ + r]];
    }
  }
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
#else
void Scorer::PerfectBlockAvx2(std::size_t rows) { PerfectBlock(rows); }
void Scorer::PerfectBlockAvx512(std::size_t rows) { PerfectBlock(rows); }
#endif

void Scorer::ScaleRow(std::span<const double> row, float* dst, std::size_t stride) const {
  if (has_scaler_) {
    // StandardScaler.transform works in float64; the trees then see float32.
    for (std::size_t j = 0; j < num_features_; ++j) {
      dst[j * stride] = static_cast<float>((row[j] - mean_[j]) / scale_[j]);
    }
  } else {
    for (std::size_t j = 0; j < num_features_; ++j) dst[j * stride] = static_cast<float>(row[j]);
  }
}

double Scorer::PathLengthSum(const float* xs) const {
  const Node* nodes = nodes_.data();
  double depths = 0.0;
  for (std::int32_t root : roots_) {
    const Node* node = nodes + root;
    while (node->feature >= 0) {
      // Compare as sklearn does: float32 input promoted to double.
      const float x = xs[static_cast<std::size_t>(node->feature) * block_];
      node = nodes + node->left + (static_cast<double>(x) <= node->value ? 0 : 1);
    }
    depths += node->value;
  }
  return depths;
}

double Scorer::ScoreFromDepths(double depths) const {
  const double ratio = denominator_ != 0.0 ? depths / denominator_ : 1.0;
  return -std::pow(2.0, -ratio);
}

double Scorer::ScoreSamples(std::span<const double> row) {
  MH_CHECK(row.size() == num_features_);
  ScaleRow(row, scratch_.data(), block_);
  return ScoreFromDepths(perfect_ ? PerfectPathLengthSum(scratch_.data())
                                  : PathLengthSum(scratch_.data()));
}

double Scorer::DecisionFunction(std::span<const double> row) { return ScoreSamples(row) - offset_; }

int Scorer::Predict(std::span<const double> row) { return DecisionFunction(row) < 0.0 ? -1 : 1; }

void Scorer::ScoreSamplesBatch(const Matrix& x, std::span<double> out) {
  MH_CHECK(out.size() == x.rows);
  ScoreSamplesBatch(x, 0, out);
}

void Scorer::ScoreSamplesBatch(const Matrix& x, std::size_t first, std::span<double> out) {
  MH_CHECK(x.cols == num_features_ && first <= x.rows && out.size() <= x.rows - first &&
           x.data.size() == x.rows * x.cols);
  const Node* nodes = nodes_.data();
  float* xs = scratch_.data();
  const std::size_t rows = out.size();
  for (std::size_t begin = 0; begin < rows; begin += block_) {
    const std::size_t n = std::min(block_, rows - begin);
    for (std::size_t r = 0; r < n; ++r) {
      ScaleRow(x.Row(first + begin + r), xs + r, block_);
      depths_[r] = 0.0;
    }
    if (perfect_) {
      // Tree-major within the block: the tree's nodes stay in cache while
      // every row of the block descends it, kLanes rows at a time. Lanes past
      // the last row of a short block descend whatever the scratch holds
      // (finite values) and are ignored.
      switch (kernel_) {
        case ScorerKernel::kAvx512:
          PerfectBlockAvx512(n);
          break;
        case ScorerKernel::kAvx2:
          PerfectBlockAvx2(n);
          break;
        default:
          PerfectBlock(n);
          break;
      }
      for (std::size_t r = 0; r < n; ++r) out[begin + r] = ScoreFromDepths(depths_[r]);
      continue;
    }
    // Pointer layout: one row at a time per tree, trees in order.
    for (std::int32_t root : roots_) {
      for (std::size_t r = 0; r < n; ++r) {
        const Node* node = nodes + root;
        while (node->feature >= 0) {
          const float v = xs[static_cast<std::size_t>(node->feature) * block_ + r];
          node = nodes + node->left + (static_cast<double>(v) <= node->value ? 0 : 1);
        }
        depths_[r] += node->value;
      }
    }
    for (std::size_t r = 0; r < n; ++r) out[begin + r] = ScoreFromDepths(depths_[r]);
  }
}

ParallelScorer::ParallelScorer(const Model& model, int threads, ScorerOptions options)
    : model_(model), options_(options), offset_(model.offset) {
  MH_CHECK(threads >= 0);
  if (threads == 0) threads = static_cast<int>(std::thread::hardware_concurrency());
  scorers_.resize(static_cast<std::size_t>(std::max(threads, 1)));
  scorers_[0] = std::make_unique<Scorer>(model_, options_);
}

ParallelScorer::~ParallelScorer() = default;

void ParallelScorer::ScoreSamplesBatch(const Matrix& x, std::span<double> out) {
  MH_CHECK(out.size() == x.rows);
  const std::size_t n = std::clamp<std::size_t>(x.rows / kMinRowsPerThread, 1, scorers_.size());
  if (n == 1) {
    scorers_[0]->ScoreSamplesBatch(x, out);
    return;
  }
  const std::size_t chunk = (x.rows + n - 1) / n;
  // Thread t scores rows [t * chunk, ...) with scorers_[t], made there on
  // first use (the tables are built in parallel too); the caller takes range 0.
  auto run = [&](std::size_t t) {
    if (scorers_[t] == nullptr) scorers_[t] = std::make_unique<Scorer>(model_, options_);
    const std::size_t first = t * chunk;
    const std::size_t count = std::min(chunk, x.rows - first);
    scorers_[t]->ScoreSamplesBatch(x, first, out.subspan(first, count));
  };
  std::vector<std::thread> pool;
  pool.reserve(n - 1);
  for (std::size_t t = 1; t < n; ++t) pool.emplace_back(run, t);
  run(0);
  for (std::thread& th : pool) th.join();
}

}  // namespace mh::iforest
