#include "parquet/internal/format.h"

#include "parquet/internal/thrift.h"

namespace mh::parquet::internal {

#define MH_PARQUET_RETURN_IF_ERROR_(expr)          \
  do {                                             \
    ::mh::Status outer_status_ = (expr);           \
    if (!outer_status_.ok()) return outer_status_; \
  } while (0)

namespace {

// Runs `on_field(field)` for every field of the struct at the reader's
// position; on_field must consume the value (read or Skip).
template <typename F>
Status ForEachField(ThriftReader& r, F&& on_field) {
  MH_RETURN_IF_ERROR(r.BeginStruct());
  Status s;
  while (true) {
    ThriftField f;
    s = r.ReadField(&f);
    if (!s.ok() || f.type == ThriftType::kStop) break;
    s = on_field(f);
    if (!s.ok()) break;
  }
  r.EndStruct();
  return s;
}

Status ExpectStruct(ThriftReader& r, const ThriftField& f) {
  if (f.type != ThriftType::kStruct) {
    return r.Error("thrift: field " + std::to_string(f.id) + " is not a struct");
  }
  return Status::OK();
}

Status ParseTimeUnit(ThriftReader& r, std::int32_t* unit) {
  return ForEachField(r, [&](const ThriftField& f) {
    if (f.id >= 1 && f.id <= 3 && f.type == ThriftType::kStruct) *unit = f.id;
    return r.Skip(f.type);
  });
}

Status ParseLogicalType(ThriftReader& r, LogicalType* lt) {
  return ForEachField(r, [&](const ThriftField& f) -> Status {
    if (f.type != ThriftType::kStruct) return r.Skip(f.type);
    lt->kind = f.id;
    switch (f.id) {
      case kLtDecimal:
        return ForEachField(r, [&](const ThriftField& g) {
          if (g.id == 1) return r.ReadI32(g, &lt->scale);
          if (g.id == 2) return r.ReadI32(g, &lt->precision);
          return r.Skip(g.type);
        });
      case kLtTime:
      case kLtTimestamp:
        return ForEachField(r, [&](const ThriftField& g) {
          if (g.id == 1) return r.ReadBool(g, &lt->utc);
          if (g.id == 2) {
            MH_RETURN_IF_ERROR(ExpectStruct(r, g));
            return ParseTimeUnit(r, &lt->unit);
          }
          return r.Skip(g.type);
        });
      case kLtInteger:
        return ForEachField(r, [&](const ThriftField& g) {
          if (g.id == 1) return r.ReadI32(g, &lt->bit_width);
          if (g.id == 2) return r.ReadBool(g, &lt->is_signed);
          return r.Skip(g.type);
        });
      default:
        return r.Skip(f.type);
    }
  });
}

Status ParseSchemaElement(ThriftReader& r, SchemaElement* e) {
  return ForEachField(r, [&](const ThriftField& f) -> Status {
    switch (f.id) {
      case 1:
        e->has_type = true;
        return r.ReadI32(f, &e->type);
      case 2:
        return r.ReadI32(f, &e->type_length);
      case 3:
        e->has_repetition = true;
        return r.ReadI32(f, &e->repetition);
      case 4:
        return r.ReadBinary(f, &e->name);
      case 5:
        return r.ReadI32(f, &e->num_children);
      case 6:
        e->has_converted_type = true;
        return r.ReadI32(f, &e->converted_type);
      case 7:
        return r.ReadI32(f, &e->scale);
      case 8:
        return r.ReadI32(f, &e->precision);
      case 10:
        MH_RETURN_IF_ERROR(ExpectStruct(r, f));
        return ParseLogicalType(r, &e->logical);
      default:
        return r.Skip(f.type);
    }
  });
}

Status ParseStatistics(ThriftReader& r, Statistics* s) {
  std::string legacy_min, legacy_max;
  bool has_legacy_min = false, has_legacy_max = false;
  MH_PARQUET_RETURN_IF_ERROR_(ForEachField(r, [&](const ThriftField& f) -> Status {
    switch (f.id) {
      case 1:
        has_legacy_max = true;
        return r.ReadBinary(f, &legacy_max);
      case 2:
        has_legacy_min = true;
        return r.ReadBinary(f, &legacy_min);
      case 3:
        s->has_null_count = true;
        return r.ReadI64(f, &s->null_count);
      case 5:
        s->has_max = true;
        return r.ReadBinary(f, &s->max);
      case 6:
        s->has_min = true;
        return r.ReadBinary(f, &s->min);
      default:
        return r.Skip(f.type);
    }
  }));
  if (!s->has_min && has_legacy_min) {
    s->has_min = true;
    s->min = legacy_min;
  }
  if (!s->has_max && has_legacy_max) {
    s->has_max = true;
    s->max = legacy_max;
  }
  return Status::OK();
}

Status ParseColumnMetaData(ThriftReader& r, ColumnMetaData* m) {
  return ForEachField(r, [&](const ThriftField& f) -> Status {
    switch (f.id) {
      case 1:
        return r.ReadI32(f, &m->type);
      case 2: {
        ThriftType et;
        std::uint32_t n = 0;
        MH_RETURN_IF_ERROR(r.ReadListHeader(f, &et, &n));
        m->encodings.resize(n);
        for (auto& e : m->encodings) MH_RETURN_IF_ERROR(r.ReadListI32(et, &e));
        return Status::OK();
      }
      case 3: {
        ThriftType et;
        std::uint32_t n = 0;
        MH_RETURN_IF_ERROR(r.ReadListHeader(f, &et, &n));
        m->path.resize(n);
        for (auto& p : m->path) MH_RETURN_IF_ERROR(r.ReadListBinary(et, &p));
        return Status::OK();
      }
      case 4:
        return r.ReadI32(f, &m->codec);
      case 5:
        return r.ReadI64(f, &m->num_values);
      case 6:
        return r.ReadI64(f, &m->total_uncompressed_size);
      case 7:
        return r.ReadI64(f, &m->total_compressed_size);
      case 9:
        return r.ReadI64(f, &m->data_page_offset);
      case 11:
        m->has_dictionary_page_offset = true;
        return r.ReadI64(f, &m->dictionary_page_offset);
      case 12:
        MH_RETURN_IF_ERROR(ExpectStruct(r, f));
        m->has_statistics = true;
        return ParseStatistics(r, &m->statistics);
      default:
        return r.Skip(f.type);
    }
  });
}

Status ParseColumnChunk(ThriftReader& r, ColumnChunk* c) {
  return ForEachField(r, [&](const ThriftField& f) -> Status {
    switch (f.id) {
      case 1:
        return r.ReadBinary(f, &c->file_path);
      case 3:
        MH_RETURN_IF_ERROR(ExpectStruct(r, f));
        c->has_meta_data = true;
        return ParseColumnMetaData(r, &c->meta_data);
      case 8:
      case 9:
        c->encrypted = true;
        return r.Skip(f.type);
      default:
        return r.Skip(f.type);
    }
  });
}

Status ParseRowGroup(ThriftReader& r, RowGroup* g) {
  return ForEachField(r, [&](const ThriftField& f) -> Status {
    switch (f.id) {
      case 1: {
        ThriftType et;
        std::uint32_t n = 0;
        MH_RETURN_IF_ERROR(r.ReadListHeader(f, &et, &n));
        if (et != ThriftType::kStruct) return r.Error("thrift: column chunks are not structs");
        g->columns.resize(n);
        for (auto& c : g->columns) MH_RETURN_IF_ERROR(ParseColumnChunk(r, &c));
        return Status::OK();
      }
      case 2:
        return r.ReadI64(f, &g->total_byte_size);
      case 3:
        return r.ReadI64(f, &g->num_rows);
      default:
        return r.Skip(f.type);
    }
  });
}

}  // namespace

Status ParseFileMetaData(const std::uint8_t* data, std::size_t size, std::int64_t base_offset,
                         FileMetaData* out) {
  ThriftReader r(data, size, base_offset);
  bool has_schema = false, has_num_rows = false, has_row_groups = false;
  MH_PARQUET_RETURN_IF_ERROR_(ForEachField(r, [&](const ThriftField& f) -> Status {
    switch (f.id) {
      case 1:
        return r.ReadI32(f, &out->version);
      case 2: {
        ThriftType et;
        std::uint32_t n = 0;
        MH_RETURN_IF_ERROR(r.ReadListHeader(f, &et, &n));
        if (et != ThriftType::kStruct) return r.Error("thrift: schema elements are not structs");
        out->schema.resize(n);
        for (auto& e : out->schema) MH_RETURN_IF_ERROR(ParseSchemaElement(r, &e));
        has_schema = true;
        return Status::OK();
      }
      case 3:
        has_num_rows = true;
        return r.ReadI64(f, &out->num_rows);
      case 4: {
        ThriftType et;
        std::uint32_t n = 0;
        MH_RETURN_IF_ERROR(r.ReadListHeader(f, &et, &n));
        if (et != ThriftType::kStruct) return r.Error("thrift: row groups are not structs");
        out->row_groups.resize(n);
        for (auto& g : out->row_groups) MH_RETURN_IF_ERROR(ParseRowGroup(r, &g));
        has_row_groups = true;
        return Status::OK();
      }
      case 5: {
        ThriftType et;
        std::uint32_t n = 0;
        MH_RETURN_IF_ERROR(r.ReadListHeader(f, &et, &n));
        if (et != ThriftType::kStruct) return r.Error("thrift: key/values are not structs");
        out->key_value_metadata.resize(n);
        for (auto& kv : out->key_value_metadata) {
          MH_RETURN_IF_ERROR(ForEachField(r, [&](const ThriftField& g) {
            if (g.id == 1) return r.ReadBinary(g, &kv.key);
            if (g.id == 2) return r.ReadBinary(g, &kv.value);
            return r.Skip(g.type);
          }));
        }
        return Status::OK();
      }
      case 6:
        return r.ReadBinary(f, &out->created_by);
      case 8:
        out->encrypted = true;
        return r.Skip(f.type);
      default:
        return r.Skip(f.type);
    }
  }));
  if (!has_schema || !has_num_rows || !has_row_groups) {
    return r.Error("footer misses a required field (schema, num_rows or row_groups)");
  }
  return Status::OK();
}

Status ParsePageHeader(const std::uint8_t* data, std::size_t size, std::int64_t base_offset,
                       PageHeader* out, std::size_t* header_size) {
  ThriftReader r(data, size, base_offset);
  MH_PARQUET_RETURN_IF_ERROR_(ForEachField(r, [&](const ThriftField& f) -> Status {
    switch (f.id) {
      case 1:
        return r.ReadI32(f, &out->type);
      case 2:
        return r.ReadI32(f, &out->uncompressed_page_size);
      case 3:
        return r.ReadI32(f, &out->compressed_page_size);
      case 4: {
        std::int32_t crc = 0;
        MH_RETURN_IF_ERROR(r.ReadI32(f, &crc));
        out->has_crc = true;
        out->crc = static_cast<std::uint32_t>(crc);
        return Status::OK();
      }
      case 5:
        MH_RETURN_IF_ERROR(ExpectStruct(r, f));
        out->has_data = true;
        return ForEachField(r, [&](const ThriftField& g) {
          switch (g.id) {
            case 1:
              return r.ReadI32(g, &out->num_values);
            case 2:
              return r.ReadI32(g, &out->encoding);
            case 3:
              return r.ReadI32(g, &out->definition_level_encoding);
            case 4:
              return r.ReadI32(g, &out->repetition_level_encoding);
            default:
              return r.Skip(g.type);
          }
        });
      case 7:
        MH_RETURN_IF_ERROR(ExpectStruct(r, f));
        out->has_dictionary = true;
        return ForEachField(r, [&](const ThriftField& g) {
          if (g.id == 1) return r.ReadI32(g, &out->num_values);
          if (g.id == 2) return r.ReadI32(g, &out->encoding);
          return r.Skip(g.type);
        });
      case 8:
        MH_RETURN_IF_ERROR(ExpectStruct(r, f));
        out->has_data_v2 = true;
        return ForEachField(r, [&](const ThriftField& g) {
          switch (g.id) {
            case 1:
              return r.ReadI32(g, &out->num_values);
            case 2:
              return r.ReadI32(g, &out->num_nulls);
            case 3:
              return r.ReadI32(g, &out->num_rows);
            case 4:
              return r.ReadI32(g, &out->encoding);
            case 5:
              return r.ReadI32(g, &out->definition_levels_byte_length);
            case 6:
              return r.ReadI32(g, &out->repetition_levels_byte_length);
            case 7:
              return r.ReadBool(g, &out->is_compressed);
            default:
              return r.Skip(g.type);
          }
        });
      default:
        return r.Skip(f.type);
    }
  }));
  *header_size = r.position();
  return Status::OK();
}

namespace {

void WriteStatistics(ThriftWriter& w, const Statistics& s) {
  w.BeginStruct();
  if (s.has_null_count) w.FieldI64(3, s.null_count);
  if (s.has_max) w.FieldBinary(5, s.max);
  if (s.has_min) w.FieldBinary(6, s.min);
  w.EndStruct();
}

void WriteLogicalType(ThriftWriter& w, const LogicalType& lt) {
  w.BeginStruct();
  w.FieldStruct(static_cast<std::int16_t>(lt.kind));
  w.BeginStruct();
  if (lt.kind == kLtTimestamp || lt.kind == kLtTime) {
    w.FieldBool(1, lt.utc);
    w.FieldStruct(2);
    w.BeginStruct();
    w.FieldStruct(static_cast<std::int16_t>(lt.unit));
    w.BeginStruct();
    w.EndStruct();
    w.EndStruct();
  } else if (lt.kind == kLtInteger) {
    w.FieldI32(1, lt.bit_width);  // i8 on the wire in parquet.thrift; varint here
    w.FieldBool(2, lt.is_signed);
  } else if (lt.kind == kLtDecimal) {
    w.FieldI32(1, lt.scale);
    w.FieldI32(2, lt.precision);
  }
  w.EndStruct();
  w.EndStruct();
}

}  // namespace

void SerializeFileMetaData(const FileMetaData& meta, std::string* out) {
  ThriftWriter w(out);
  w.BeginStruct();
  w.FieldI32(1, meta.version);
  w.FieldList(2, ThriftType::kStruct, static_cast<std::uint32_t>(meta.schema.size()));
  for (const SchemaElement& e : meta.schema) {
    w.BeginStruct();
    if (e.has_type) w.FieldI32(1, e.type);
    if (e.has_type && e.type == kFixedLenByteArray) w.FieldI32(2, e.type_length);
    if (e.has_repetition) w.FieldI32(3, e.repetition);
    w.FieldBinary(4, e.name);
    if (!e.has_type) w.FieldI32(5, e.num_children);
    if (e.has_converted_type) w.FieldI32(6, e.converted_type);
    if (e.logical.kind != kLtNone) {
      w.FieldStruct(10);
      WriteLogicalType(w, e.logical);
    }
    w.EndStruct();
  }
  w.FieldI64(3, meta.num_rows);
  w.FieldList(4, ThriftType::kStruct, static_cast<std::uint32_t>(meta.row_groups.size()));
  for (const RowGroup& g : meta.row_groups) {
    w.BeginStruct();
    w.FieldList(1, ThriftType::kStruct, static_cast<std::uint32_t>(g.columns.size()));
    for (const ColumnChunk& c : g.columns) {
      const ColumnMetaData& m = c.meta_data;
      w.BeginStruct();
      w.FieldI64(2, m.has_dictionary_page_offset ? m.dictionary_page_offset : m.data_page_offset);
      w.FieldStruct(3);
      w.BeginStruct();
      w.FieldI32(1, m.type);
      w.FieldList(2, ThriftType::kI32, static_cast<std::uint32_t>(m.encodings.size()));
      for (std::int32_t e : m.encodings) w.ListI32(e);
      w.FieldList(3, ThriftType::kBinary, static_cast<std::uint32_t>(m.path.size()));
      for (const std::string& p : m.path) w.ListBinary(p);
      w.FieldI32(4, m.codec);
      w.FieldI64(5, m.num_values);
      w.FieldI64(6, m.total_uncompressed_size);
      w.FieldI64(7, m.total_compressed_size);
      w.FieldI64(9, m.data_page_offset);
      if (m.has_dictionary_page_offset) w.FieldI64(11, m.dictionary_page_offset);
      if (m.has_statistics) {
        w.FieldStruct(12);
        WriteStatistics(w, m.statistics);
      }
      w.EndStruct();
      w.EndStruct();
    }
    w.FieldI64(2, g.total_byte_size);
    w.FieldI64(3, g.num_rows);
    w.EndStruct();
  }
  if (!meta.key_value_metadata.empty()) {
    w.FieldList(5, ThriftType::kStruct, static_cast<std::uint32_t>(meta.key_value_metadata.size()));
    for (const KeyValue& kv : meta.key_value_metadata) {
      w.BeginStruct();
      w.FieldBinary(1, kv.key);
      w.FieldBinary(2, kv.value);
      w.EndStruct();
    }
  }
  w.FieldBinary(6, meta.created_by);
  // column_orders: TYPE_ORDER for every leaf, so readers trust min/max.
  std::uint32_t leaves = 0;
  for (const SchemaElement& e : meta.schema) leaves += e.has_type ? 1 : 0;
  w.FieldList(7, ThriftType::kStruct, leaves);
  for (std::uint32_t i = 0; i < leaves; ++i) {
    w.BeginStruct();
    w.FieldStruct(1);
    w.BeginStruct();
    w.EndStruct();
    w.EndStruct();
  }
  w.EndStruct();
}

void SerializePageHeader(const PageHeader& h, std::string* out) {
  ThriftWriter w(out);
  w.BeginStruct();
  w.FieldI32(1, h.type);
  w.FieldI32(2, h.uncompressed_page_size);
  w.FieldI32(3, h.compressed_page_size);
  if (h.has_crc) w.FieldI32(4, static_cast<std::int32_t>(h.crc));
  if (h.type == kDataPage) {
    w.FieldStruct(5);
    w.BeginStruct();
    w.FieldI32(1, h.num_values);
    w.FieldI32(2, h.encoding);
    w.FieldI32(3, h.definition_level_encoding);
    w.FieldI32(4, h.repetition_level_encoding);
    w.EndStruct();
  } else if (h.type == kDictionaryPage) {
    w.FieldStruct(7);
    w.BeginStruct();
    w.FieldI32(1, h.num_values);
    w.FieldI32(2, h.encoding);
    w.EndStruct();
  }
  w.EndStruct();
}

namespace {
std::string Unknown(std::int32_t v) { return "UNKNOWN(" + std::to_string(v) + ")"; }
}  // namespace

std::string PhysicalTypeName(std::int32_t type) {
  static const char* const kNames[] = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                       "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
  if (type >= 0 && type < 8) return kNames[type];
  return Unknown(type);
}

std::string CodecName(std::int32_t codec) {
  static const char* const kNames[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                       "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
  if (codec >= 0 && codec < 8) return kNames[codec];
  return Unknown(codec);
}

std::string EncodingName(std::int32_t encoding) {
  static const char* const kNames[] = {
      "PLAIN",          "GROUP_VAR_INT",       "PLAIN_DICTIONARY",        "RLE",
      "BIT_PACKED",     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
      "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
  if (encoding >= 0 && encoding < 10) return kNames[encoding];
  return Unknown(encoding);
}

std::string ConvertedTypeName(std::int32_t ct) {
  static const char* const kNames[] = {"UTF8",
                                       "MAP",
                                       "MAP_KEY_VALUE",
                                       "LIST",
                                       "ENUM",
                                       "DECIMAL",
                                       "DATE",
                                       "TIME_MILLIS",
                                       "TIME_MICROS",
                                       "TIMESTAMP_MILLIS",
                                       "TIMESTAMP_MICROS",
                                       "UINT_8",
                                       "UINT_16",
                                       "UINT_32",
                                       "UINT_64",
                                       "INT_8",
                                       "INT_16",
                                       "INT_32",
                                       "INT_64",
                                       "JSON",
                                       "BSON",
                                       "INTERVAL"};
  if (ct >= 0 && ct < 22) return kNames[ct];
  return Unknown(ct);
}

std::string LogicalTypeName(const LogicalType& lt) {
  auto unit = [&] {
    switch (lt.unit) {
      case kMillis:
        return std::string("MILLIS");
      case kMicros:
        return std::string("MICROS");
      case kNanos:
        return std::string("NANOS");
      default:
        return std::string("?");
    }
  };
  switch (lt.kind) {
    case kLtNone:
      return "";
    case kLtString:
      return "STRING";
    case kLtMap:
      return "MAP";
    case kLtList:
      return "LIST";
    case kLtEnum:
      return "ENUM";
    case kLtDecimal:
      return "DECIMAL(" + std::to_string(lt.precision) + "," + std::to_string(lt.scale) + ")";
    case kLtDate:
      return "DATE";
    case kLtTime:
      return "TIME(" + unit() + (lt.utc ? ",UTC)" : ")");
    case kLtTimestamp:
      return "TIMESTAMP(" + unit() + (lt.utc ? ",UTC)" : ")");
    case kLtInteger:
      return std::string(lt.is_signed ? "INT(" : "UINT(") + std::to_string(lt.bit_width) + ")";
    case kLtNull:
      return "NULL";
    case kLtJson:
      return "JSON";
    case kLtBson:
      return "BSON";
    case kLtUuid:
      return "UUID";
    case kLtFloat16:
      return "FLOAT16";
    default:
      return Unknown(lt.kind);
  }
}

}  // namespace mh::parquet::internal
