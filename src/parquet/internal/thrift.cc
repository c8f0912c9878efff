#include "parquet/internal/thrift.h"

#include <cstring>
#include <limits>

namespace mh::parquet::internal {

namespace {
constexpr int kMaxDepth = 64;

bool IsIntType(ThriftType t) {
  return t == ThriftType::kByte || t == ThriftType::kI16 || t == ThriftType::kI32 ||
         t == ThriftType::kI64;
}
}  // namespace

ThriftReader::ThriftReader(const std::uint8_t* data, std::size_t size, std::int64_t base_offset)
    : data_(data), size_(size), base_offset_(base_offset) {}

Status ThriftReader::Error(const std::string& what) const {
  return Status::Corruption(what + " at offset " +
                            std::to_string(base_offset_ + static_cast<std::int64_t>(pos_)));
}

Status ThriftReader::ReadVarint(std::uint64_t* out) {
  std::uint64_t value = 0;
  for (int shift = 0; shift < 70; shift += 7) {
    if (pos_ >= size_) return Error("thrift: truncated varint");
    std::uint8_t b = data_[pos_++];
    if (shift == 63 && (b & 0x7e) != 0) return Error("thrift: varint too long");
    value |= static_cast<std::uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      *out = value;
      return Status::OK();
    }
  }
  return Error("thrift: varint too long");
}

Status ThriftReader::ReadIntValue(ThriftType type, std::int64_t* out) {
  if (type == ThriftType::kByte) {
    if (pos_ >= size_) return Error("thrift: truncated byte");
    *out = static_cast<std::int8_t>(data_[pos_++]);
    return Status::OK();
  }
  std::uint64_t v = 0;
  MH_RETURN_IF_ERROR(ReadVarint(&v));
  *out = static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
  return Status::OK();
}

Status ThriftReader::BeginStruct() {
  if (last_ids_.size() >= kMaxDepth) return Error("thrift: structs nested too deeply");
  last_ids_.push_back(0);
  return Status::OK();
}

void ThriftReader::EndStruct() {
  if (!last_ids_.empty()) last_ids_.pop_back();
}

Status ThriftReader::ReadField(ThriftField* field) {
  if (pos_ >= size_) return Error("thrift: truncated struct");
  std::uint8_t b = data_[pos_++];
  std::uint8_t type = b & 0x0f;
  if (type == 0) {
    field->type = ThriftType::kStop;
    field->id = 0;
    return Status::OK();
  }
  if (type > static_cast<std::uint8_t>(ThriftType::kStruct)) {
    return Error("thrift: invalid field type " + std::to_string(type));
  }
  std::int16_t& last = last_ids_.back();
  std::uint8_t delta = b >> 4;
  if (delta != 0) {
    int id = last + delta;
    if (id > std::numeric_limits<std::int16_t>::max()) return Error("thrift: field id overflow");
    field->id = static_cast<std::int16_t>(id);
  } else {
    std::int64_t id = 0;
    MH_RETURN_IF_ERROR(ReadIntValue(ThriftType::kI16, &id));
    if (id < std::numeric_limits<std::int16_t>::min() ||
        id > std::numeric_limits<std::int16_t>::max()) {
      return Error("thrift: field id out of range");
    }
    field->id = static_cast<std::int16_t>(id);
  }
  last = field->id;
  field->type = static_cast<ThriftType>(type);
  return Status::OK();
}

Status ThriftReader::ReadI32(const ThriftField& field, std::int32_t* out) {
  if (!IsIntType(field.type)) {
    return Error("thrift: field " + std::to_string(field.id) + " is not an integer");
  }
  std::int64_t v = 0;
  MH_RETURN_IF_ERROR(ReadIntValue(field.type, &v));
  if (v < std::numeric_limits<std::int32_t>::min() ||
      v > std::numeric_limits<std::int32_t>::max()) {
    return Error("thrift: field " + std::to_string(field.id) + " out of i32 range");
  }
  *out = static_cast<std::int32_t>(v);
  return Status::OK();
}

