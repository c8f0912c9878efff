#include "iforest/pickle_numpy.h"

#include <bit>
#include <cmath>
#include <cstring>

#include "core/strings.h"

namespace mh::iforest {
namespace {

Status Bad(const std::string& what) { return Status::Corruption("numpy: " + what); }

bool IsNumpyGlobal(const PickleValue* v, std::string_view submodule, std::string_view name) {
  if (v == nullptr || v->kind != PickleKind::kGlobal || v->name != name) return false;
  return v->text == "numpy.core." + std::string(submodule) ||
         v->text == "numpy._core." + std::string(submodule);
}

// Parses a type code such as "f8", "<i4", "V64", "b1", "O8".
Status ParseTypeCode(std::string_view code, char* kind, int* itemsize, bool* big_endian) {
  if (!code.empty() && (code[0] == '<' || code[0] == '>' || code[0] == '|' || code[0] == '=')) {
    *big_endian = code[0] == '>';
    code.remove_prefix(1);
  }
  if (code.size() < 2 || code.size() > 8)
    return Bad("unsupported dtype '" + std::string(code) + "'");
  *kind = code[0];
  Result<std::int64_t> size = ParseInt(code.substr(1));
  if (!size.ok() || *size < 1 || *size > (1 << 20)) {
    return Bad("unsupported dtype '" + std::string(code) + "'");
  }
  *itemsize = static_cast<int>(*size);
  const int s = *itemsize;
  bool ok = false;
  switch (*kind) {
    case 'f':
      ok = s == 4 || s == 8;
      break;
    case 'i':
    case 'u':
      ok = s == 1 || s == 2 || s == 4 || s == 8;
      break;
    case 'b':
      ok = s == 1;
      break;
    case 'O':
      ok = s == 8;
      break;
    case 'V':
      ok = true;
      break;
    default:
      break;
  }
  if (!ok) {
    return Status::NotSupported("numpy: unsupported dtype '" + std::string(code) + "'");
  }
  return Status::OK();
}

// One element at `p` as double (numbers) or int64.
double LoadDouble(const char* p, char kind, int size, bool big_endian) {
  std::uint64_t u = 0;
  for (int i = 0; i < size; ++i) {
    const int at = big_endian ? size - 1 - i : i;
    u |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(p[at])) << (8 * i);
  }
  switch (kind) {
    case 'f':
      return size == 8 ? std::bit_cast<double>(u)
                       : static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(u)));
    case 'i': {
      const int shift = 64 - 8 * size;
      return static_cast<double>(static_cast<std::int64_t>(u << shift) >> shift);
    }
    default:  // 'u', 'b'
      return static_cast<double>(u);
  }
}

Result<std::int64_t> LoadInt(const char* p, char kind, int size, bool big_endian) {
  std::uint64_t u = 0;
  for (int i = 0; i < size; ++i) {
    const int at = big_endian ? size - 1 - i : i;
    u |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(p[at])) << (8 * i);
  }
  if (kind == 'i') {
    const int shift = 64 - 8 * size;
    return static_cast<std::int64_t>(u << shift) >> shift;
  }
  if (kind == 'u' || kind == 'b') {
    if (u > static_cast<std::uint64_t>(INT64_MAX)) return Bad("integer out of range");
    return static_cast<std::int64_t>(u);
  }
  const double d = LoadDouble(p, kind, size, big_endian);
  if (!(d == std::floor(d)) || std::fabs(d) > 9.0e15) return Bad("value is not an integer");
  return static_cast<std::int64_t>(d);
}

struct Column {
  char kind;
  int size;
  bool big_endian;
  std::size_t offset;
};

