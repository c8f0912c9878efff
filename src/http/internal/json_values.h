// Private helpers of src/http: how the API writes numbers and times in JSON
// (shared by api.cc and live_feed.cc so both answer alike).
#ifndef MH_HTTP_INTERNAL_JSON_VALUES_H_
#define MH_HTTP_INTERNAL_JSON_VALUES_H_

#include <cmath>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace mh::http::internal {

// A finite number, or null (JSON has no NaN/Infinity).
inline nlohmann::json Number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

// ns since epoch as epoch milliseconds: an integer when exact, else fractional.
inline nlohmann::json EpochMs(std::int64_t ns) {
  if (ns % 1'000'000 == 0) return nlohmann::json(ns / 1'000'000);
  return nlohmann::json(static_cast<double>(ns) / 1e6);
}

// Serialized; invalid UTF-8 (e.g. in a machine id) is replaced, not thrown.
inline std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace mh::http::internal

#endif  // MH_HTTP_INTERNAL_JSON_VALUES_H_
