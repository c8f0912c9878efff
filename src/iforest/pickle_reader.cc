#include "iforest/pickle_reader.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/compression.h"
#include "iforest/pickle_numpy.h"

namespace mh::iforest {
namespace {

// Pickle opcodes (Python's Lib/pickle.py names).
enum Op : std::uint8_t {
  kMark = '(',
  kStop = '.',
  kPop = '0',
  kPopMark = '1',
  kDup = '2',
  kNone = 'N',
  kBinInt = 'J',
  kBinInt1 = 'K',
  kBinInt2 = 'M',
  kBinFloat = 'G',
  kBinString = 'T',
  kShortBinString = 'U',
  kBinBytes = 'B',
  kShortBinBytes = 'C',
  kBinUnicode = 'X',
  kEmptyTuple = ')',
  kTuple = 't',
  kEmptyList = ']',
  kAppend = 'a',
  kAppends = 'e',
  kList = 'l',
  kEmptyDict = '}',
  kSetItem = 's',
  kSetItems = 'u',
  kDict = 'd',
  kGlobal = 'c',
  kReduce = 'R',
  kBuild = 'b',
  kBinGet = 'h',
  kLongBinGet = 'j',
  kBinPut = 'q',
  kLongBinPut = 'r',
  kPersId = 'P',
  kBinPersId = 'Q',
  kInst = 'i',
  kObj = 'o',
  kProto = 0x80,
  kNewObj = 0x81,
  kExt1 = 0x82,
  kExt2 = 0x83,
  kExt4 = 0x84,
  kTuple1 = 0x85,
  kTuple2 = 0x86,
  kTuple3 = 0x87,
  kNewTrue = 0x88,
  kNewFalse = 0x89,
  kLong1 = 0x8a,
  kLong4 = 0x8b,
  kShortBinUnicode = 0x8c,
  kBinUnicode8 = 0x8d,
  kBinBytes8 = 0x8e,
  kEmptySet = 0x8f,
  kAddItems = 0x90,
  kFrozenSet = 0x91,
  kNewObjEx = 0x92,
  kStackGlobal = 0x93,
  kMemoize = 0x94,
  kFrame = 0x95,
  kByteArray8 = 0x96,
  kNextBuffer = 0x97,
  kReadOnlyBuffer = 0x98,
};

struct AllowedGlobal {
  const char* module;
  const char* name;
};

// The only classes and functions a pickle may name. All are treated as inert
// data; none is ever called.
constexpr AllowedGlobal kAllowedGlobals[] = {
    {"sklearn.pipeline", "Pipeline"},
    {"sklearn.preprocessing._data", "StandardScaler"},
    {"sklearn.ensemble._iforest", "IsolationForest"},
    {"sklearn.tree._classes", "ExtraTreeRegressor"},
    {"sklearn.tree._tree", "Tree"},
    {"numpy", "ndarray"},
    {"numpy", "dtype"},
    {"numpy.core.multiarray", "_reconstruct"},
    {"numpy.core.multiarray", "scalar"},
    {"numpy._core.multiarray", "_reconstruct"},
    {"numpy._core.multiarray", "scalar"},
    {"numpy.core.numeric", "_frombuffer"},
    {"numpy._core.numeric", "_frombuffer"},
    {"joblib.numpy_pickle", "NumpyArrayWrapper"},
    {"numpy.random._pickle", "__randomstate_ctor"},
    {"numpy.random._pickle", "__bit_generator_ctor"},
    {"numpy.random._pickle", "__generator_ctor"},
    {"numpy.random.mtrand", "RandomState"},
    {"numpy.random._mt19937", "MT19937"},
    {"copyreg", "_reconstructor"},
    {"_codecs", "encode"},
    {"builtins", "object"},
    {"builtins", "set"},
    {"builtins", "frozenset"},
};

bool IsAllowed(const std::string& module, const std::string& name) {
  for (const AllowedGlobal& g : kAllowedGlobals) {
    if (module == g.module && name == g.name) return true;
  }
  return false;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.substr(0, prefix.size()) == prefix;
}

}  // namespace

// The interpreter. One instance per ParsePickle call; Run is re-entered for
// the pickles joblib nests inside the stream (object arrays).
class PickleParser {
 public:
  PickleParser(std::string_view bytes, const PickleLimits& limits, PickleDocument* doc)
      : bytes_(bytes), limits_(limits), doc_(doc) {}

  Result<PickleValue*> Run(int nesting);
  std::size_t pos() const { return pos_; }

