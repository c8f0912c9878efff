// Fuzz target: the model file parser (iforest/model_io.h). Any input must end
// in a valid Model or Corruption, without a crash or undefined behaviour; a
// parsed model must score and serialize back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "iforest/model_io.h"
#include "iforest/scorer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  mh::Result<mh::iforest::Model> model = mh::iforest::ParseModel(bytes, "fuzz");
  if (!model.ok()) {
    if (!model.status().IsCorruption()) std::abort();
    return 0;
  }
  mh::iforest::Scorer scorer(*model);
  std::vector<double> row(model->feature_names.size(), 0.5);
  (void)scorer.DecisionFunction(row);
  // Version 2 files re-serialize to the same bytes (version 1 ones are upgraded).
  if (size > 8 && data[8] == 2 && mh::iforest::SerializeModel(*model) != bytes) std::abort();
  return 0;
}