Status ThriftReader::ReadI64(const ThriftField& field, std::int64_t* out) {
  if (!IsIntType(field.type)) {
    return Error("thrift: field " + std::to_string(field.id) + " is not an integer");
  }
  return ReadIntValue(field.type, out);
}

Status ThriftReader::ReadBool(const ThriftField& field, bool* out) {
  if (field.type == ThriftType::kBoolTrue) {
    *out = true;
  } else if (field.type == ThriftType::kBoolFalse) {
    *out = false;
  } else {
    return Error("thrift: field " + std::to_string(field.id) + " is not a bool");
  }
  return Status::OK();
}

Status ThriftReader::ReadBinary(const ThriftField& field, std::string* out) {
  if (field.type != ThriftType::kBinary) {
    return Error("thrift: field " + std::to_string(field.id) + " is not binary");
  }
  return ReadListBinary(ThriftType::kBinary, out);
}

Status ThriftReader::ReadListBinary(ThriftType elem_type, std::string* out) {
  if (elem_type != ThriftType::kBinary) return Error("thrift: list element is not binary");
  std::uint64_t len = 0;
  MH_RETURN_IF_ERROR(ReadVarint(&len));
  if (len > size_ - pos_)
    return Error("thrift: binary length " + std::to_string(len) + " past end");
  out->assign(reinterpret_cast<const char*>(data_ + pos_), static_cast<std::size_t>(len));
  pos_ += static_cast<std::size_t>(len);
  return Status::OK();
}

Status ThriftReader::ReadListHeader(const ThriftField& field, ThriftType* elem_type,
                                    std::uint32_t* size) {
  if (field.type != ThriftType::kList && field.type != ThriftType::kSet) {
    return Error("thrift: field " + std::to_string(field.id) + " is not a list");
  }
  if (pos_ >= size_) return Error("thrift: truncated list header");
  std::uint8_t b = data_[pos_++];
  std::uint64_t n = b >> 4;
  if (n == 15) MH_RETURN_IF_ERROR(ReadVarint(&n));
  std::uint8_t t = b & 0x0f;
  if (t == 0 || t > static_cast<std::uint8_t>(ThriftType::kStruct)) {
    return Error("thrift: invalid list element type " + std::to_string(t));
  }
  if (n > size_ - pos_) return Error("thrift: list size " + std::to_string(n) + " past end");
  *elem_type = static_cast<ThriftType>(t);
  *size = static_cast<std::uint32_t>(n);
  return Status::OK();
}

Status ThriftReader::ReadListI32(ThriftType elem_type, std::int32_t* out) {
  if (!IsIntType(elem_type)) return Error("thrift: list element is not an integer");
  std::int64_t v = 0;
  MH_RETURN_IF_ERROR(ReadIntValue(elem_type, &v));
  if (v < std::numeric_limits<std::int32_t>::min() ||
      v > std::numeric_limits<std::int32_t>::max()) {
    return Error("thrift: list element out of i32 range");
  }
  *out = static_cast<std::int32_t>(v);
  return Status::OK();
}

Status ThriftReader::Skip(ThriftType type) { return SkipValue(type, 0); }