 private:
  // Per-pickle state (a nested pickle has its own stack, marks and memo).
  struct Frame {
    std::vector<PickleValue*> stack;
    std::vector<std::size_t> marks;
    std::unordered_map<std::uint32_t, PickleValue*> memo;
  };

  Status Error(const std::string& what) const { return ErrorAt(op_pos_, what); }
  Status ErrorAt(std::size_t at, const std::string& what) const {
    return Status::Corruption("pickle: offset " + std::to_string(at) + ": " + what);
  }
  Status Unsupported(const std::string& what) const {
    return Status::NotSupported("pickle: offset " + std::to_string(op_pos_) + ": " + what);
  }

  Status Need(std::size_t n) const {
    if (bytes_.size() - pos_ < n) {
      return ErrorAt(pos_, "truncated: need " + std::to_string(n) + " bytes, " +
                               std::to_string(bytes_.size() - pos_) + " left");
    }
    return Status::OK();
  }
  // Little-endian unsigned integer of `width` bytes.
  Result<std::uint64_t> ReadLe(int width) {
    MH_RETURN_IF_ERROR(Need(static_cast<std::size_t>(width)));
    std::uint64_t v = 0;
    for (int i = 0; i < width; ++i) {
      v |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(bytes_[pos_ + i])) << (8 * i);
    }
    pos_ += static_cast<std::size_t>(width);
    return v;
  }
  Result<std::string_view> ReadBytes(std::uint64_t n) {
    if (n > bytes_.size() - pos_) {
      return ErrorAt(pos_, "length " + std::to_string(n) + " exceeds the " +
                               std::to_string(bytes_.size() - pos_) + " bytes left");
    }
    std::string_view s = bytes_.substr(pos_, static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return s;
  }
  Result<std::string> ReadLine() {
    constexpr std::size_t kMaxLine = 512;
    const std::size_t end = bytes_.find('\n', pos_);
    if (end == std::string_view::npos) return ErrorAt(pos_, "truncated: unterminated line");
    if (end - pos_ > kMaxLine) return ErrorAt(pos_, "line too long");
    std::string s(bytes_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  Result<PickleValue*> New(PickleKind kind) {
    if (doc_->values_.size() >= limits_.max_values) {
      return Error("more than " + std::to_string(limits_.max_values) + " values");
    }
    doc_->values_.push_back(std::make_unique<PickleValue>());
    PickleValue* v = doc_->values_.back().get();
    v->kind = kind;
    return v;
  }
  Result<PickleValue*> Constant(PickleKind kind, bool value) {
    PickleValue*& slot = kind == PickleKind::kNone ? none_ : (value ? true_ : false_);
    if (slot == nullptr) {
      MH_ASSIGN_OR_RETURN(slot, New(kind));
      slot->boolean = value;
    }
    return slot;
  }
  // Records `child` inside `parent` for the nesting bound.
  Status Nest(PickleValue* parent, const PickleValue* child) {
    if (child != nullptr) parent->depth = std::max(parent->depth, child->depth + 1);
    if (parent->depth > limits_.max_depth) {
      return Error("nesting deeper than " + std::to_string(limits_.max_depth));
    }
    return Status::OK();
  }

  std::size_t Floor(const Frame& f) const { return f.marks.empty() ? 0 : f.marks.back(); }
  Status Push(Frame& f, PickleValue* v) {
    if (f.stack.size() >= limits_.max_stack) {
      return Error("stack deeper than " + std::to_string(limits_.max_stack));
    }
    f.stack.push_back(v);
    return Status::OK();
  }
  Result<PickleValue*> Pop(Frame& f) {
    if (f.stack.size() <= Floor(f)) return Error("stack underflow");
    PickleValue* v = f.stack.back();
    f.stack.pop_back();
    return v;
  }
  Result<PickleValue*> Top(Frame& f) {
    if (f.stack.size() <= Floor(f)) return Error("stack underflow");
    return f.stack.back();
  }
  // Pops everything above the last mark, and the mark.
  Result<std::vector<PickleValue*>> PopMark(Frame& f) {
    if (f.marks.empty()) return Error("no mark on the stack");
    const std::size_t m = f.marks.back();
    f.marks.pop_back();
    std::vector<PickleValue*> items(f.stack.begin() + static_cast<std::ptrdiff_t>(m),
                                    f.stack.end());
    f.stack.resize(m);
    return items;
  }
  Status Memoize(Frame& f, std::uint64_t key) {
    if (key > 0xFFFFFFFFu) return Error("memo key too large");
    PickleValue* top;
    MH_ASSIGN_OR_RETURN(top, Top(f));
    auto it = f.memo.find(static_cast<std::uint32_t>(key));
    if (it == f.memo.end() && f.memo.size() >= limits_.max_memo) {
      return Error("more than " + std::to_string(limits_.max_memo) + " memo entries");
    }
    f.memo[static_cast<std::uint32_t>(key)] = top;
    return Status::OK();
  }
  Status MemoGet(Frame& f, std::uint64_t key) {
    auto it = key > 0xFFFFFFFFu ? f.memo.end() : f.memo.find(static_cast<std::uint32_t>(key));
    if (it == f.memo.end()) return Error("memo key " + std::to_string(key) + " not found");
    return Push(f, it->second);
  }

  Status PushString(Frame& f, PickleKind kind, std::uint64_t length) {
    std::string_view s;
    MH_ASSIGN_OR_RETURN(s, ReadBytes(length));
    PickleValue* v;
    MH_ASSIGN_OR_RETURN(v, New(kind));
    v->text.assign(s);
    return Push(f, v);
  }
  Status PushInt(Frame& f, std::int64_t i) {
    PickleValue* v;
    MH_ASSIGN_OR_RETURN(v, New(PickleKind::kInt));
    v->integer = i;
    return Push(f, v);
  }
  // LONG1/LONG4 payload: little-endian two's complement.
  Status PushLong(Frame& f, std::uint64_t n) {
    if (n > 8) return Unsupported("integer wider than 64 bits");
    std::string_view s;
    MH_ASSIGN_OR_RETURN(s, ReadBytes(n));
    std::uint64_t u = 0;
    for (std::size_t i = 0; i < n; ++i) {
      u |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(s[i])) << (8 * i);
    }
    if (n > 0 && n < 8 && (static_cast<std::uint8_t>(s[n - 1]) & 0x80u)) {
      u |= ~std::uint64_t{0} << (8 * n);  // sign-extend
    }
    return PushInt(f, static_cast<std::int64_t>(u));
  }
  Result<PickleValue*> MakeSequence(PickleKind kind, const std::vector<PickleValue*>& items) {
    PickleValue* v;
    MH_ASSIGN_OR_RETURN(v, New(kind));
    v->items.assign(items.begin(), items.end());
    for (const PickleValue* item : items) MH_RETURN_IF_ERROR(Nest(v, item));
    return v;
  }
  Status AddToDict(PickleValue* dict, const std::vector<PickleValue*>& kv) {
    if (dict->kind != PickleKind::kDict) {
      return Error("SETITEM(S) on a " + DescribePickleValue(*dict));
    }
    if (kv.size() % 2 != 0) return Error("odd number of items for SETITEMS");
    for (std::size_t i = 0; i < kv.size(); i += 2) {
      const PickleValue* key = kv[i];
      // Python dicts keep one entry per key: replace a str/int key's value.
      bool replaced = false;
      if (key->kind == PickleKind::kString || key->kind == PickleKind::kInt) {
        for (std::size_t j = 0; j < dict->items.size(); j += 2) {
          const PickleValue* k = dict->items[j];
          if (k->kind == key->kind && k->text == key->text && k->integer == key->integer) {
            dict->items[j + 1] = kv[i + 1];
            replaced = true;
            break;
          }
        }
      }
      if (!replaced) {
        dict->items.push_back(kv[i]);
        dict->items.push_back(kv[i + 1]);
      }
      MH_RETURN_IF_ERROR(Nest(dict, kv[i]));
      MH_RETURN_IF_ERROR(Nest(dict, kv[i + 1]));
    }
    return Status::OK();
  }
  Status AddToList(PickleValue* list, const std::vector<PickleValue*>& items, PickleKind kind) {
    if (list->kind != kind) {
      return Error(std::string(kind == PickleKind::kList ? "APPEND(S)" : "ADDITEMS") + " on a " +
                   DescribePickleValue(*list));
    }
    for (const PickleValue* item : items) {
      list->items.push_back(item);
      MH_RETURN_IF_ERROR(Nest(list, item));
    }
    return Status::OK();
  }
  Result<PickleValue*> MakeGlobal(std::string module, std::string name) {
    // Python 3 writes protocol 2 pickles with Python 2 module names.
    if (module == "__builtin__") module = "builtins";
    if (module == "copy_reg") module = "copyreg";
    if (!IsAllowed(module, name)) {
      std::string shown = module + "." + name;
      if (shown.size() > 200) shown = shown.substr(0, 200) + "...";
      for (char& c : shown) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
      }
      return Status::NotSupported("pickle: offset " + std::to_string(op_pos_) +
                                  ": refusing global '" + shown + "' (not on the allow-list)");
    }
    PickleValue* v;
    MH_ASSIGN_OR_RETURN(v, New(PickleKind::kGlobal));
    v->text = std::move(module);
    v->name = std::move(name);
    return v;
  }
  Status Reduce(Frame& f);
  Status Build(Frame& f, int nesting);
  // Reads the array joblib wrote right after a NumpyArrayWrapper.
  Result<PickleValue*> ReadJoblibArray(const PickleValue& wrapper_state, int nesting);

  std::string_view bytes_;
  const PickleLimits& limits_;
  PickleDocument* doc_;
  std::size_t pos_ = 0;
  std::size_t op_pos_ = 0;  // offset of the opcode being interpreted
  PickleValue* none_ = nullptr;
  PickleValue* true_ = nullptr;
  PickleValue* false_ = nullptr;
};

const PickleValue* PickleValue::Get(std::string_view key) const {
  if (kind != PickleKind::kDict) return nullptr;
  for (std::size_t i = 0; i + 1 < items.size(); i += 2) {
    if (items[i]->kind == PickleKind::kString && items[i]->text == key) return items[i + 1];
  }
  return nullptr;
}

std::string DescribePickleValue(const PickleValue& value) {
  switch (value.kind) {
    case PickleKind::kNone:
      return "None";
    case PickleKind::kBool:
      return "bool";
    case PickleKind::kInt:
      return "int";
    case PickleKind::kFloat:
      return "float";
    case PickleKind::kString:
      return "str";
    case PickleKind::kBytes:
      return "bytes";
    case PickleKind::kTuple:
      return "tuple";
    case PickleKind::kList:
      return "list";
    case PickleKind::kDict:
      return "dict";
    case PickleKind::kSet:
      return "set";
    case PickleKind::kGlobal:
      return value.text + "." + value.name;
    case PickleKind::kObject:
      return value.callable != nullptr ? DescribePickleValue(*value.callable) + " object"
                                       : "object";
    case PickleKind::kArray:
      return "numpy array";
  }
  return "value";
}

Status PickleParser::Reduce(Frame& f) {
  PickleValue* args;
  PickleValue* callable;
  MH_ASSIGN_OR_RETURN(args, Pop(f));
  MH_ASSIGN_OR_RETURN(callable, Pop(f));
  if (callable->kind != PickleKind::kGlobal) {
    return Error("REDUCE of a " + DescribePickleValue(*callable) + ", not a global");
  }
  if (args->kind != PickleKind::kTuple) return Error("REDUCE arguments are not a tuple");
  if (callable->IsGlobal("_codecs", "encode")) {
    // _codecs.encode(text, "latin1"): how protocol 2 stores bytes. Evaluated
    // here (a pure function): each code point < 256 becomes one byte.
    if (args->items.size() != 2 || args->items[0]->kind != PickleKind::kString ||
        args->items[1]->kind != PickleKind::kString ||
        (args->items[1]->text != "latin1" && args->items[1]->text != "latin-1")) {
      return Unsupported("_codecs.encode other than (str, 'latin1')");
    }
    const std::string& in = args->items[0]->text;
    PickleValue* out;
    MH_ASSIGN_OR_RETURN(out, New(PickleKind::kBytes));
    out->text.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
      const auto c = static_cast<std::uint8_t>(in[i]);
      if (c < 0x80) {
        out->text.push_back(static_cast<char>(c));
      } else if ((c == 0xC2 || c == 0xC3) && i + 1 < in.size() &&
                 (static_cast<std::uint8_t>(in[i + 1]) & 0xC0u) == 0x80u) {
        out->text.push_back(
            static_cast<char>(((c & 0x03u) << 6) | (static_cast<std::uint8_t>(in[i + 1]) & 0x3Fu)));
        ++i;
      } else {
        return Error("_codecs.encode: text is not latin-1");
      }
    }
    return Push(f, out);
  }
  PickleValue* obj;
  MH_ASSIGN_OR_RETURN(obj, New(PickleKind::kObject));
  obj->callable = callable;
  obj->args = args;
  MH_RETURN_IF_ERROR(Nest(obj, args));
  return Push(f, obj);
}

