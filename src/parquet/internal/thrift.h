// Thrift compact protocol: a bounds-checked decoder for the Parquet footer
// and page headers, and an encoder for the writer. Only the parts of the
// protocol Parquet uses: structs, lists, i8..i64, double, binary, bool, and
// (for skipping) sets and maps.
//
// Thread safety: instances are used by one thread at a time.
#ifndef MH_PARQUET_INTERNAL_THRIFT_H_
#define MH_PARQUET_INTERNAL_THRIFT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/result.h"

namespace mh::parquet::internal {

// Compact protocol type ids (the low nibble of a field header).
enum class ThriftType : std::uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

struct ThriftField {
  std::int16_t id = 0;
  ThriftType type = ThriftType::kStop;
};

// Decodes compact-protocol values from [data, data + size). Every read checks
// the remaining bytes; errors are Corruption naming the absolute offset
// (base_offset + position) so callers can report where a file is bad.
class ThriftReader {
 public:
  ThriftReader(const std::uint8_t* data, std::size_t size, std::int64_t base_offset);

  std::size_t position() const { return pos_; }

  // Struct framing: call BeginStruct, then ReadField until it returns a field
  // of type kStop, then EndStruct. Nesting deeper than 64 is Corruption.
  Status BeginStruct();
  void EndStruct();
  Status ReadField(ThriftField* field);

  // Integer reads accept any integer wire type (byte, i16, i32, i64) and
  // check that the value fits the destination.
  Status ReadI32(const ThriftField& field, std::int32_t* out);
  Status ReadI64(const ThriftField& field, std::int64_t* out);
  Status ReadBool(const ThriftField& field, bool* out);
  Status ReadBinary(const ThriftField& field, std::string* out);
  // A list header; `size` is checked against the remaining bytes (every
  // element takes at least one byte), so callers may reserve it.
  Status ReadListHeader(const ThriftField& field, ThriftType* elem_type, std::uint32_t* size);
  // One list element of integer type.
  Status ReadListI32(ThriftType elem_type, std::int32_t* out);
  Status ReadListBinary(ThriftType elem_type, std::string* out);
  // Skips a value of the given type (nested structures included).
  Status Skip(ThriftType type);

  // Corruption "<what> at offset N".
  Status Error(const std::string& what) const;

 private:
  Status ReadVarint(std::uint64_t* out);
  Status ReadIntValue(ThriftType type, std::int64_t* out);
  Status SkipValue(ThriftType type, int depth);

  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  std::int64_t base_offset_;
  std::vector<std::int16_t> last_ids_;  // one per open struct
};

// Encodes compact-protocol values into a string.
class ThriftWriter {
 public:
  explicit ThriftWriter(std::string* out) : out_(out) {}

  void BeginStruct() { last_ids_.push_back(0); }
  // Writes the stop byte and closes the struct.
  void EndStruct();
  void FieldI32(std::int16_t id, std::int32_t value);
  void FieldI64(std::int16_t id, std::int64_t value);
  void FieldBool(std::int16_t id, bool value);
  void FieldBinary(std::int16_t id, const std::string& value);
  // Starts a struct-valued field (follow with BeginStruct ... EndStruct).
  void FieldStruct(std::int16_t id) { FieldHeader(id, ThriftType::kStruct); }
  // Starts a list-valued field; then write `size` elements with the List*
  // methods (struct elements: BeginStruct ... EndStruct).
  void FieldList(std::int16_t id, ThriftType elem_type, std::uint32_t size);
  void ListI32(std::int32_t value) { Varint(ZigZag(value)); }
  void ListBinary(const std::string& value);

 private:
  static std::uint64_t ZigZag(std::int64_t v) {
    return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
  }
  void FieldHeader(std::int16_t id, ThriftType type);
  void Varint(std::uint64_t v);

  std::string* out_;
  std::vector<std::int16_t> last_ids_;
};

}  // namespace mh::parquet::internal

#endif  // MH_PARQUET_INTERNAL_THRIFT_H_
