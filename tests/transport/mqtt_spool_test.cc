// Unit tests of the MQTT subscriber's spool (transport/mqtt/mqtt_spool.h) on
// plain files: append/read/commit/reopen, torn tails, corruption reports
// naming file and offset, segment rotation and deletion, the lock, and
// adversarial garbage files (must fail clearly, never crash).
#include "transport/mqtt/mqtt_spool.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing/test_paths.h"

namespace mh::transport::mqtt {
namespace {

namespace fs = std::filesystem;

class MqttSpoolTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = mh::testing::MakeTempDir("mh-mqtt-spool") + "/spool"; }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(fs::path(dir_).parent_path(), ec);
  }

  SpoolOptions Options(std::uint64_t segment_bytes = 16 << 20) const {
    SpoolOptions o;
    o.dir = dir_;
    o.name = "scorer/1";
    o.segment_bytes = segment_bytes;
    return o;
  }
  std::unique_ptr<MqttSpool> OpenOk(std::uint64_t segment_bytes = 16 << 20) {
    auto spool = MqttSpool::Open(Options(segment_bytes));
    EXPECT_TRUE(spool.ok()) << spool.status().ToString();
    return spool.ok() ? std::move(spool).value() : nullptr;
  }
  static void AppendN(MqttSpool& spool, int first, int n) {
    for (int i = first; i < first + n; ++i) {
      ASSERT_TRUE(spool.Append("plant/m1/vib", "msg-" + std::to_string(i), 1000 + i).ok());
    }
  }
  static std::vector<std::string> ReadAll(MqttSpool& spool, std::size_t max = 1000000) {
    std::vector<std::string> out;
    auto got = spool.Read(max);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (got.ok()) {
      for (const SpoolRecord& r : *got) out.push_back(r.payload);
    }
    return out;
  }
  static std::vector<std::string> Msgs(int first, int n) {
    std::vector<std::string> out;
    for (int i = first; i < first + n; ++i) out.push_back("msg-" + std::to_string(i));
    return out;
  }
  std::vector<std::string> Segments() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      const std::string name = e.path().filename().string();
      if (name.size() > 4 && name.substr(name.size() - 4) == ".log") out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  static std::string ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  static void WriteFile(const std::string& path, const std::string& data) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << data;
  }

  std::string dir_;
};

TEST_F(MqttSpoolTest, AppendReadCommitReopen) {
  {
    auto spool = OpenOk();
    ASSERT_NE(spool, nullptr);
    EXPECT_TRUE(fs::is_directory(dir_));  // created
    EXPECT_EQ(spool->recovered(), 0u);
    AppendN(*spool, 0, 10);
    EXPECT_EQ(spool->unread(), 10u);
    auto first = spool->Read(4);
    ASSERT_TRUE(first.ok());
    ASSERT_EQ(first->size(), 4u);
    EXPECT_EQ((*first)[0].topic, "plant/m1/vib");
    EXPECT_EQ((*first)[0].payload, "msg-0");
    EXPECT_EQ((*first)[0].receive_time_ns, 1000);
    ASSERT_TRUE(spool->Commit().ok());          // msg-0..3 done
    EXPECT_EQ(ReadAll(*spool, 3), Msgs(4, 3));  // read, not committed
    EXPECT_EQ(spool->unread(), 3u);
  }
  // Reopen: everything after the commit comes again, in order, then new ones.
  auto spool = OpenOk();
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->recovered(), 6u);
  AppendN(*spool, 10, 2);
  EXPECT_EQ(ReadAll(*spool), Msgs(4, 8));
  ASSERT_TRUE(spool->Commit().ok());
  spool.reset();
  spool = OpenOk();
  EXPECT_EQ(spool->recovered(), 0u);
  EXPECT_TRUE(ReadAll(*spool).empty());
}

TEST_F(MqttSpoolTest, EmptyAndLargePayloads) {
  auto spool = OpenOk();
  const std::string big(1 << 20, 'x');  // larger than the read chunk
  ASSERT_TRUE(spool->Append("t", "", 1).ok());
  ASSERT_TRUE(spool->Append("", big, 2).ok());
  ASSERT_TRUE(spool->Append("t/2", std::string("a\0b", 3), 3).ok());
  auto got = spool->Read(10);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 3u);
  EXPECT_EQ((*got)[0].payload, "");
  EXPECT_EQ((*got)[1].payload, big);
  EXPECT_EQ((*got)[1].topic, "");
  EXPECT_EQ((*got)[2].payload, std::string("a\0b", 3));
}

