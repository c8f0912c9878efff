// The safe pickle reader: values decoded as Python's pickle module encodes
// them (pickles made by /usr/bin/python3 now), and hostile inputs (refused
// globals, truncation, deep nesting, absurd lengths, unknown opcodes) that
// must fail with a clear error, quickly.
#include "iforest/pickle_reader.h"

#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "iforest/pickle_numpy.h"
#include "iforest/sklearn_import.h"
#include "test_util.h"

namespace mh::iforest {
namespace {

using namespace std::string_literals;

// The bytes of pickle.dumps(<expr>, protocol=<protocol>) by the reference python.
std::string PythonPickle(const std::string& expr, int protocol) {
  const std::string dir = mh::testing::MakeTempDir("iforest-pickle");
  const std::string path = dir + "/p.pkl";
  std::string out;
  const std::string cmd =
      mh::testing::ReferencePython() + " -c \"import pickle, numpy as np; open('" + path +
      "', 'wb').write(pickle.dumps(" + expr + ", protocol=" + std::to_string(protocol) + "))\"";
  EXPECT_EQ(mh::testing::RunCommand(cmd, &out), 0) << cmd;
  std::string bytes = test::ReadFile(path);
  std::filesystem::remove_all(dir);
  return bytes;
}

std::string Proto(int p) { return std::string("\x80") + static_cast<char>(p); }

TEST(PickleReaderTest, DecodesPythonValuesInEveryProtocol) {
  for (int protocol = 2; protocol <= 5; ++protocol) {
    SCOPED_TRACE(protocol);
    const std::string bytes = PythonPickle(
        "{'a': 1, 'b': [1.5, 'x\\u00e9', None, True, False, -2**40, 2**63-1, b'\\x00\\xff'], "
        "'c': (1, 2), 'd': (), 'e': {3}}",
        protocol);
    Result<PickleDocument> doc = ParsePickle(bytes);
    ASSERT_TRUE(doc.ok()) << doc.status().ToString();
    const PickleValue& root = doc->root();
    ASSERT_EQ(root.kind, PickleKind::kDict);
    ASSERT_NE(root.Get("a"), nullptr);
    EXPECT_EQ(root.Get("a")->integer, 1);
    const PickleValue* b = root.Get("b");
    ASSERT_NE(b, nullptr);
    ASSERT_EQ(b->kind, PickleKind::kList);
    ASSERT_EQ(b->items.size(), 8u);
    EXPECT_EQ(b->items[0]->number, 1.5);
    EXPECT_EQ(b->items[1]->text, "x\xc3\xa9");
    EXPECT_EQ(b->items[2]->kind, PickleKind::kNone);
    EXPECT_TRUE(b->items[3]->boolean);
    EXPECT_FALSE(b->items[4]->boolean);
    EXPECT_EQ(b->items[5]->integer, -(std::int64_t{1} << 40));
    EXPECT_EQ(b->items[6]->integer, INT64_MAX);
    EXPECT_EQ(b->items[7]->kind, PickleKind::kBytes);  // protocol 2: via _codecs.encode
    EXPECT_EQ(b->items[7]->text, std::string("\x00\xff", 2));
    EXPECT_EQ(root.Get("c")->kind, PickleKind::kTuple);
    EXPECT_EQ(root.Get("c")->items.size(), 2u);
    EXPECT_EQ(root.Get("d")->items.size(), 0u);
    EXPECT_EQ(root.Get("e")->kind, protocol >= 4 ? PickleKind::kSet : PickleKind::kObject);
  }
}

TEST(PickleReaderTest, DecodesNumpyArraysScalarsAndDtypes) {
  for (int protocol = 2; protocol <= 5; ++protocol) {
    SCOPED_TRACE(protocol);
    const std::string bytes = PythonPickle(
        "[np.array([1.5, -2.0, 3.25]), np.array([[1, 2], [3, 4]], dtype='>i4'), np.float64(0.1), "
        "np.int64(-7), np.array(['ab', 'c'], dtype=object)]",
        protocol);
    Result<PickleDocument> doc = ParsePickle(bytes);
    ASSERT_TRUE(doc.ok()) << doc.status().ToString();
    const PickleValue& root = doc->root();
    ASSERT_EQ(root.items.size(), 5u);
    Result<NumpyArray> a = ArrayFromPickle(*root.items[0]);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    EXPECT_EQ(*ArrayDoubles(*a), (std::vector<double>{1.5, -2.0, 3.25}));
    Result<NumpyArray> b = ArrayFromPickle(*root.items[1]);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_TRUE(b->dtype.big_endian);
    EXPECT_EQ(b->shape, (std::vector<std::int64_t>{2, 2}));
    EXPECT_EQ(*ArrayInts(*b), (std::vector<std::int64_t>{1, 2, 3, 4}));
    EXPECT_EQ(*NumberFromPickle(*root.items[2]), 0.1);
    EXPECT_EQ(*IntFromPickle(*root.items[3]), -7);
    EXPECT_FALSE(IntFromPickle(*root.items[2]).ok());
    EXPECT_EQ(*StringsFromPickle(*root.items[4]), (std::vector<std::string>{"ab", "c"}));
  }
}

void ExpectRefused(const std::string& bytes, const std::string& needle) {
  Result<PickleDocument> doc = ParsePickle(bytes);
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.status().message().find(needle), std::string::npos) << doc.status().ToString();
}

TEST(PickleReaderTest, RefusesGlobalsOffTheAllowList) {
  // Python's own exploit shapes: os.system via REDUCE, in protocols 2 and 4.
  for (int protocol : {2, 4}) {
    const std::string bytes = PythonPickle(
        "type('X', (), {'__reduce__': lambda s: (__import__('os').system, ('true',))})()",
        protocol);
    Result<PickleDocument> doc = ParsePickle(bytes);
    ASSERT_FALSE(doc.ok());
    EXPECT_TRUE(doc.status().IsNotSupported());
    EXPECT_NE(doc.status().message().find("refusing global 'posix.system'"), std::string::npos)
        << doc.status().message();
  }
  ExpectRefused(Proto(2) + "cos\nsystem\n.", "refusing global 'os.system'");
  ExpectRefused(Proto(2) + "cbuiltins\neval\n.", "refusing global 'builtins.eval'");
  ExpectRefused(Proto(2) + "c__builtin__\ngetattr\n.", "refusing global 'builtins.getattr'");
  ExpectRefused(Proto(4) +
                    "\x8c\x07sklearn\x8c\x04"
                    "base\x93.",
                "refusing global 'sklearn.base'");
  ExpectRefused(Proto(4) + "\x8c\x08numpy.io\x8c\x04load\x93.", "refusing global 'numpy.io.load'");
  // The importer names the class it refused.
  Result<Model> m = ImportSklearnPickle(Proto(2) + "cos\nsystem\n.", "evil.joblib");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("evil.joblib: pickle: offset 2: refusing global 'os.system'"),
            std::string::npos)
      << m.status().message();
}