Status PickleParser::Build(Frame& f, int nesting) {
  PickleValue* state;
  PickleValue* obj;
  MH_ASSIGN_OR_RETURN(state, Pop(f));
  MH_ASSIGN_OR_RETURN(obj, Top(f));
  if (obj->kind != PickleKind::kObject) {
    return Error("BUILD of a " + DescribePickleValue(*obj) + ", not an object");
  }
  if (obj->state != nullptr) return Error("BUILD of an object that was already built");
  obj->state = state;
  MH_RETURN_IF_ERROR(Nest(obj, state));
  if (obj->callable->IsGlobal("joblib.numpy_pickle", "NumpyArrayWrapper")) {
    PickleValue* array;
    MH_ASSIGN_OR_RETURN(array, ReadJoblibArray(*state, nesting));
    f.stack.back() = array;
  }
  return Status::OK();
}

Result<PickleValue*> PickleParser::ReadJoblibArray(const PickleValue& st, int nesting) {
  auto bad = [this](const std::string& what) { return Error("joblib NumpyArrayWrapper: " + what); };
  if (st.kind != PickleKind::kDict) return bad("state is not a dict");
  const PickleValue* dtype_value = st.Get("dtype");
  const PickleValue* shape_value = st.Get("shape");
  const PickleValue* order_value = st.Get("order");
  if (dtype_value == nullptr || shape_value == nullptr || order_value == nullptr) {
    return bad("state lacks dtype, shape or order");
  }
  if (const PickleValue* sub = st.Get("subclass");
      sub == nullptr || !sub->IsGlobal("numpy", "ndarray")) {
    return bad("subclass is not numpy.ndarray");
  }
  Result<NumpyDtype> dtype = DtypeFromPickle(*dtype_value);
  if (!dtype.ok()) return bad(dtype.status().message());
  if (shape_value->kind != PickleKind::kTuple || shape_value->items.size() > 32) {
    return bad("shape is not a tuple of at most 32 ints");
  }
  if (order_value->kind != PickleKind::kString ||
      (order_value->text != "C" && order_value->text != "F")) {
    return bad("order is not 'C' or 'F'");
  }
  std::vector<std::int64_t> shape;
  std::uint64_t count = 1;
  for (const PickleValue* d : shape_value->items) {
    if (d->kind != PickleKind::kInt || d->integer < 0) return bad("bad dimension in shape");
    shape.push_back(d->integer);
    const auto dim = static_cast<std::uint64_t>(d->integer);
    if (dim != 0 && count > bytes_.size() / dim) return bad("shape too large for the file");
    count *= dim;
  }
  if (const PickleValue* align = st.Get("numpy_array_alignment_bytes");
      align != nullptr && align->kind != PickleKind::kNone && dtype->kind != 'O') {
    std::uint64_t padding;
    MH_ASSIGN_OR_RETURN(padding, ReadLe(1));
    MH_RETURN_IF_ERROR(ReadBytes(padding).status());
  }
  if (dtype->kind == 'O') {
    // joblib pickles object arrays (e.g. feature names) with protocol 2 right here.
    if (nesting >= limits_.max_nested_pickles) return bad("nested pickles too deep");
    const std::size_t saved_op = op_pos_;
    PickleValue* inner;
    MH_ASSIGN_OR_RETURN(inner, Run(nesting + 1));
    op_pos_ = saved_op;
    return inner;
  }
  const std::uint64_t size = count * static_cast<std::uint64_t>(dtype->itemsize);
  if (dtype->itemsize != 0 && size / static_cast<std::uint64_t>(dtype->itemsize) != count) {
    return bad("array too large");
  }
  std::string_view data;
  MH_ASSIGN_OR_RETURN(data, ReadBytes(size));
  PickleValue* array;
  MH_ASSIGN_OR_RETURN(array, New(PickleKind::kArray));
  array->text.assign(data);
  array->callable = dtype_value;
  array->shape = std::move(shape);
  array->fortran_order = order_value->text == "F";
  return array;
}

