// Interpretation of the numpy values found in a pickle (pickle_reader.h):
// dtypes (simple and structured), arrays (joblib inline arrays,
// numpy.core.multiarray._reconstruct + BUILD state, numpy.core.numeric.
// _frombuffer) and scalars (numpy.core.multiarray.scalar). Bounds and sizes
// are checked against the data; nothing is trusted.
//
// Thread safety: stateless functions over immutable values.
#ifndef MH_IFOREST_PICKLE_NUMPY_H_
#define MH_IFOREST_PICKLE_NUMPY_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "iforest/pickle_reader.h"

namespace mh::iforest {

// A numpy dtype: either a plain number type or a structured record of plain
// number fields (sklearn's tree node dtype).
struct NumpyDtype {
  char kind = 'f';   // 'f' float, 'i' signed, 'u' unsigned, 'b' bool, 'O' object, 'V' record
  int itemsize = 8;  // bytes per element
  bool big_endian = false;
  struct Field {
    std::string name;
    char kind = 'f';
    int itemsize = 8;
    bool big_endian = false;
    std::size_t offset = 0;  // byte offset within the record
  };
  std::vector<Field> fields;  // kind 'V' only, in numpy's names order

  // The field called `name`, or null.
  const Field* FindField(std::string_view name) const;
};

// Decodes a numpy.dtype object (REDUCE of numpy.dtype with ("f8", False,
// True) and an optional BUILD state (version, byteorder, subarray, names,
// fields, elsize, alignment, flags)). Corruption naming what is wrong;
// NotSupported for dtypes we cannot use (strings, datetimes, sub-arrays,
// nested records).
Result<NumpyDtype> DtypeFromPickle(const PickleValue& value);

// A decoded numpy array view; `data` points into the document.
struct NumpyArray {
  NumpyDtype dtype;
  std::vector<std::int64_t> shape;
  std::size_t count = 1;  // product of shape
  bool fortran_order = false;
  std::string_view data;                    // count * itemsize bytes (non-object dtypes)
  std::vector<const PickleValue*> objects;  // the elements of an object array
};

// Decodes an array value. Corruption if it is not an array or its data does
// not match its dtype and shape.
Result<NumpyArray> ArrayFromPickle(const PickleValue& value);

// The elements of a 1-D (or, in C order, any-shape) numeric array, converted
// to double / int64. For a record dtype, the named field of each record.
// Corruption for a non-numeric dtype or a missing field; an integer
// conversion of a non-integral or out-of-range value is Corruption.
Result<std::vector<double>> ArrayDoubles(const NumpyArray& array, std::string_view field = {});
Result<std::vector<std::int64_t>> ArrayInts(const NumpyArray& array, std::string_view field = {});

// A number: a Python int/float/bool or a numpy scalar (scalar(dtype, bytes)).
// Corruption otherwise.
Result<double> NumberFromPickle(const PickleValue& value);
// An integral number (Python int or numpy integer scalar). Corruption otherwise.
Result<std::int64_t> IntFromPickle(const PickleValue& value);

// A list of strings: a list/tuple of str, or a numpy object array of str.
Result<std::vector<std::string>> StringsFromPickle(const PickleValue& value);

}  // namespace mh::iforest

#endif  // MH_IFOREST_PICKLE_NUMPY_H_