TEST(PickleReaderTest, RejectsMalformedStreams) {
  ExpectRefused(Proto(4) + "\xff", "unknown opcode 0xff");
  ExpectRefused(Proto(4) + "N", "truncated: no STOP opcode");
  ExpectRefused("N.", "not a pickle of protocol 2 or later");
  ExpectRefused(Proto(6) + "N.", "pickle protocol 6");
  ExpectRefused(Proto(4) + ".", "stack underflow");
  ExpectRefused(Proto(4) + "h\x05.", "memo key 5 not found");
  ExpectRefused(Proto(4) + "Na.", "stack underflow");
  ExpectRefused(Proto(4) + "NNa.", "APPEND(S) on a None");
  ExpectRefused(Proto(4) + "K\x01)R.", "REDUCE of a int");
  ExpectRefused(Proto(4) + "Pabc\n.", "persistent ids");
  ExpectRefused(Proto(5) + "\x97.", "out-of-band buffers");
  ExpectRefused(Proto(4) + "\x82\x01.", "extension registry");
  ExpectRefused(std::string("\x1f\x8b\x08\x00", 4),
                "gzip-compressed joblib file: gzip: truncated stream at input offset 4");
  ExpectRefused(std::string("\x04\x22\x4d\x18\x64", 5),
                "lz4-compressed joblib file is not supported");
  ExpectRefused(Proto(4) + "I1\n.", "unknown opcode 0x49");
}

