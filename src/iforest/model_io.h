// Model files: a versioned, checksummed, little-endian binary format holding
// only data (no code, unlike pickle), specified byte by byte in
// docs/model-format.md.
//
// Thread safety: the functions share no state; concurrent calls on different
// paths are safe.
#ifndef MH_IFOREST_MODEL_IO_H_
#define MH_IFOREST_MODEL_IO_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"
#include "iforest/model.h"

namespace mh::iforest {

// Format version written by SaveModel. Version 2 added the threshold and the
// feature granularity; ParseModel also reads version 1 files (threshold
// absent, granularity unknown).
inline constexpr std::uint32_t kModelFormatVersion = 2;

// Writes `model` to "<path>.tmp", flushes it to disk, then renames it to
// `path`, so readers never see a partial file. InvalidArgument if the model
// fails ValidateModel; IOError naming the path if writing or renaming fails
// (the temporary file is removed).
Status SaveModel(const Model& model, const std::string& path);

// The file's bytes for `model` (what SaveModel writes). The model must be
// valid (checked by SaveModel, not here).
std::string SerializeModel(const Model& model);

// Reads a model written by SaveModel. NotFound if the file does not exist,
// IOError if it cannot be read, Corruption for anything wrong with its
// contents (bad magic, unknown version, size or checksum mismatch,
// truncation, absurd counts, inconsistent trees) with a message naming the
// path and the byte offset. Never crashes on arbitrary bytes.
Result<Model> LoadModel(const std::string& path);

// Parses file bytes; `name` is used in messages in place of a path.
Result<Model> ParseModel(std::string_view bytes, const std::string& name);

// CRC-32 as in zlib / IEEE 802.3 (reflected polynomial 0xEDB88320, initial
// value and final xor 0xFFFFFFFF): the model file checksum.
std::uint32_t Crc32(std::string_view bytes);

}  // namespace mh::iforest

#endif  // MH_IFOREST_MODEL_IO_H_
