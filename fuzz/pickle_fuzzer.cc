// Fuzz target: the safe pickle reader and the scikit-learn importer. Any
// input must end in a Model or an error, in bounded time and memory, without
// a crash or undefined behaviour; an imported model must be valid and usable.
// Compressed joblib files (zlib, gzip, bz2, xz, lzma magic) go through
// core/compression.h first, with the decompressed size capped at 64 MiB here
// (1 GiB in the product) so that bombs stay fast.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "iforest/pickle_reader.h"
#include "iforest/scorer.h"
#include "iforest/sklearn_import.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  mh::iforest::PickleLimits limits;
  limits.max_values = 1 << 18;
  limits.max_input_bytes = std::size_t{64} << 20;
  (void)mh::iforest::ParsePickle(bytes, limits);
  mh::Result<mh::iforest::Model> model = mh::iforest::ImportSklearnPickle(bytes, "fuzz", limits);
  if (model.ok()) {
    mh::iforest::Scorer scorer(*model);
    std::vector<double> row(model->feature_names.size(), 0.25);
    (void)scorer.DecisionFunction(row);
  }
  return 0;
}