Result<Column> SelectColumn(const NumpyArray& a, std::string_view field) {
  if (a.dtype.kind == 'O') return Bad("object array where numbers were expected");
  if (a.fortran_order && a.shape.size() > 1) {
    return Status::NotSupported("numpy: multi-dimensional Fortran-order arrays");
  }
  if (field.empty()) {
    if (a.dtype.kind == 'V') return Bad("record array where numbers were expected");
    return Column{a.dtype.kind, a.dtype.itemsize, a.dtype.big_endian, 0};
  }
  const NumpyDtype::Field* f = a.dtype.FindField(field);
  if (f == nullptr) return Bad("record dtype has no field '" + std::string(field) + "'");
  if (f->kind == 'O' || f->kind == 'V')
    return Bad("field '" + std::string(field) + "' is not numeric");
  return Column{f->kind, f->itemsize, f->big_endian, f->offset};
}

}  // namespace

const NumpyDtype::Field* NumpyDtype::FindField(std::string_view name) const {
  for (const Field& f : fields) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

Result<NumpyDtype> DtypeFromPickle(const PickleValue& value) {
  if (value.kind != PickleKind::kObject || value.callable == nullptr ||
      !value.callable->IsGlobal("numpy", "dtype")) {
    return Bad("expected a numpy.dtype, got " + DescribePickleValue(value));
  }
  const PickleValue* args = value.args;
  if (args == nullptr || args->items.empty() || args->items[0]->kind != PickleKind::kString) {
    return Bad("numpy.dtype arguments are not (str, ...)");
  }
  NumpyDtype d;
  MH_RETURN_IF_ERROR(ParseTypeCode(args->items[0]->text, &d.kind, &d.itemsize, &d.big_endian));
  const PickleValue* st = value.state;
  if (st == nullptr) return d;
  if (st->kind != PickleKind::kTuple || st->items.size() < 8) {
    return Bad("numpy.dtype state is not an 8-tuple");
  }
  const PickleValue* endian = st->items[1];
  if (endian->kind != PickleKind::kString || endian->text.size() != 1 ||
      std::string_view("<>|=").find(endian->text[0]) == std::string_view::npos) {
    return Bad("numpy.dtype byte order is not one of <>|=");
  }
  d.big_endian = endian->text == ">";
  if (st->items[2]->kind != PickleKind::kNone) {
    return Status::NotSupported("numpy: sub-array dtypes are not supported");
  }
  const PickleValue* names = st->items[3];
  const PickleValue* fields = st->items[4];
  if (d.kind != 'V') {
    if (names->kind != PickleKind::kNone) return Bad("fields on a non-record dtype");
    return d;
  }
  if (names->kind != PickleKind::kTuple || fields->kind != PickleKind::kDict) {
    return Status::NotSupported("numpy: unstructured void dtypes are not supported");
  }
  const PickleValue* elsize = st->items[5];
  if (elsize->kind != PickleKind::kInt || elsize->integer != d.itemsize) {
    return Bad("record dtype size disagrees with its type code");
  }
  if (names->items.size() > 64) return Bad("record dtype with too many fields");
  for (const PickleValue* name : names->items) {
    if (name->kind != PickleKind::kString) return Bad("record field name is not a str");
    const PickleValue* spec = fields->Get(name->text);
    if (spec == nullptr || spec->kind != PickleKind::kTuple || spec->items.size() < 2 ||
        spec->items[1]->kind != PickleKind::kInt) {
      return Bad("record field '" + name->text + "' has no (dtype, offset)");
    }
    const PickleValue* sub = spec->items[0];
    if (sub->kind != PickleKind::kObject || sub->callable == nullptr ||
        !sub->callable->IsGlobal("numpy", "dtype") || sub == &value) {
      return Bad("record field '" + name->text + "' dtype is not a numpy.dtype");
    }
    // One level only: the field's own dtype must be a plain number.
    if (sub->args == nullptr || sub->args->items.empty() ||
        sub->args->items[0]->kind != PickleKind::kString) {
      return Bad("record field '" + name->text + "' dtype is malformed");
    }
    NumpyDtype::Field f;
    f.name = name->text;
    MH_RETURN_IF_ERROR(
        ParseTypeCode(sub->args->items[0]->text, &f.kind, &f.itemsize, &f.big_endian));
    if (f.kind == 'V' || f.kind == 'O') {
      return Status::NotSupported("numpy: record field '" + f.name + "' is not a plain number");
    }
    if (sub->state != nullptr) {
      const PickleValue* sst = sub->state;
      if (sst->kind == PickleKind::kTuple && sst->items.size() >= 2 &&
          sst->items[1]->kind == PickleKind::kString) {
        f.big_endian = sst->items[1]->text == ">";
      }
    }
    const std::int64_t offset = spec->items[1]->integer;
    if (offset < 0 || offset + f.itemsize > d.itemsize) {
      return Bad("record field '" + f.name + "' lies outside the record");
    }
    f.offset = static_cast<std::size_t>(offset);
    d.fields.push_back(std::move(f));
  }
  return d;
}

Result<NumpyArray> ArrayFromPickle(const PickleValue& value) {
  NumpyArray a;
  const PickleValue* dtype_value = nullptr;
  const PickleValue* shape_value = nullptr;
  const PickleValue* data_value = nullptr;
  if (value.kind == PickleKind::kArray) {
    MH_ASSIGN_OR_RETURN(a.dtype, DtypeFromPickle(*value.callable));
    a.shape = value.shape;
    a.fortran_order = value.fortran_order;
    a.data = value.text;
  } else if (value.kind == PickleKind::kObject &&
             IsNumpyGlobal(value.callable, "multiarray", "_reconstruct")) {
    // ndarray.__setstate__((version, shape, dtype, is_fortran, data)).
    const PickleValue* st = value.state;
    if (st == nullptr || st->kind != PickleKind::kTuple || st->items.size() != 5) {
      return Bad("ndarray state is not a 5-tuple");
    }
    shape_value = st->items[1];
    dtype_value = st->items[2];
    if (st->items[3]->kind != PickleKind::kBool) return Bad("ndarray is_fortran is not a bool");
    a.fortran_order = st->items[3]->boolean;
    data_value = st->items[4];
  } else if (value.kind == PickleKind::kObject &&
             IsNumpyGlobal(value.callable, "numeric", "_frombuffer")) {
    // _frombuffer(buffer, dtype, shape, order).
    const PickleValue* args = value.args;
    if (args == nullptr || args->items.size() != 4 || args->items[3]->kind != PickleKind::kString) {
      return Bad("_frombuffer arguments are not (buffer, dtype, shape, order)");
    }
    data_value = args->items[0];
    dtype_value = args->items[1];
    shape_value = args->items[2];
    a.fortran_order = args->items[3]->text == "F";
  } else {
    return Bad("expected a numpy array, got " + DescribePickleValue(value));
  }
  if (value.kind != PickleKind::kArray) {
    MH_ASSIGN_OR_RETURN(a.dtype, DtypeFromPickle(*dtype_value));
    if (shape_value->kind != PickleKind::kTuple || shape_value->items.size() > 32) {
      return Bad("ndarray shape is not a tuple");
    }
    for (const PickleValue* d : shape_value->items) {
      if (d->kind != PickleKind::kInt || d->integer < 0) return Bad("bad ndarray dimension");
      a.shape.push_back(d->integer);
    }
  }
  std::uint64_t count = 1;
  for (std::int64_t dim : a.shape) {
    const auto u = static_cast<std::uint64_t>(dim);
    if (u != 0 && count > (std::uint64_t{1} << 40) / u) return Bad("array too large");
    count *= u;
  }
  a.count = static_cast<std::size_t>(count);
  if (value.kind == PickleKind::kArray) {
    if (a.data.size() != count * static_cast<std::uint64_t>(a.dtype.itemsize)) {
      return Bad("array data size does not match its shape");
    }
    return a;
  }
  if (a.dtype.kind == 'O') {
    if (data_value->kind != PickleKind::kList || data_value->items.size() != count) {
      return Bad("object array data is not a list of " + std::to_string(count) + " items");
    }
    a.objects = data_value->items;
    return a;
  }
  if (data_value->kind != PickleKind::kBytes && data_value->kind != PickleKind::kString) {
    return Bad("ndarray data is not bytes");
  }
  a.data = data_value->text;
  if (a.data.size() != count * static_cast<std::uint64_t>(a.dtype.itemsize)) {
    return Bad("array data size does not match its shape");
  }
  return a;
}

Result<std::vector<double>> ArrayDoubles(const NumpyArray& array, std::string_view field) {
  MH_ASSIGN_OR_RETURN(Column c, SelectColumn(array, field));
  std::vector<double> out(array.count);
  const std::size_t stride = static_cast<std::size_t>(array.dtype.itemsize);
  for (std::size_t i = 0; i < array.count; ++i) {
    out[i] = LoadDouble(array.data.data() + i * stride + c.offset, c.kind, c.size, c.big_endian);
  }
  return out;
}

Result<std::vector<std::int64_t>> ArrayInts(const NumpyArray& array, std::string_view field) {
  MH_ASSIGN_OR_RETURN(Column c, SelectColumn(array, field));
  std::vector<std::int64_t> out(array.count);
  const std::size_t stride = static_cast<std::size_t>(array.dtype.itemsize);
  for (std::size_t i = 0; i < array.count; ++i) {
    MH_ASSIGN_OR_RETURN(
        out[i], LoadInt(array.data.data() + i * stride + c.offset, c.kind, c.size, c.big_endian));
  }
  return out;
}

namespace {

// A numpy scalar: scalar(dtype, bytes) with a plain number dtype.
Result<std::pair<NumpyDtype, std::string_view>> ScalarParts(const PickleValue& value) {
  if (value.kind != PickleKind::kObject || !IsNumpyGlobal(value.callable, "multiarray", "scalar")) {
    return Bad("expected a number, got " + DescribePickleValue(value));
  }
  const PickleValue* args = value.args;
  if (args == nullptr || args->items.size() != 2 ||
      (args->items[1]->kind != PickleKind::kBytes && args->items[1]->kind != PickleKind::kString)) {
    return Bad("numpy scalar arguments are not (dtype, bytes)");
  }
  MH_ASSIGN_OR_RETURN(NumpyDtype d, DtypeFromPickle(*args->items[0]));
  if (d.kind == 'V' || d.kind == 'O') return Bad("numpy scalar is not a number");
  std::string_view bytes = args->items[1]->text;
  if (bytes.size() != static_cast<std::size_t>(d.itemsize))
    return Bad("numpy scalar size mismatch");
  return std::make_pair(d, bytes);
}

}  // namespace

Result<double> NumberFromPickle(const PickleValue& value) {
  switch (value.kind) {
    case PickleKind::kInt:
      return static_cast<double>(value.integer);
    case PickleKind::kFloat:
      return value.number;
    case PickleKind::kBool:
      return value.boolean ? 1.0 : 0.0;
    default:
      break;
  }
  MH_ASSIGN_OR_RETURN(auto parts, ScalarParts(value));
  return LoadDouble(parts.second.data(), parts.first.kind, parts.first.itemsize,
                    parts.first.big_endian);
}

Result<std::int64_t> IntFromPickle(const PickleValue& value) {
  if (value.kind == PickleKind::kInt) return value.integer;
  if (value.kind == PickleKind::kFloat || value.kind == PickleKind::kBool) {
    return Bad("expected an integer, got " + DescribePickleValue(value));
  }
  MH_ASSIGN_OR_RETURN(auto parts, ScalarParts(value));
  if (parts.first.kind == 'f') return Bad("expected an integer, got a float scalar");
  return LoadInt(parts.second.data(), parts.first.kind, parts.first.itemsize,
                 parts.first.big_endian);
}

Result<std::vector<std::string>> StringsFromPickle(const PickleValue& value) {
  std::vector<const PickleValue*> items;
  if (value.kind == PickleKind::kList || value.kind == PickleKind::kTuple) {
    items = value.items;
  } else {
    MH_ASSIGN_OR_RETURN(NumpyArray a, ArrayFromPickle(value));
    if (a.dtype.kind != 'O') return Bad("expected an array of str");
    items = a.objects;
  }
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const PickleValue* item : items) {
    if (item->kind != PickleKind::kString) {
      return Bad("expected str items, got " + DescribePickleValue(*item));
    }
    out.push_back(item->text);
  }
  return out;
}

}  // namespace mh::iforest
