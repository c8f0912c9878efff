// Test helpers shared by the window-feature tests: make an extractor (a
// failure is a test failure) and look up one feature's value by name.
#ifndef MH_TESTS_FEATURES_EXTRACTOR_HELPERS_H_
#define MH_TESTS_FEATURES_EXTRACTOR_HELPERS_H_

#include <cstddef>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "features/window_features.h"

namespace mh::features::testref {

inline std::unique_ptr<WindowFeatureExtractor> MakeExtractor(const FeatureOptions& o) {
  auto ex = WindowFeatureExtractor::Create(o);
  EXPECT_TRUE(ex.ok()) << ex.status().ToString();
  return ex.ok() ? std::move(ex).value() : nullptr;
}

// The value of feature `name` in `v` (values in the extractor's order); NaN
// and a test failure when the extractor has no such feature.
inline double ValueOf(const WindowFeatureExtractor& ex, const std::vector<double>& v,
                      const std::string& name) {
  for (std::size_t i = 0; i < ex.names().size(); ++i) {
    if (ex.names()[i] == name) return v[i];
  }
  ADD_FAILURE() << "no feature " << name;
  return std::numeric_limits<double>::quiet_NaN();
}

}  // namespace mh::features::testref

#endif  // MH_TESTS_FEATURES_EXTRACTOR_HELPERS_H_