// A compressed pickle is read through its codec; errors found in the
// decompressed stream say so (their offsets are not the file's).
TEST(PickleReaderTest, CompressedPicklesAreReadThroughTheirCodec) {
  const std::string dir = mh::testing::MakeTempDir("iforest-pickle-z");
  std::string out;
  const std::string cmd =
      mh::testing::ReferencePython() + " -c \"import bz2, pickle, zlib; d = '" + dir +
      "'; open(d + '/ok', 'wb').write(bz2.compress(pickle.dumps([1, 2.5], 4)));"
      " open(d + '/evil', 'wb').write(zlib.compress(b'\\x80\\x02cos\\nsystem\\n.'))\"";
  ASSERT_EQ(mh::testing::RunCommand(cmd, &out), 0) << cmd;
  Result<PickleDocument> ok = ParsePickle(test::ReadFile(dir + "/ok"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->root().kind, PickleKind::kList);
  ASSERT_EQ(ok->root().items.size(), 2u);
  EXPECT_EQ(ok->root().items[1]->number, 2.5);
  ExpectRefused(test::ReadFile(dir + "/evil"),
                "after decompression: pickle: offset 2: refusing global 'os.system'");
  std::filesystem::remove_all(dir);
}

TEST(PickleReaderTest, RejectsAbsurdLengthsWithoutAllocating) {
  // BINUNICODE8 / BINBYTES8 announcing 2^62 bytes, BINBYTES 4 GiB, LONG4 of 2 GiB.
  ExpectRefused(Proto(4) + "\x8d" + std::string("\0\0\0\0\0\0\0\x40", 8) + ".", "exceeds");
  ExpectRefused(Proto(4) + "\x8e" + std::string("\xff\xff\xff\xff\xff\xff\xff\xff", 8), "exceeds");
  ExpectRefused(Proto(4) + "B\xff\xff\xff\xff", "exceeds");
  ExpectRefused(Proto(4) + "\x8b\x00\x00\x00\x80"s, "wider than 64 bits");
  ExpectRefused(Proto(4) + "\x95" + std::string("\xff\xff\xff\xff\x00\x00\x00\x00", 8) + "N.",
                "frame longer than the input");
  // A joblib array wrapper announcing a 2^40 x 2^40 array.
  const std::string wrapper = Proto(4) +
                              "\x8c\x13joblib.numpy_pickle\x8c\x11NumpyArrayWrapper\x93)\x81}("s +
                              "\x8c\x08subclass\x8c\x05numpy\x8c\x07ndarray\x93"s +
                              "\x8c\x05shape\x8a\x06\0\0\0\0\0\x01\x8a\x06\0\0\0\0\0\x01\x86"s +
                              "\x8c\x05order\x8c\x01"
                              "C"s +
                              "\x8c\x05"
                              "dtype\x8c\x05numpy\x8c\x05"
                              "dtype\x93"s +
                              "\x8c\x02"
                              "f8\x89\x88\x87Rub."s;
  ExpectRefused(wrapper, "shape too large");
}

TEST(PickleReaderTest, DeepNestingIsBounded) {
  // 100000 nested MARKs.
  ExpectRefused(Proto(4) + std::string(100000, '('), "nested marks");
  // Lists nested through the memo: L1 = [L0], L2 = [L1], ... without marks.
  std::string chain = Proto(4) + "]q\x00"s;
  for (int i = 0; i < 100000; ++i)
    chain +=
        "]h\x00"
        "aq\x00"
        "0"s;
  chain += ".";
  const auto start = std::chrono::steady_clock::now();
  ExpectRefused(chain, "nesting deeper than 128");
  // A stack of a million Nones is fine up to the limit, then refused.
  PickleLimits small;
  small.max_stack = 1000;
  Result<PickleDocument> doc = ParsePickle(Proto(4) + std::string(2000, 'N') + ".", small);
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.status().message().find("stack deeper than 1000"), std::string::npos);
  // Values are bounded too.
  PickleLimits few;
  few.max_values = 100;
  doc = ParsePickle(Proto(4) + std::string(200, ')') + ".", few);
  ASSERT_FALSE(doc.ok());
  EXPECT_NE(doc.status().message().find("more than 100 values"), std::string::npos);
  // Not a timing assertion: just reports that hostile input is cheap.
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - start)
                      .count();
  RecordProperty("hostile_ms", static_cast<int>(ms));
}

TEST(PickleReaderTest, SelfReferenceDoesNotLoop) {
  // l = []; l.append(l): a cycle; parsing ends and the importer refuses it.
  const std::string bytes = PythonPickle("(lambda l: (l.append(l), l)[1])([])", 4);
  Result<PickleDocument> doc = ParsePickle(bytes);
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->root().items[0], &doc->root());
  EXPECT_FALSE(ImportSklearnPickle(bytes, "cycle").ok());
}

TEST(PickleReaderTest, EveryTruncationOfARealModelFails) {
  const std::string dir = mh::testing::MakeTempDir("iforest-trunc");
  std::string out;
  ASSERT_EQ(test::RunPython("iforest_pickle_cases.py", dir + " --small", &out), 0);
  for (const char* name : {"small_bare_p4", "small_dict_p2", "small_pickle_p5_df"}) {
    SCOPED_TRACE(name);
    const std::string bytes = test::ReadFile(dir + "/" + name + ".joblib");
    ASSERT_GT(bytes.size(), 100u);
    ASSERT_TRUE(ImportSklearnPickle(bytes, name).ok());
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      Result<Model> m = ImportSklearnPickle(std::string_view(bytes).substr(0, n), name);
      ASSERT_FALSE(m.ok()) << "prefix of " << n << " bytes";
      ASSERT_TRUE(m.status().IsCorruption() || m.status().IsNotSupported())
          << m.status().ToString();
    }
    // Flipped bytes: any outcome but a crash (ASan/UBSan builds check memory).
    for (std::size_t i = 0; i < bytes.size(); i += 3) {
      std::string bad = bytes;
      bad[i] = static_cast<char>(bad[i] ^ 0x5a);
      (void)ImportSklearnPickle(bad, name);
    }
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mh::iforest
