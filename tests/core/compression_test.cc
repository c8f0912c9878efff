// core/compression.h: streams written by Python's zlib, gzip, bz2 and lzma
// modules (the reference python, as joblib writes them) and by the zstd
// command-line tool decode to the same bytes; zstd frames we write decode
// with the zstd tool; bombs stop at the limit; truncated and corrupt streams are
// Corruption naming the codec and the input offset.
#include "core/compression.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "testing/test_paths.h"

namespace mh {
namespace {

// `packed` decompressed by the command `decompress` (e.g. "gzip -d -c"),
// which reads a file in `dir` and writes stdout; "" when it fails.
std::string DecompressedBy(const std::string& decompress, const std::string& dir,
                           const std::string& packed) {
  std::ofstream(dir + "/ours.packed", std::ios::binary) << packed;
  std::string ignored;
  if (mh::testing::RunCommand(decompress + " < " + dir + "/ours.packed > " + dir + "/ours.out",
                              &ignored) != 0) {
    return "";
  }
  std::ifstream in(dir + "/ours.out", std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

// What the reference python wrote into a temp dir: "plain" (the data), one
// file per codec, and the special cases named below.
class CompressionTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const std::string dir = mh::testing::MakeTempDir("core-compression");
    const std::string script =
        "import bz2, gzip, lzma, os, random, subprocess, zlib\n"
        "d = '" +
        dir +
        "'\n"
        "r = random.Random(7)\n"
        "data = bytes(r.randrange(256) for _ in range(20000)) + bytes(range(256)) * 300\n"
        "w = lambda n, b: open(os.path.join(d, n), 'wb').write(b)\n"
        "w('plain', data)\n"
        "w('zlib', zlib.compress(data, 3))\n"
        "w('gzip', gzip.compress(data, 3))\n"
        "w('bz2', bz2.compress(data, 3))\n"
        "w('xz', lzma.compress(data, format=lzma.FORMAT_XZ, preset=3))\n"
        "w('lzma', lzma.compress(data, format=lzma.FORMAT_ALONE, preset=3))\n"
        "h = len(data) // 3\n"
        "w('gzip_multi', gzip.compress(data[:h]) + gzip.compress(data[h:]) + bytes(8))\n"
        "w('bz2_multi', bz2.compress(data[:h]) + bz2.compress(data[h:]))\n"
        "w('xz_multi', lzma.compress(data[:h]) + lzma.compress(data[h:]))\n"
        "w('zlib_bomb', zlib.compress(bytes(4 << 20), 9))\n"
        "w('bz2_bomb', bz2.compress(bytes(4 << 20), 9))\n"
        "w('xz_bomb', lzma.compress(bytes(4 << 20)))\n"
        "z = lambda b, *a: subprocess.run(['zstd', '-q', '-c', *a], input=b, "
        "stdout=subprocess.PIPE, "
        "check=True).stdout\n"
        "w('zstd', z(data, '-3'))\n"
        "w('zstd_multi', z(data[:h]) + z(data[h:]))\n"
        "w('zstd_bomb', z(bytes(4 << 20), '-19'))\n";
    const std::string py = dir + "/make.py";
    std::ofstream(py) << script;
    std::string ignored;
    ASSERT_EQ(mh::testing::RunCommand(mh::testing::ReferencePython() + " " + py, &ignored), 0);
    files_ = new std::map<std::string, std::string>();
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      std::ifstream in(e.path(), std::ios::binary);
      std::ostringstream buf;
      buf << in.rdbuf();
      (*files_)[e.path().filename().string()] = buf.str();
    }
    std::filesystem::remove_all(dir);
  }
  static void TearDownTestSuite() {
    delete files_;
    files_ = nullptr;
  }
  static const std::string& File(const std::string& name) { return files_->at(name); }

  static inline std::map<std::string, std::string>* files_ = nullptr;
};

struct Codec {
  const char* file;
  Compression compression;
};
constexpr Codec kCodecs[] = {{"zlib", Compression::kZlib}, {"gzip", Compression::kGzip},
                             {"bz2", Compression::kBzip2}, {"xz", Compression::kXz},
                             {"lzma", Compression::kLzma}, {"zstd", Compression::kZstd}};

TEST_F(CompressionTest, DetectsAndDecodesWhatPythonWrites) {
  for (const Codec& c : kCodecs) {
    SCOPED_TRACE(c.file);
    const std::string& bytes = File(c.file);
    // zstd is never detected (joblib does not write it): callers name it.
    EXPECT_EQ(DetectCompression(bytes),
              c.compression == Compression::kZstd ? Compression::kNone : c.compression);
    EXPECT_EQ(CompressionName(c.compression), c.file);
    Result<std::string> out = Decompress(c.compression, bytes);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, File("plain"));
    // The exact size as the limit is enough.
    DecompressOptions exact;
    exact.max_output_bytes = File("plain").size();
    exact.size_hint = exact.max_output_bytes;
    Result<std::string> tight = Decompress(c.compression, bytes, exact);
    ASSERT_TRUE(tight.ok()) << tight.status().ToString();
    EXPECT_EQ(*tight, File("plain"));
  }
}

TEST_F(CompressionTest, DetectsNothingElse) {
  EXPECT_EQ(DetectCompression(std::string("\x80\x04\x95", 3)), Compression::kNone);  // pickle
  EXPECT_EQ(DetectCompression("x"), Compression::kNone);
  EXPECT_EQ(DetectCompression("xy"), Compression::kNone);  // 0x78 with a bad header check
  EXPECT_EQ(DetectCompression("BZh0"), Compression::kNone);
  EXPECT_EQ(DetectCompression("PAR1"), Compression::kNone);
  EXPECT_EQ(DetectCompression(""), Compression::kNone);
  Result<std::string> none = Decompress(Compression::kNone, "abc");
  EXPECT_TRUE(none.status().IsInvalidArgument()) << none.status().ToString();
}