Status ThriftReader::SkipValue(ThriftType type, int depth) {
  if (depth > kMaxDepth) return Error("thrift: values nested too deeply");
  switch (type) {
    case ThriftType::kBoolTrue:
    case ThriftType::kBoolFalse:
      return Status::OK();
    case ThriftType::kByte:
    case ThriftType::kI16:
    case ThriftType::kI32:
    case ThriftType::kI64: {
      std::int64_t v = 0;
      return ReadIntValue(type, &v);
    }
    case ThriftType::kDouble:
      if (size_ - pos_ < 8) return Error("thrift: truncated double");
      pos_ += 8;
      return Status::OK();
    case ThriftType::kBinary: {
      std::uint64_t len = 0;
      MH_RETURN_IF_ERROR(ReadVarint(&len));
      if (len > size_ - pos_) return Error("thrift: binary length past end");
      pos_ += static_cast<std::size_t>(len);
      return Status::OK();
    }
    case ThriftType::kList:
    case ThriftType::kSet: {
      ThriftField f{0, ThriftType::kList};
      ThriftType et;
      std::uint32_t n = 0;
      MH_RETURN_IF_ERROR(ReadListHeader(f, &et, &n));
      for (std::uint32_t i = 0; i < n; ++i) {
        if (et == ThriftType::kBoolTrue || et == ThriftType::kBoolFalse) {
          if (pos_ >= size_) return Error("thrift: truncated list");
          ++pos_;  // booleans in lists take one byte each
        } else {
          MH_RETURN_IF_ERROR(SkipValue(et, depth + 1));
        }
      }
      return Status::OK();
    }
    case ThriftType::kMap: {
      std::uint64_t n = 0;
      MH_RETURN_IF_ERROR(ReadVarint(&n));
      if (n == 0) return Status::OK();
      if (n > size_ - pos_) return Error("thrift: map size past end");
      if (pos_ >= size_) return Error("thrift: truncated map");
      std::uint8_t kv = data_[pos_++];
      auto kt = static_cast<ThriftType>(kv >> 4);
      auto vt = static_cast<ThriftType>(kv & 0x0f);
      if ((kv >> 4) == 0 || (kv >> 4) > 12 || (kv & 0x0f) == 0 || (kv & 0x0f) > 12) {
        return Error("thrift: invalid map types");
      }
      for (std::uint64_t i = 0; i < n; ++i) {
        for (ThriftType t : {kt, vt}) {
          if (t == ThriftType::kBoolTrue || t == ThriftType::kBoolFalse) {
            if (pos_ >= size_) return Error("thrift: truncated map");
            ++pos_;
          } else {
            MH_RETURN_IF_ERROR(SkipValue(t, depth + 1));
          }
        }
      }
      return Status::OK();
    }
    case ThriftType::kStruct: {
      MH_RETURN_IF_ERROR(BeginStruct());
      while (true) {
        ThriftField f;
        Status s = ReadField(&f);
        if (!s.ok()) {
          EndStruct();
          return s;
        }
        if (f.type == ThriftType::kStop) break;
        s = SkipValue(f.type, depth + 1);
        if (!s.ok()) {
          EndStruct();
          return s;
        }
      }
      EndStruct();
      return Status::OK();
    }
    case ThriftType::kStop:
      break;
  }
  return Error("thrift: cannot skip type " + std::to_string(static_cast<int>(type)));
}

void ThriftWriter::Varint(std::uint64_t v) {
  while (v >= 0x80) {
    out_->push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_->push_back(static_cast<char>(v));
}

void ThriftWriter::FieldHeader(std::int16_t id, ThriftType type) {
  std::int16_t& last = last_ids_.back();
  int delta = id - last;
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | static_cast<int>(type)));
  } else {
    out_->push_back(static_cast<char>(type));
    Varint(ZigZag(id));
  }
  last = id;
}

void ThriftWriter::EndStruct() {
  out_->push_back(0);
  last_ids_.pop_back();
}

void ThriftWriter::FieldI32(std::int16_t id, std::int32_t value) {
  FieldHeader(id, ThriftType::kI32);
  Varint(ZigZag(value));
}

void ThriftWriter::FieldI64(std::int16_t id, std::int64_t value) {
  FieldHeader(id, ThriftType::kI64);
  Varint(ZigZag(value));
}

void ThriftWriter::FieldBool(std::int16_t id, bool value) {
  FieldHeader(id, value ? ThriftType::kBoolTrue : ThriftType::kBoolFalse);
}

void ThriftWriter::FieldBinary(std::int16_t id, const std::string& value) {
  FieldHeader(id, ThriftType::kBinary);
  ListBinary(value);
}

void ThriftWriter::ListBinary(const std::string& value) {
  Varint(value.size());
  out_->append(value);
}

void ThriftWriter::FieldList(std::int16_t id, ThriftType elem_type, std::uint32_t size) {
  FieldHeader(id, ThriftType::kList);
  if (size < 15) {
    out_->push_back(static_cast<char>((size << 4) | static_cast<unsigned>(elem_type)));
  } else {
    out_->push_back(static_cast<char>(0xf0 | static_cast<unsigned>(elem_type)));
    Varint(size);
  }
}

}  // namespace mh::parquet::internal