Result<PickleValue*> PickleParser::Run(int nesting) {
  Frame f;
  bool first = true;
  while (true) {
    op_pos_ = pos_;
    if (pos_ >= bytes_.size()) return ErrorAt(pos_, "truncated: no STOP opcode");
    const auto op = static_cast<std::uint8_t>(bytes_[pos_++]);
    if (first && op != kProto) {
      return Status::NotSupported("pickle: offset 0: not a pickle of protocol 2 or later");
    }
    first = false;
    std::uint64_t n = 0;
    PickleValue* v = nullptr;
    switch (op) {
      case kProto: {
        MH_ASSIGN_OR_RETURN(n, ReadLe(1));
        if (n < 2 || n > 5) return Unsupported("pickle protocol " + std::to_string(n));
        break;
      }
      case kFrame: {
        MH_ASSIGN_OR_RETURN(n, ReadLe(8));
        if (n > bytes_.size() - pos_) return Error("frame longer than the input");
        break;  // frames are contiguous: reading on is the same
      }
      case kStop: {
        PickleValue* result;
        MH_ASSIGN_OR_RETURN(result, Pop(f));
        return result;
      }
      case kMark: {
        if (f.marks.size() >= limits_.max_marks) {
          return Error("more than " + std::to_string(limits_.max_marks) + " nested marks");
        }
        f.marks.push_back(f.stack.size());
        break;
      }
      case kPop: {
        if (f.stack.size() > Floor(f)) {
          f.stack.pop_back();
        } else {
          MH_RETURN_IF_ERROR(PopMark(f).status());
        }
        break;
      }
      case kPopMark: {
        MH_RETURN_IF_ERROR(PopMark(f).status());
        break;
      }
      case kDup: {
        MH_ASSIGN_OR_RETURN(v, Top(f));
        MH_RETURN_IF_ERROR(Push(f, v));
        break;
      }
      case kNone: {
        MH_ASSIGN_OR_RETURN(v, Constant(PickleKind::kNone, false));
        MH_RETURN_IF_ERROR(Push(f, v));
        break;
      }
      case kNewTrue:
      case kNewFalse: {
        MH_ASSIGN_OR_RETURN(v, Constant(PickleKind::kBool, op == kNewTrue));
        MH_RETURN_IF_ERROR(Push(f, v));
        break;
      }
      case kBinInt: {
        MH_ASSIGN_OR_RETURN(n, ReadLe(4));
        MH_RETURN_IF_ERROR(PushInt(f, static_cast<std::int32_t>(static_cast<std::uint32_t>(n))));
        break;
      }
      case kBinInt1: {
        MH_ASSIGN_OR_RETURN(n, ReadLe(1));
        MH_RETURN_IF_ERROR(PushInt(f, static_cast<std::int64_t>(n)));
        break;
      }
      case kBinInt2: {
        MH_ASSIGN_OR_RETURN(n, ReadLe(2));
        MH_RETURN_IF_ERROR(PushInt(f, static_cast<std::int64_t>(n)));
        break;
      }
      case kLong1: {
        MH_ASSIGN_OR_RETURN(n, ReadLe(1));
        MH_RETURN_IF_ERROR(PushLong(f, n));
        break;
      }
      case kLong4: {
        MH_ASSIGN_OR_RETURN(n, ReadLe(4));
        MH_RETURN_IF_ERROR(PushLong(f, n));
        break;
      }
      case kBinFloat: {
        MH_RETURN_IF_ERROR(Need(8));
        std::uint64_t bits = 0;
        for (int i = 0; i < 8; ++i) {
          bits = (bits << 8) | static_cast<std::uint8_t>(bytes_[pos_ + i]);  // big-endian
        }
        pos_ += 8;
        MH_ASSIGN_OR_RETURN(v, New(PickleKind::kFloat));
        v->number = std::bit_cast<double>(bits);
        MH_RETURN_IF_ERROR(Push(f, v));
        break;
      }
      case kShortBinString:
      case kShortBinBytes:
      case kShortBinUnicode: {
        MH_ASSIGN_OR_RETURN(n, ReadLe(1));
        MH_RETURN_IF_ERROR(
            PushString(f, op == kShortBinBytes ? PickleKind::kBytes : PickleKind::kString, n));
        break;
      }
      case kBinString:
      case kBinBytes:
      case kBinUnicode: {
        MH_ASSIGN_OR_RETURN(n, ReadLe(4));
        if (op == kBinString && (n & 0x80000000u)) return Error("negative BINSTRING length");
        MH_RETURN_IF_ERROR(
            PushString(f, op == kBinBytes ? PickleKind::kBytes : PickleKind::kString, n));
        break;
      }
      case kBinUnicode8:
      case kBinBytes8:
      case kByteArray8: {
        MH_ASSIGN_OR_RETURN(n, ReadLe(8));
        MH_RETURN_IF_ERROR(
            PushString(f, op == kBinUnicode8 ? PickleKind::kString : PickleKind::kBytes, n));
        break;
      }
      case kEmptyTuple:
      case kEmptyList:
      case kEmptyDict:
      case kEmptySet: {
        MH_ASSIGN_OR_RETURN(v, New(op == kEmptyTuple  ? PickleKind::kTuple
                                   : op == kEmptyList ? PickleKind::kList
                                   : op == kEmptyDict ? PickleKind::kDict
                                                      : PickleKind::kSet));
        MH_RETURN_IF_ERROR(Push(f, v));
        break;
      }
      case kTuple1:
      case kTuple2: {
      }
      case kTuple3: {
        const std::size_t k = static_cast<std::size_t>(op - kTuple1 + 1);
        if (f.stack.size() < Floor(f) + k) return Error("stack underflow");
        std::vector<PickleValue*> items(f.stack.end() - static_cast<std::ptrdiff_t>(k),
                                        f.stack.end());
        f.stack.resize(f.stack.size() - k);
        MH_ASSIGN_OR_RETURN(v, MakeSequence(PickleKind::kTuple, items));
        MH_RETURN_IF_ERROR(Push(f, v));
        break;
      }
      case kTuple:
      case kList: {
      }
      case kFrozenSet: {
        std::vector<PickleValue*> items;
        MH_ASSIGN_OR_RETURN(items, PopMark(f));
        MH_ASSIGN_OR_RETURN(v, MakeSequence(op == kTuple  ? PickleKind::kTuple
                                            : op == kList ? PickleKind::kList
                                                          : PickleKind::kSet,
                                            items));
        MH_RETURN_IF_ERROR(Push(f, v));
        break;
      }
      case kDict: {
        std::vector<PickleValue*> items;
        MH_ASSIGN_OR_RETURN(items, PopMark(f));
        MH_ASSIGN_OR_RETURN(v, New(PickleKind::kDict));
        MH_RETURN_IF_ERROR(AddToDict(v, items));
        MH_RETURN_IF_ERROR(Push(f, v));
        break;
      }
      case kAppend: {
        PickleValue* item;
        MH_ASSIGN_OR_RETURN(item, Pop(f));
        MH_ASSIGN_OR_RETURN(v, Top(f));
        MH_RETURN_IF_ERROR(AddToList(v, {item}, PickleKind::kList));
        break;
      }
      case kAppends: {
      }
      case kAddItems: {
        std::vector<PickleValue*> items;
        MH_ASSIGN_OR_RETURN(items, PopMark(f));
        MH_ASSIGN_OR_RETURN(v, Top(f));
        MH_RETURN_IF_ERROR(
            AddToList(v, items, op == kAppends ? PickleKind::kList : PickleKind::kSet));
        break;
      }
      case kSetItem: {
        PickleValue* value;
        PickleValue* key;
        MH_ASSIGN_OR_RETURN(value, Pop(f));
        MH_ASSIGN_OR_RETURN(key, Pop(f));
        MH_ASSIGN_OR_RETURN(v, Top(f));
        MH_RETURN_IF_ERROR(AddToDict(v, {key, value}));
        break;
      }
      case kSetItems: {
        std::vector<PickleValue*> items;
        MH_ASSIGN_OR_RETURN(items, PopMark(f));
        MH_ASSIGN_OR_RETURN(v, Top(f));
        MH_RETURN_IF_ERROR(AddToDict(v, items));
        break;
      }
      case kGlobal: {
        std::string module, name;
        MH_ASSIGN_OR_RETURN(module, ReadLine());
        MH_ASSIGN_OR_RETURN(name, ReadLine());
        MH_ASSIGN_OR_RETURN(v, MakeGlobal(std::move(module), std::move(name)));
        MH_RETURN_IF_ERROR(Push(f, v));
        break;
      }
      case kStackGlobal: {
        PickleValue* name;
        PickleValue* module;
        MH_ASSIGN_OR_RETURN(name, Pop(f));
        MH_ASSIGN_OR_RETURN(module, Pop(f));
        if (name->kind != PickleKind::kString || module->kind != PickleKind::kString) {
          return Error("STACK_GLOBAL of non-strings");
        }
        MH_ASSIGN_OR_RETURN(v, MakeGlobal(module->text, name->text));
        MH_RETURN_IF_ERROR(Push(f, v));
        break;
      }
      case kReduce: {
        MH_RETURN_IF_ERROR(Reduce(f));
        break;
      }
      case kNewObj: {
      }
      case kNewObjEx: {
        PickleValue* kwargs = nullptr;
        if (op == kNewObjEx) {
          MH_ASSIGN_OR_RETURN(kwargs, Pop(f));
          if (kwargs->kind != PickleKind::kDict) return Error("NEWOBJ_EX kwargs are not a dict");
        }
        PickleValue* args;
        PickleValue* cls;
        MH_ASSIGN_OR_RETURN(args, Pop(f));
        MH_ASSIGN_OR_RETURN(cls, Pop(f));
        if (cls->kind != PickleKind::kGlobal) {
          return Error("NEWOBJ of a " + DescribePickleValue(*cls) + ", not a class");
        }
        if (args->kind != PickleKind::kTuple) return Error("NEWOBJ arguments are not a tuple");
        MH_ASSIGN_OR_RETURN(v, New(PickleKind::kObject));
        v->callable = cls;
        v->args = args;
        v->kwargs = kwargs;
        MH_RETURN_IF_ERROR(Nest(v, args));
        MH_RETURN_IF_ERROR(Nest(v, kwargs));
        MH_RETURN_IF_ERROR(Push(f, v));
        break;
      }
      case kBuild: {
        MH_RETURN_IF_ERROR(Build(f, nesting));
        break;
      }
      case kBinGet:
      case kBinPut: {
        MH_ASSIGN_OR_RETURN(n, ReadLe(1));
        MH_RETURN_IF_ERROR(op == kBinGet ? MemoGet(f, n) : Memoize(f, n));
        break;
      }
      case kLongBinGet:
      case kLongBinPut: {
        MH_ASSIGN_OR_RETURN(n, ReadLe(4));
        MH_RETURN_IF_ERROR(op == kLongBinGet ? MemoGet(f, n) : Memoize(f, n));
        break;
      }
      case kMemoize: {
        MH_RETURN_IF_ERROR(Memoize(f, f.memo.size()));
        break;
      }
      case kPersId:
      case kBinPersId: {
        return Unsupported("persistent ids are not supported");
      }
      case kExt1:
      case kExt2:
      case kExt4: {
        return Unsupported("extension registry codes are not supported");
      }
      case kNextBuffer:
      case kReadOnlyBuffer: {
        return Unsupported("out-of-band buffers are not supported");
      }
      case kInst:
      case kObj: {
        return Unsupported("protocol 0/1 INST/OBJ opcodes are not supported");
      }
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        return Error(std::string("unknown opcode 0x") + kHex[op >> 4] + kHex[op & 15]);
      }
    }
  }
}

