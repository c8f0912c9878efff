// PickleReader: a safe, bounded interpreter of Python pickle streams
// (protocols 2 to 5) and of joblib files (a pickle with numpy arrays stored
// inline as NumpyArrayWrapper objects followed by the raw array bytes).
//
// It NEVER executes anything: opcodes are interpreted into a small tree of
// inert values (PickleValue). A class or function reference (GLOBAL,
// STACK_GLOBAL) is accepted only if it is on a fixed allow-list (scikit-learn's
// Pipeline, StandardScaler, IsolationForest, ExtraTreeRegressor and Tree; numpy
// arrays, dtypes and scalars; joblib's NumpyArrayWrapper; numpy RandomState
// helpers; a few copyreg/_codecs/builtins helpers); anything else is refused
// with NotSupported naming it ("pickle: refusing global 'os.system'"). Calls
// (REDUCE, NEWOBJ) only record their callable and arguments, except
// _codecs.encode(str, "latin1"), which is evaluated as a pure function.
//
// Every read is length-checked; the input size, stack, memo, mark nesting,
// value count and container nesting are bounded, so any input fails with a
// clear Corruption/NotSupported error in time and memory linear in its size.
//
// Thread safety: a PickleDocument is immutable after parsing; concurrent const
// access is safe. ParsePickle shares no state between calls.
#ifndef MH_IFOREST_PICKLE_READER_H_
#define MH_IFOREST_PICKLE_READER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mh::iforest {

enum class PickleKind : std::uint8_t {
  kNone = 0,
  kBool = 1,
  kInt = 2,     // fits in int64 (larger integers are refused)
  kFloat = 3,   // a Python float (double)
  kString = 4,  // str (UTF-8 bytes as found in the stream)
  kBytes = 5,   // bytes / bytearray
  kTuple = 6,
  kList = 7,
  kDict = 8,     // items: key0, value0, key1, value1, ... in insertion order
  kSet = 9,      // set or frozenset
  kGlobal = 10,  // an allow-listed class/function reference: module, name
  kObject = 11,  // built by REDUCE / NEWOBJ / NEWOBJ_EX, then optionally BUILD
  kArray = 12,   // a numpy array stored inline by joblib (raw bytes)
};

// One value of the tree. Owned by its PickleDocument; the pointers refer to
// other values of the same document (the graph may share values or even
// contain cycles, so walk it with a depth bound).
struct PickleValue {
  PickleKind kind = PickleKind::kNone;
  bool boolean = false;      // kBool
  std::int64_t integer = 0;  // kInt
  double number = 0.0;       // kFloat
  // kString, kBytes: the bytes; kGlobal: the module; kArray: the raw data.
  std::string text;
  std::string name;  // kGlobal: the qualified name within the module
  // kTuple, kList, kSet: the elements; kDict: alternating keys and values.
  std::vector<const PickleValue*> items;
  // kObject: the callable (a kGlobal), its argument tuple, keyword arguments
  // (NEWOBJ_EX; else null) and the BUILD state (null if never built).
  // kArray: `callable` is the array's dtype value (a numpy.dtype kObject).
  const PickleValue* callable = nullptr;
  const PickleValue* args = nullptr;
  const PickleValue* kwargs = nullptr;
  const PickleValue* state = nullptr;
  std::vector<std::int64_t> shape;  // kArray
  bool fortran_order = false;       // kArray: data is in Fortran order
  // Nesting depth as seen while parsing (a container is one deeper than its
  // deepest element at insertion time); bounded by PickleLimits::max_depth.
  int depth = 0;

  bool IsGlobal(std::string_view module, std::string_view qualname) const {
    return kind == PickleKind::kGlobal && text == module && name == qualname;
  }
  // For a kDict: the value of the string key `key`, or null.
  const PickleValue* Get(std::string_view key) const;
};

// The limits; the defaults accept any scikit-learn model up to a few hundred
// megabytes.
struct PickleLimits {
  std::size_t max_input_bytes = std::size_t{1} << 30;  // whole stream
  std::size_t max_values = std::size_t{1} << 22;       // values created
  std::size_t max_stack = std::size_t{1} << 20;        // unpickler stack entries
  std::size_t max_memo = std::size_t{1} << 20;         // memo entries
  std::size_t max_marks = 256;                         // nested MARKs
  int max_depth = 128;                                 // container nesting
  int max_nested_pickles = 2;  // joblib object arrays are pickles inside the pickle
};

// The result of a parse: the root value (what pickle.load would return) and
// the arena owning every value.
class PickleDocument {
 public:
  PickleDocument() = default;
  PickleDocument(PickleDocument&&) = default;
  PickleDocument& operator=(PickleDocument&&) = default;

  const PickleValue& root() const { return *root_; }
  std::size_t size() const { return values_.size(); }

 private:
  friend class PickleParser;
  friend Result<PickleDocument> ParsePickle(std::string_view bytes, const PickleLimits& limits);
  std::vector<std::unique_ptr<PickleValue>> values_;
  const PickleValue* root_ = nullptr;
};

// Parses a pickle or joblib stream. A compressed joblib file (zlib, gzip,
// bz2, xz or legacy lzma, found by its magic bytes as joblib.load finds it;
// also joblib's old "ZF" zlib container) is decompressed first, into at most
// limits.max_input_bytes. The bytes after the final STOP are ignored. Errors
// name the byte offset (in the decompressed stream for a compressed file,
// then prefixed "after decompression"): Corruption for malformed or truncated
// input, unknown opcodes and exceeded limits, and for compressed data that is
// corrupt, truncated or larger than the limit ("pickle: xz-compressed joblib
// file: xz: truncated stream at input offset 812 ..."); NotSupported for a
// refused global, out-of-band buffers, persistent ids and extension codes,
// and lz4-compressed joblib files.
Result<PickleDocument> ParsePickle(std::string_view bytes, const PickleLimits& limits = {});

// True if `bytes` starts like something ParsePickle reads: a PROTO opcode
// (0x80) or a compressed joblib file's magic.
bool LooksLikePickle(std::string_view bytes);

// "module.name" for a kGlobal, the kind's name otherwise (for messages).
std::string DescribePickleValue(const PickleValue& value);

}  // namespace mh::iforest

#endif  // MH_IFOREST_PICKLE_READER_H_
