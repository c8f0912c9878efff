#include "iforest/model_io.h"

#include <array>
#include <bit>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <unistd.h>

#include "core/file_util.h"

namespace mh::iforest {
namespace {

constexpr char kMagic[8] = {'M', 'H', 'I', 'F', 'O', 'R', 'S', 'T'};
constexpr std::size_t kHeaderSize = 24;
constexpr std::size_t kTrailerSize = 4;
constexpr std::uint32_t kMaxString = 1u << 20;
constexpr std::uint32_t kMaxFeatures = 1u << 20;
constexpr std::uint32_t kMaxTrees = 1u << 20;
constexpr std::size_t kNodeBytes = 4 + 4 + 4 + 8 + 8;  // left, right, feature, threshold, count

constexpr std::array<std::uint32_t, 256> MakeCrcTable() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t c = i;
    for (int b = 0; b < 8; ++b) c = (c & 1u) ? (0xEDB88320u ^ (c >> 1)) : (c >> 1);
    table[i] = c;
  }
  return table;
}
constexpr std::array<std::uint32_t, 256> kCrcTable = MakeCrcTable();

// Little-endian writer.
class Writer {
 public:
  void U8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(std::uint32_t v) {
    for (int i = 0; i < 4; ++i) U8(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void U64(std::uint64_t v) {
    for (int i = 0; i < 8; ++i) U8(static_cast<std::uint8_t>(v >> (8 * i)));
  }
  void I32(std::int32_t v) { U32(static_cast<std::uint32_t>(v)); }
  void I64(std::int64_t v) { U64(static_cast<std::uint64_t>(v)); }
  void F64(double v) { U64(std::bit_cast<std::uint64_t>(v)); }
  void Str(const std::string& s) {
    U32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  void Bytes(const char* p, std::size_t n) { out_.append(p, n); }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

// Little-endian reader over the payload; every read is bounds-checked and a
// failure records the absolute file offset.
class Reader {
 public:
  Reader(std::string_view bytes, std::size_t base, const std::string& name)
      : bytes_(bytes), base_(base), name_(name) {}

  Status Error(const std::string& what) const { return ErrorAt(pos_, what); }
  Status ErrorAt(std::size_t pos, const std::string& what) const {
    return Status::Corruption(name_ + ": corrupt model at offset " + std::to_string(base_ + pos) +
                              ": " + what);
  }
  std::size_t remaining() const { return bytes_.size() - pos_; }
  std::size_t pos() const { return pos_; }

  Status Need(std::size_t n, const char* what) {
    if (remaining() < n) return Error(std::string("truncated ") + what);
    return Status::OK();
  }
  Result<std::uint64_t> U(int width, const char* what) {
    MH_RETURN_IF_ERROR(Need(static_cast<std::size_t>(width), what));
    std::uint64_t v = 0;
    for (int i = 0; i < width; ++i) {
      v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(bytes_[pos_ + i])) << (8 * i);
    }
    pos_ += static_cast<std::size_t>(width);
    return v;
  }
  Result<std::uint8_t> U8(const char* what) {
    MH_ASSIGN_OR_RETURN(std::uint64_t v, U(1, what));
    return static_cast<std::uint8_t>(v);
  }
  Result<std::uint32_t> U32(const char* what) {
    MH_ASSIGN_OR_RETURN(std::uint64_t v, U(4, what));
    return static_cast<std::uint32_t>(v);
  }
  Result<std::int32_t> I32(const char* what) {
    MH_ASSIGN_OR_RETURN(std::uint64_t v, U(4, what));
    return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  }
  Result<std::uint64_t> U64(const char* what) { return U(8, what); }
  Result<std::int64_t> I64(const char* what) {
    MH_ASSIGN_OR_RETURN(std::uint64_t v, U(8, what));
    return static_cast<std::int64_t>(v);
  }
  Result<double> F64(const char* what) {
    MH_ASSIGN_OR_RETURN(std::uint64_t v, U(8, what));
    return std::bit_cast<double>(v);
  }
  Result<std::string> Str(const char* what) {
    const std::size_t at = pos_;
    MH_ASSIGN_OR_RETURN(std::uint32_t len, U32(what));
    if (len > kMaxString) return ErrorAt(at, std::string(what) + " length too large");
    MH_RETURN_IF_ERROR(Need(len, what));
    std::string s(bytes_.substr(pos_, len));
    pos_ += len;
    return s;
  }

 private:
  std::string_view bytes_;
  std::size_t base_;
  const std::string& name_;
  std::size_t pos_ = 0;
};

Result<Model> ParsePayload(Reader& r, std::uint32_t version) {
  Model m;
  MH_ASSIGN_OR_RETURN(m.card.source, r.Str("card source"));
  MH_ASSIGN_OR_RETURN(m.card.rows, r.I64("card rows"));
  MH_ASSIGN_OR_RETURN(m.card.created, r.Str("card created"));
  MH_ASSIGN_OR_RETURN(m.card.seed, r.U64("card seed"));
  MH_ASSIGN_OR_RETURN(m.card.params, r.Str("card params"));
  MH_ASSIGN_OR_RETURN(m.card.metrics, r.Str("card metrics"));

  std::size_t at = r.pos();
  MH_ASSIGN_OR_RETURN(std::uint32_t d, r.U32("feature count"));
  if (d == 0 || d > kMaxFeatures || d > r.remaining() / 4) {
    return r.ErrorAt(at, "feature count " + std::to_string(d) + " out of range");
  }
  m.feature_names.reserve(d);
  for (std::uint32_t j = 0; j < d; ++j) {
    MH_ASSIGN_OR_RETURN(std::string name, r.Str("feature name"));
    m.feature_names.push_back(std::move(name));
  }
  at = r.pos();
  MH_ASSIGN_OR_RETURN(std::uint8_t has_scaler, r.U8("scaler flag"));
  if (has_scaler > 1) return r.ErrorAt(at, "scaler flag is not 0 or 1");
  m.has_scaler = has_scaler == 1;
  if (m.has_scaler) {
    MH_RETURN_IF_ERROR(r.Need(std::size_t{16} * d, "scaler"));
    m.scaler.mean.resize(d);
    m.scaler.scale.resize(d);
    for (auto& v : m.scaler.mean) {
      MH_ASSIGN_OR_RETURN(v, r.F64("scaler mean"));
    }
    for (auto& v : m.scaler.scale) {
      MH_ASSIGN_OR_RETURN(v, r.F64("scaler scale"));
    }
  }
  MH_ASSIGN_OR_RETURN(m.max_samples, r.I64("max_samples"));
  MH_ASSIGN_OR_RETURN(m.offset, r.F64("offset"));
  if (version >= 2) {
    at = r.pos();
    MH_ASSIGN_OR_RETURN(std::uint8_t has_threshold, r.U8("threshold flag"));
    if (has_threshold > 1) return r.ErrorAt(at, "threshold flag is not 0 or 1");
    m.has_threshold = has_threshold == 1;
    MH_ASSIGN_OR_RETURN(m.threshold, r.F64("threshold"));
    at = r.pos();
    MH_ASSIGN_OR_RETURN(std::uint8_t granularity, r.U8("feature granularity"));
    if (granularity > 2) return r.ErrorAt(at, "unknown feature granularity");
    m.granularity = static_cast<FeatureGranularity>(granularity);
  }
  at = r.pos();
  MH_ASSIGN_OR_RETURN(std::uint32_t n_trees, r.U32("tree count"));
  // Each tree needs at least 8 + kNodeBytes bytes.
  if (n_trees == 0 || n_trees > kMaxTrees || n_trees > r.remaining() / (8 + kNodeBytes)) {
    return r.ErrorAt(at, "tree count " + std::to_string(n_trees) + " out of range");
  }
  m.trees.resize(n_trees);
  m.tree_features.resize(n_trees);
  bool any_subset = false;
  for (std::uint32_t t = 0; t < n_trees; ++t) {
    at = r.pos();
    MH_ASSIGN_OR_RETURN(std::uint32_t k, r.U32("feature subset size"));
    if (k > d || k > r.remaining() / 4) {
      return r.ErrorAt(at, "tree " + std::to_string(t) + ": feature subset size " +
                               std::to_string(k) + " out of range");
    }
    any_subset = any_subset || k > 0;
    auto& subset = m.tree_features[t];
    subset.resize(k);
    for (auto& f : subset) {
      MH_ASSIGN_OR_RETURN(f, r.I32("feature subset"));
    }
    at = r.pos();
    MH_ASSIGN_OR_RETURN(std::uint32_t n_nodes, r.U32("node count"));
    if (n_nodes == 0 || n_nodes > r.remaining() / kNodeBytes) {
      return r.ErrorAt(at, "tree " + std::to_string(t) + ": node count " + std::to_string(n_nodes) +
                               " out of range");
    }
    Tree& tree = m.trees[t];
    tree.left.resize(n_nodes);
    tree.right.resize(n_nodes);
    tree.feature.resize(n_nodes);
    tree.threshold.resize(n_nodes);
    tree.n_node_samples.resize(n_nodes);
    for (auto& v : tree.left) {
      MH_ASSIGN_OR_RETURN(v, r.I32("left"));
    }
    for (auto& v : tree.right) {
      MH_ASSIGN_OR_RETURN(v, r.I32("right"));
    }
    for (auto& v : tree.feature) {
      MH_ASSIGN_OR_RETURN(v, r.I32("feature"));
    }
    for (auto& v : tree.threshold) {
      MH_ASSIGN_OR_RETURN(v, r.F64("threshold"));
    }
    for (auto& v : tree.n_node_samples) {
      MH_ASSIGN_OR_RETURN(v, r.F64("n_node_samples"));
    }
  }
  if (!any_subset) m.tree_features.clear();
  if (r.remaining() != 0) return r.Error("unexpected bytes after the last tree");
  return m;
}

}  // namespace

std::uint32_t Crc32(std::string_view bytes) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (char ch : bytes) c = kCrcTable[(c ^ static_cast<std::uint8_t>(ch)) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string SerializeModel(const Model& model) {
  Writer p;  // payload
  p.Str(model.card.source);
  p.I64(model.card.rows);
  p.Str(model.card.created);
  p.U64(model.card.seed);
  p.Str(model.card.params);
  p.Str(model.card.metrics);
  p.U32(static_cast<std::uint32_t>(model.feature_names.size()));
  for (const auto& name : model.feature_names) p.Str(name);
  p.U8(model.has_scaler ? 1 : 0);
  if (model.has_scaler) {
    for (double v : model.scaler.mean) p.F64(v);
    for (double v : model.scaler.scale) p.F64(v);
  }
  p.I64(model.max_samples);
  p.F64(model.offset);
  p.U8(model.has_threshold ? 1 : 0);
  p.F64(model.threshold);
  p.U8(static_cast<std::uint8_t>(model.granularity));
  p.U32(static_cast<std::uint32_t>(model.trees.size()));
  for (std::size_t t = 0; t < model.trees.size(); ++t) {
    const Tree& tree = model.trees[t];
    const std::vector<std::int32_t> none;
    const auto& subset = model.tree_features.empty() ? none : model.tree_features[t];
    p.U32(static_cast<std::uint32_t>(subset.size()));
    for (std::int32_t f : subset) p.I32(f);
    p.U32(static_cast<std::uint32_t>(tree.size()));
    for (std::int32_t v : tree.left) p.I32(v);
    for (std::int32_t v : tree.right) p.I32(v);
    for (std::int32_t v : tree.feature) p.I32(v);
    for (double v : tree.threshold) p.F64(v);
    for (double v : tree.n_node_samples) p.F64(v);
  }
  Writer f;
  f.Bytes(kMagic, sizeof(kMagic));
  f.U32(kModelFormatVersion);
  f.U8(8);  // sizeof(double)
  f.U8(1);  // float format: IEEE 754 binary64, little-endian
  f.U8(4);  // sizeof(int32)
  f.U8(0);  // reserved
  f.U64(p.out().size());
  f.out().append(p.out());
  f.U32(Crc32(f.out()));
  return std::move(f.out());
}

Result<Model> ParseModel(std::string_view bytes, const std::string& name) {
  auto corrupt = [&name](std::size_t offset, const std::string& what) {
    return Status::Corruption(name + ": corrupt model at offset " + std::to_string(offset) + ": " +
                              what);
  };
  if (bytes.size() < kHeaderSize + kTrailerSize) {
    return corrupt(bytes.size(),
                   "file too short for a model (" + std::to_string(bytes.size()) + " bytes)");
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return corrupt(0, "bad magic (not a machine-health model file)");
  }
  Reader header(bytes.substr(0, kHeaderSize), 0, name);
  (void)header.U64("magic");
  MH_ASSIGN_OR_RETURN(std::uint32_t version, header.U32("version"));
  if (version != 1 && version != kModelFormatVersion) {
    return corrupt(8, "unsupported format version " + std::to_string(version));
  }
  MH_ASSIGN_OR_RETURN(std::uint8_t double_size, header.U8("double size"));
  MH_ASSIGN_OR_RETURN(std::uint8_t float_format, header.U8("float format"));
  MH_ASSIGN_OR_RETURN(std::uint8_t int_size, header.U8("int size"));
  MH_ASSIGN_OR_RETURN(std::uint8_t reserved, header.U8("reserved"));
  if (double_size != 8 || float_format != 1 || int_size != 4 || reserved != 0) {
    return corrupt(12, "unsupported number format");
  }
  MH_ASSIGN_OR_RETURN(std::uint64_t payload_size, header.U64("payload size"));
  const std::uint64_t expected = kHeaderSize + kTrailerSize + payload_size;
  if (payload_size > bytes.size() || expected != bytes.size()) {
    return corrupt(16, "payload size " + std::to_string(payload_size) + " does not match the " +
                           std::to_string(bytes.size()) + "-byte file (truncated or padded)");
  }
  const std::size_t crc_at = kHeaderSize + static_cast<std::size_t>(payload_size);
  std::uint32_t stored = 0;
  for (int i = 0; i < 4; ++i) {
    stored |= static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[crc_at + i])) << (8 * i);
  }
  if (Crc32(bytes.substr(0, crc_at)) != stored) return corrupt(crc_at, "checksum mismatch");
  Reader r(bytes.substr(kHeaderSize, static_cast<std::size_t>(payload_size)), kHeaderSize, name);
  MH_ASSIGN_OR_RETURN(Model model, ParsePayload(r, version));
  Status valid = ValidateModel(model);
  if (!valid.ok()) return corrupt(kHeaderSize, "inconsistent model: " + valid.message());
  return model;
}

Result<Model> LoadModel(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::NotFound(path + ": no such model file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) return Status::IOError(path + ": read failed");
  return ParseModel(buf.str(), path);
}

Status SaveModel(const Model& model, const std::string& path) {
  Model copy = model;
  Status valid = ValidateModel(copy);
  if (!valid.ok()) return Status::InvalidArgument(path + ": refusing to save: " + valid.message());
  return WriteFileAtomic(path, SerializeModel(model));
}

}  // namespace mh::iforest