namespace {

// joblib's oldest container (joblib < 0.10): "ZF", the pickle's length as
// Python hex text padded with spaces to 19 characters, then zlib data.
constexpr std::string_view kZfilePrefix = "ZF";
constexpr std::size_t kZfileHeader = 2 + 19;

// The pickle inside a compressed joblib file (joblib.dump(..., compress=N or
// (codec, N)), or a file named .z/.gz/.bz2/.xz/.lzma): nullopt when `bytes`
// is not compressed. joblib writes the whole pickle, arrays inlined, through
// the codec, so the decompressed bytes are an ordinary joblib pickle.
Result<std::optional<std::string>> Uncompressed(std::string_view bytes,
                                                const PickleLimits& limits) {
  DecompressOptions options;
  options.max_output_bytes = limits.max_input_bytes;
  Compression codec = DetectCompression(bytes);
  std::string_view data = bytes;
  if (codec == Compression::kNone && StartsWith(bytes, kZfilePrefix)) {
    if (bytes.size() < kZfileHeader) {
      return Status::Corruption("pickle: truncated joblib ZF header");
    }
    codec = Compression::kZlib;
    data = bytes.substr(kZfileHeader);
    options.offset_base = kZfileHeader;
  }
  if (codec == Compression::kNone) {
    if (StartsWith(bytes, "\x04\x22\x4d\x18")) {
      return Status::NotSupported(
          "pickle: an lz4-compressed joblib file is not supported; save it with "
          "joblib.dump(..., compress=('zlib', 3)) (or gzip, bz2, xz, lzma), or compress=0");
    }
    return std::optional<std::string>();
  }
  Result<std::string> inflated = Decompress(codec, data, options);
  if (!inflated.ok()) {
    return inflated.status().WithContext("pickle: " + std::string(CompressionName(codec)) +
                                         "-compressed joblib file");
  }
  return std::optional<std::string>(std::move(*inflated));
}

}  // namespace

bool LooksLikePickle(std::string_view bytes) {
  return (!bytes.empty() && static_cast<std::uint8_t>(bytes[0]) == 0x80) ||
         DetectCompression(bytes) != Compression::kNone || StartsWith(bytes, kZfilePrefix);
}

Result<PickleDocument> ParsePickle(std::string_view bytes, const PickleLimits& limits) {
  if (bytes.size() > limits.max_input_bytes) {
    return Status::Corruption("pickle: input of " + std::to_string(bytes.size()) +
                              " bytes exceeds the limit of " +
                              std::to_string(limits.max_input_bytes));
  }
  MH_ASSIGN_OR_RETURN(std::optional<std::string> inflated, Uncompressed(bytes, limits));
  const std::string_view pickle = inflated ? std::string_view(*inflated) : bytes;
  PickleDocument doc;
  PickleParser parser(pickle, limits, &doc);
  Result<PickleValue*> root = parser.Run(0);
  if (!root.ok()) {
    // Offsets are in the decompressed stream: say so.
    if (inflated) return root.status().WithContext("after decompression");
    return root.status();
  }
  doc.root_ = *root;
  return doc;
}

}  // namespace mh::iforest
