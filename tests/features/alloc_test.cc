// WindowFeatureExtractor::Compute allocates nothing after Create: this test
// binary replaces the global operator new with a counting one.
#include <atomic>
#include <cstdlib>
#include <new>
#include <random>
#include <span>
#include <vector>

#include <gtest/gtest.h>

#include "features/bearing.h"
#include "features/window_features.h"

// GCC flags free() in a replaced operator delete once it inlines both into
// one caller; malloc/free pairs are exactly what the replacements use.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// Replacements of the global allocation functions (all of the test binary).
// The array, nothrow and sized-delete forms of the standard library forward
// to these.
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t size, std::align_val_t align) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  const auto a = static_cast<std::size_t>(align);
  const std::size_t rounded = (size + a - 1) / a * a;
  if (void* p = std::aligned_alloc(a, rounded == 0 ? a : rounded)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace mh::features {
namespace {

struct AllocCase {
  FeatureSet set;
  std::size_t n;
  bool machine;  // rpm + bearing (orders and envelope)
};

class NoAllocationTest : public ::testing::TestWithParam<AllocCase> {};

TEST_P(NoAllocationTest, ComputeDoesNotAllocate) {
  const AllocCase& c = GetParam();
  FeatureOptions o;
  o.window_samples = c.n;
  o.set = c.set;
  o.bands = {{0, 200}, {200, 1000}, {1000, 5000}};
  if (c.machine) {
    o.shaft_rpm = 1797;
    auto g = LookupBearing("6205");
    ASSERT_TRUE(g.ok());
    o.bearing = *g;
  }
  auto ex = WindowFeatureExtractor::Create(o);
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  std::mt19937_64 rng(5);
  std::normal_distribution<double> dist(0.0, 1.0);
  std::vector<std::vector<double>> data(o.channels.size(), std::vector<double>(c.n));
  for (auto& ch : data) {
    for (double& v : ch) v = dist(rng);
  }
  std::vector<std::span<const double>> spans(data.begin(), data.end());
  std::vector<double> out((*ex)->names().size());
  ASSERT_TRUE((*ex)->Compute(spans, out).ok());  // warm-up

  // Sanity check of the hook itself: a vector allocation is counted.
  const long before_probe = g_allocations.load();
  auto* probe = new std::vector<double>(16);
  delete probe;
  ASSERT_GE(g_allocations.load() - before_probe, 2);

  const long before = g_allocations.load();
  bool ok = true;
  for (int i = 0; i < 20; ++i) {
    data[0][static_cast<std::size_t>(i)] += 1.0;  // different windows
    ok = ok && (*ex)->Compute(spans, out).ok();
  }
  const long allocations = g_allocations.load() - before;
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0);
}

// The vector magnitude channel and the float32 overload use buffers made in
// Create: neither allocates per window.
TEST(NoAllocation, MagnitudeAndFloat32InputDoNotAllocate) {
  FeatureOptions o;
  o.set = FeatureSet::kFull;
  o.magnitude = true;
  o.bands = {{0, 200}, {200, 1000}};
  auto ex = WindowFeatureExtractor::Create(o);
  ASSERT_TRUE(ex.ok()) << ex.status().ToString();
  const std::size_t n = o.window_samples;
  std::mt19937_64 rng(7);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<std::vector<float>> fdata(o.channels.size(), std::vector<float>(n));
  std::vector<std::vector<double>> ddata(o.channels.size(), std::vector<double>(n));
  for (std::size_t c = 0; c < fdata.size(); ++c) {
    for (std::size_t i = 0; i < n; ++i) ddata[c][i] = fdata[c][i] = dist(rng);
  }
  std::vector<std::span<const float>> fspans(fdata.begin(), fdata.end());
  std::vector<std::span<const double>> dspans(ddata.begin(), ddata.end());
  std::vector<double> out((*ex)->names().size());
  ASSERT_TRUE((*ex)->Compute(fspans, out).ok());  // warm-up
  ASSERT_TRUE((*ex)->Compute(dspans, out).ok());

  const long before = g_allocations.load();
  bool ok = true;
  for (int i = 0; i < 10; ++i) {
    fdata[1][static_cast<std::size_t>(i)] += 1.0f;
    ddata[2][static_cast<std::size_t>(i)] += 1.0;
    ok = ok && (*ex)->Compute(fspans, out).ok();
    ok = ok && (*ex)->Compute(dspans, out).ok();
  }
  const long allocations = g_allocations.load() - before;
  EXPECT_TRUE(ok);
  EXPECT_EQ(allocations, 0);
}

INSTANTIATE_TEST_SUITE_P(Sets, NoAllocationTest,
                         ::testing::Values(AllocCase{FeatureSet::kBasic, 2560, false},
                                           AllocCase{FeatureSet::kFull, 2560, false},
                                           AllocCase{FeatureSet::kFull, 2560, true},
                                           AllocCase{FeatureSet::kBasic, 1001, true},
                                           AllocCase{FeatureSet::kFull, 4096, true}));

}  // namespace
}  // namespace mh::features