TEST_F(MqttSpoolTest, TornTailIsDroppedAndTruncated) {
  {
    auto spool = OpenOk();
    AppendN(*spool, 0, 5);
  }
  const std::string seg = Segments().back();
  const std::string whole = ReadFile(seg);
  // A write cut short by a crash: the last record's last 3 bytes missing.
  WriteFile(seg, whole.substr(0, whole.size() - 3));
  auto spool = OpenOk();
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(spool->recovered(), 4u);
  AppendN(*spool, 5, 1);  // appended cleanly after the truncation
  EXPECT_EQ(ReadAll(*spool),
            (std::vector<std::string>{"msg-0", "msg-1", "msg-2", "msg-3", "msg-5"}));
  spool.reset();
  // Only a partial record header, a header whose body is missing, and an
  // all-zero tail (power loss), too.
  for (const std::string& tail :
       {std::string("\x15\x00", 2), std::string("\x40\0\0\0\xbf\xff\xff\xff\1\2", 10),
        std::string("\x40\0\0\0\xbf\xff\xff\xff\1\2\3\4\5", 13), std::string(100, '\0')}) {
    const std::string now = ReadFile(seg);
    WriteFile(seg, now + tail);
    auto again = OpenOk();
    ASSERT_NE(again, nullptr);
    EXPECT_EQ(again->recovered(), 5u);
    EXPECT_EQ(fs::file_size(seg), now.size());
  }
}

TEST_F(MqttSpoolTest, CrcMismatchIsCorruptionNamingFileAndOffset) {
  {
    auto spool = OpenOk();
    AppendN(*spool, 0, 3);
  }
  const std::string seg = Segments().back();
  std::string data = ReadFile(seg);
  // Record 1 starts at 8 (magic) + 12 (header) + 12 + 12 ("plant/m1/vib") + 5 ("msg-0").
  const std::size_t second = 8 + 12 + 12 + 12 + 5;
  data[second + 12 + 12 + 12 + 2] ^= 0x40;  // flip a payload bit of msg-1
  WriteFile(seg, data);
  auto spool = MqttSpool::Open(Options());
  ASSERT_FALSE(spool.ok());
  EXPECT_TRUE(spool.status().IsCorruption()) << spool.status().ToString();
  EXPECT_NE(spool.status().message().find(seg), std::string::npos) << spool.status().ToString();
  EXPECT_NE(spool.status().message().find("offset " + std::to_string(second)), std::string::npos)
      << spool.status().ToString();
  EXPECT_NE(spool.status().message().find("checksum"), std::string::npos);
  // Nothing was deleted or truncated.
  EXPECT_EQ(ReadFile(seg), data);
}

TEST_F(MqttSpoolTest, SegmentsRotateAndCommittedOnesAreDeleted) {
  auto spool = OpenOk(/*segment_bytes=*/1000);
  AppendN(*spool, 0, 200);  // ~37 bytes each: ~8 segments
  const std::size_t segments = spool->segment_count();
  EXPECT_GE(segments, 7u);
  EXPECT_EQ(Segments().size(), segments);
  EXPECT_EQ(ReadAll(*spool, 100), Msgs(0, 100));
  ASSERT_TRUE(spool->Commit().ok());
  EXPECT_LT(spool->segment_count(), segments);
  EXPECT_GT(spool->segment_count(), 1u);
  EXPECT_EQ(Segments().size(), spool->segment_count());
  spool.reset();
  spool = OpenOk(1000);
  EXPECT_EQ(spool->recovered(), 100u);
  EXPECT_EQ(ReadAll(*spool), Msgs(100, 100));
  ASSERT_TRUE(spool->Commit().ok());
  // All committed: only the segment being appended to is left, and disk use
  // stays bounded as traffic goes on.
  EXPECT_EQ(spool->segment_count(), 1u);
  for (int round = 0; round < 20; ++round) {
    AppendN(*spool, 1000 + round * 100, 100);
    EXPECT_EQ(ReadAll(*spool).size(), 100u);
    ASSERT_TRUE(spool->Commit().ok());
    EXPECT_LE(spool->segment_count(), 2u);
  }
  std::uintmax_t bytes = 0;
  for (const auto& e : fs::directory_iterator(dir_)) bytes += e.file_size();
  EXPECT_LT(bytes, 3000u);
}

TEST_F(MqttSpoolTest, LockHeldByAnotherInstance) {
  auto first = OpenOk();
  ASSERT_NE(first, nullptr);
  auto second = MqttSpool::Open(Options());
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().IsUnavailable()) << second.status().ToString();
  EXPECT_NE(second.status().message().find(first->path_prefix() + ".lock"), std::string::npos)
      << second.status().ToString();
  EXPECT_NE(second.status().message().find("pid "), std::string::npos);
  // Another client id in the same directory is fine.
  SpoolOptions other = Options();
  other.name = "scorer/2";
  EXPECT_TRUE(MqttSpool::Open(other).ok());
  first.reset();  // released
  EXPECT_TRUE(MqttSpool::Open(Options()).ok());
}

TEST_F(MqttSpoolTest, FileStemIsEscaped) {
  EXPECT_EQ(SpoolFileStem("mh-0123abcd_X"), "mh-0123abcd_X");
  EXPECT_EQ(SpoolFileStem("a/b"), "a%2Fb");
  EXPECT_EQ(SpoolFileStem(".."), "%2E%2E");
  EXPECT_EQ(SpoolFileStem("a b%"), "a%20b%25");
  const std::string long_a(300, 'a');
  const std::string long_b = std::string(299, 'a') + "b";
  EXPECT_LE(SpoolFileStem(long_a).size(), 160u);
  EXPECT_NE(SpoolFileStem(long_a), SpoolFileStem(long_b));
  EXPECT_LE(SpoolFileStem(std::string(200, '/')).size(), 160u);
}