TEST_F(CompressionTest, ConcatenatedStreamsAndZeroPaddingDecodeAsOne) {
  for (const auto& [file, compression] :
       {std::pair{"gzip_multi", Compression::kGzip}, std::pair{"bz2_multi", Compression::kBzip2},
        std::pair{"xz_multi", Compression::kXz}, std::pair{"zstd_multi", Compression::kZstd}}) {
    SCOPED_TRACE(file);
    Result<std::string> out = Decompress(compression, File(file));
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, File("plain"));
  }
  // Garbage after a stream is not padding: it must be another stream.
  Result<std::string> garbage = Decompress(Compression::kZlib, File("zlib") + "junk");
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.status().message().find("zlib: corrupt data at input offset"),
            std::string::npos)
      << garbage.status().ToString();
}

TEST_F(CompressionTest, BombsStopAtTheLimit) {
  DecompressOptions options;
  options.max_output_bytes = 1 << 20;
  for (const auto& [file, compression] :
       {std::pair{"zlib_bomb", Compression::kZlib}, std::pair{"bz2_bomb", Compression::kBzip2},
        std::pair{"xz_bomb", Compression::kXz}, std::pair{"zstd_bomb", Compression::kZstd}}) {
    SCOPED_TRACE(file);
    Result<std::string> out = Decompress(compression, File(file), options);
    ASSERT_FALSE(out.ok());
    EXPECT_TRUE(out.status().IsCorruption());
    EXPECT_NE(out.status().message().find(std::string(CompressionName(compression)) +
                                          ": decompressed data exceeds the limit of 1048576 bytes"),
              std::string::npos)
        << out.status().ToString();
    // Under a limit that fits, the same bytes decode.
    options.max_output_bytes = 4 << 20;
    Result<std::string> whole = Decompress(compression, File(file), options);
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    EXPECT_EQ(*whole, std::string(4 << 20, '\0'));
    options.max_output_bytes = 1 << 20;
  }
}

TEST_F(CompressionTest, TruncatedStreamsNameCodecAndOffset) {
  for (const Codec& c : kCodecs) {
    SCOPED_TRACE(c.file);
    const std::string& bytes = File(c.file);
    for (std::size_t keep : {bytes.size() / 2, bytes.size() - 1, std::size_t{3}}) {
      SCOPED_TRACE(keep);
      DecompressOptions options;
      options.offset_base = 100;
      Result<std::string> out = Decompress(c.compression, bytes.substr(0, keep), options);
      ASSERT_FALSE(out.ok());
      EXPECT_TRUE(out.status().IsCorruption());
      EXPECT_EQ(
          out.status().message().find(std::string(c.file) + ": truncated stream at input offset " +
                                      std::to_string(100 + keep)),
          0u)
          << out.status().ToString();
    }
  }
}

TEST_F(CompressionTest, CorruptStreamsNameCodecAndOffset) {
  for (const Codec& c : kCodecs) {
    SCOPED_TRACE(c.file);
    std::string bytes = File(c.file);
    for (std::size_t i = bytes.size() / 3; i < bytes.size() / 3 + 16; ++i) bytes[i] ^= 0x5a;
    Result<std::string> out = Decompress(c.compression, bytes);
    ASSERT_FALSE(out.ok());
    EXPECT_TRUE(out.status().IsCorruption());
    EXPECT_EQ(out.status().message().find(std::string(c.file) + ": corrupt data at input offset "),
              0u)
        << out.status().ToString();
  }
}

TEST_F(CompressionTest, ZstdWeWriteIsReadByTheZstdTool) {
  Result<std::string> packed = Compress(Compression::kZstd, File("plain"), 3);
  ASSERT_TRUE(packed.ok()) << packed.status().ToString();
  EXPECT_LT(packed->size(), File("plain").size());
  const std::string dir = mh::testing::MakeTempDir("core-compression-write");
  EXPECT_EQ(DecompressedBy("zstd -q -d -c", dir, *packed), File("plain"));
  std::filesystem::remove_all(dir);
  // And by us.
  Result<std::string> back = Decompress(Compression::kZstd, *packed);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, File("plain"));
  // Only zstd and gzip are written.
  EXPECT_TRUE(Compress(Compression::kBzip2, "abc").status().IsNotSupported());
}

TEST_F(CompressionTest, GzipWeWriteIsReadByGunzip) {
  Result<std::string> packed = Compress(Compression::kGzip, File("plain"), 6);
  ASSERT_TRUE(packed.ok()) << packed.status().ToString();
  EXPECT_LT(packed->size(), File("plain").size());
  EXPECT_EQ(DetectCompression(*packed), Compression::kGzip);
  const std::string dir = mh::testing::MakeTempDir("core-compression-gzip");
  EXPECT_EQ(DecompressedBy("gzip -d -c", dir, *packed), File("plain"));
  std::filesystem::remove_all(dir);
  Result<std::string> back = Decompress(Compression::kGzip, *packed);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, File("plain"));
  // An empty input is a valid (empty) member; a level outside 1..9 is refused.
  Result<std::string> empty = Compress(Compression::kGzip, "", 1);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(Decompress(Compression::kGzip, *empty).value(), "");
  EXPECT_TRUE(Compress(Compression::kGzip, "abc", 0).status().IsInvalidArgument());
  EXPECT_TRUE(Compress(Compression::kGzip, "abc", 10).status().IsInvalidArgument());
}

}  // namespace
}  // namespace mh