TEST_F(MqttSpoolTest, SyncModeWorks) {
  SpoolOptions o = Options();
  o.sync = true;
  {
    auto spool = MqttSpool::Open(o);
    ASSERT_TRUE(spool.ok());
    AppendN(**spool, 0, 20);
    EXPECT_EQ(ReadAll(**spool, 10), Msgs(0, 10));
    ASSERT_TRUE((*spool)->Commit().ok());
  }
  auto spool = MqttSpool::Open(o);
  ASSERT_TRUE(spool.ok());
  EXPECT_EQ(ReadAll(**spool), Msgs(10, 10));
}

// Garbage where segments and the commit file should be: a clear Corruption
// (file and offset), or a recovery that drops only a tail; never a crash,
// a hang or a huge allocation.
TEST_F(MqttSpoolTest, GarbageFilesFailClearly) {
  std::string prefix;
  std::string good;
  {
    auto spool = OpenOk();
    prefix = spool->path_prefix();
    AppendN(*spool, 0, 50);
    EXPECT_EQ(ReadAll(*spool, 10).size(), 10u);
    ASSERT_TRUE(spool->Commit().ok());
  }
  const std::string seg = Segments().back();
  good = ReadFile(seg);
  const std::string commit = ReadFile(prefix + ".commit");
  ASSERT_EQ(commit.size(), 32u);

  auto expect_clear = [&](const std::string& what, const std::string& file) {
    auto spool = MqttSpool::Open(Options());
    if (spool.ok()) {
      // Accepted only if what is left reads back cleanly.
      auto all = (*spool)->Read(1000);
      EXPECT_TRUE(all.ok()) << what << ": " << all.status().ToString();
      return;
    }
    const std::string text = spool.status().ToString();
    EXPECT_TRUE(spool.status().IsCorruption()) << what << ": " << text;
    EXPECT_NE(text.find(file), std::string::npos) << what << ": " << text;
    EXPECT_NE(text.find("offset "), std::string::npos) << what << ": " << text;
  };

  // Entirely random segment: bad magic at offset 0.
  std::mt19937 rng(7);
  auto random_bytes = [&](std::size_t n) {
    std::string s(n, '\0');
    for (char& c : s) c = static_cast<char>(rng());
    return s;
  };
  WriteFile(seg, random_bytes(4096));
  {
    auto spool = MqttSpool::Open(Options());
    ASSERT_FALSE(spool.ok());
    EXPECT_TRUE(spool.status().IsCorruption());
    EXPECT_NE(spool.status().message().find(seg + ": offset 0"), std::string::npos)
        << spool.status().ToString();
  }
  // A damaged (here: huge) length field right after the committed position:
  // corruption, not mistaken for a torn write.
  {
    std::string d = good;
    const std::size_t at = static_cast<std::size_t>(commit[16] & 0xFF) |
                           (static_cast<std::size_t>(commit[17] & 0xFF) << 8);
    d[at + 0] = '\xff';
    d[at + 1] = '\xff';
    d[at + 2] = '\xff';
    d[at + 3] = '\x7f';
    WriteFile(seg, d);
    auto spool = MqttSpool::Open(Options());
    ASSERT_FALSE(spool.ok());
    EXPECT_NE(spool.status().message().find("offset " + std::to_string(at)), std::string::npos)
        << spool.status().ToString();
  }
  // Random corruption of single bytes and random tails, 300 rounds.
  for (int round = 0; round < 300; ++round) {
    std::string d = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) d[8 + rng() % (d.size() - 8)] = static_cast<char>(rng());
    if (round % 3 == 0) d += random_bytes(rng() % 64);
    if (round % 5 == 0) d.resize(8 + rng() % (d.size() - 8));
    WriteFile(seg, d);
    expect_clear("round " + std::to_string(round), seg);
  }
  WriteFile(seg, good);
  // Garbage commit files.
  for (const std::string& bad : {std::string(), std::string("MHSPCMT1"), random_bytes(32),
                                 random_bytes(33), commit.substr(0, 24) + std::string(8, 'x')}) {
    WriteFile(prefix + ".commit", bad);
    auto spool = MqttSpool::Open(Options());
    ASSERT_FALSE(spool.ok());
    EXPECT_TRUE(spool.status().IsCorruption()) << spool.status().ToString();
    EXPECT_NE(spool.status().message().find(prefix + ".commit: offset "), std::string::npos)
        << spool.status().ToString();
  }
  // A changed position in the commit file: its checksum no longer matches.
  {
    std::string c = commit;
    c[16] = static_cast<char>(c[16] + 3);
    WriteFile(prefix + ".commit", c);
    auto spool = MqttSpool::Open(Options());
    EXPECT_FALSE(spool.ok());
  }
  WriteFile(prefix + ".commit", commit);
  auto spool = OpenOk();
  ASSERT_NE(spool, nullptr);
  EXPECT_EQ(ReadAll(*spool), Msgs(10, 40));
}

}  // namespace
}  // namespace mh::transport::mqtt
