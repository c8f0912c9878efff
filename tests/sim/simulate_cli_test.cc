// `machine-health simulate` as a real process (MH_BINARY): determinism,
// option validation and the files it writes.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "testing/test_paths.h"

namespace mh {
namespace {

class SimulateCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    binary_ = testing::BinaryPath();
    if (binary_.empty()) GTEST_SKIP() << "MH_BINARY is not set";
    dir_ = testing::MakeTempDir("mh-simulate-cli");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }
  // Runs the binary with `args`; stdout to *out, stderr to *err.
  int Run(const std::string& args, std::string* out = nullptr, std::string* err = nullptr) {
    const std::string err_file = dir_ + "/stderr.txt";
    std::string stdout_text;
    const int rc =
        testing::RunCommand(binary_ + " simulate " + args + " 2>" + err_file, &stdout_text);
    if (out) *out = stdout_text;
    if (err) *err = Read(err_file);
    return rc;
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string binary_;
  std::string dir_;
};

TEST_F(SimulateCliTest, SameSeedSameBytesOtherSeedOtherBytes) {
  std::string a, b, c;
  ASSERT_EQ(Run("--duration 0.2s --machines 3 --seed 5 --fault 2:inner-race@0.1s", &a), 0);
  ASSERT_EQ(Run("--duration 0.2s --machines 3 --seed 5 --fault 2:inner-race@0.1s", &b), 0);
  ASSERT_EQ(Run("--duration 0.2s --machines 3 --seed 6 --fault 2:inner-race@0.1s", &c), 0);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  // Header plus 3 machines x 0.2 s x 25600 Hz rows.
  std::istringstream in(a);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "timestamp,machine_id,sensor_id,ax,ay,az");
  int rows = 0;
  while (std::getline(in, line)) ++rows;
  EXPECT_EQ(rows, 3 * 5120);
  EXPECT_EQ(a.find("2026-01-01T00:00:00.000000000Z,m1,m1-de,"), 40u);
}

TEST_F(SimulateCliTest, WritesDataAndDefaultLabelsFile) {
  const std::string out = dir_ + "/data.csv";
  std::string err;
  ASSERT_EQ(Run("--duration 1s --fs 1000 --machines 2 --start 2026-03-01T12:00:00Z --fault "
                "1:imbalance@0.5s/1s --out " +
                    out,
                nullptr, &err),
            0)
      << err;
  const std::string data = Read(out);
  EXPECT_EQ(data.rfind("timestamp,machine_id,sensor_id,ax,ay,az\n"
                       "2026-03-01T12:00:00.000000000Z,m1,m1-de,",
                       0),
            0u);
  EXPECT_NE(data.find("2026-03-01T12:00:00.999000000Z,m2,m2-de,"), std::string::npos);
  const std::string labels = Read(out + ".labels.csv");
  EXPECT_EQ(labels.rfind("timestamp,machine_id,fault,severity\n", 0), 0u);
  EXPECT_NE(labels.find("2026-03-01T12:00:00.900000000Z,m1,imbalance,0.4"), std::string::npos)
      << labels;
  EXPECT_NE(labels.find("2026-03-01T12:00:00.900000000Z,m2,none,0\n"), std::string::npos);
  // No temporary files are left behind.
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    files += entry.path().filename() != "stderr.txt";
  }
  EXPECT_EQ(files, 2);
}

TEST_F(SimulateCliTest, ExplicitLabelsPathWithStdout) {
  const std::string labels = dir_ + "/truth.csv";
  std::string out;
  ASSERT_EQ(Run("--duration 0.3s --fs 100 --labels " + labels, &out), 0);
  EXPECT_EQ(out.rfind("timestamp,machine_id,sensor_id,ax,ay,az\n", 0), 0u);
  EXPECT_TRUE(std::filesystem::exists(labels));
}

TEST_F(SimulateCliTest, BadOptionsExitTwoNamingTheOption) {
  struct Case {
    const char* args;
    const char* mentions;
  };
  const Case cases[] = {
      {"--machines 0", "--machines"},
      {"--machines abc", "--machines"},
      {"--fs -1", "--fs"},
      {"--fs 0", "--fs"},
      {"--fs x", "--fs"},
      {"--duration abc", "--duration"},
      {"--duration 0s", "--duration"},
      {"--seed -3", "--seed"},
      {"--start yesterday", "--start"},
      {"--fault 9:outer-race", "--fault"},
      {"--fault 1:wobble", "--fault"},
      {"--fault 1:outer-race --fault 1:imbalance", "--fault"},
      {"--labels -", "--labels"},
  };
  for (const Case& c : cases) {
    std::string out, err;
    EXPECT_EQ(Run(c.args, &out, &err), 2) << c.args;
    EXPECT_NE(err.find(c.mentions), std::string::npos) << c.args << " -> " << err;
    EXPECT_TRUE(out.empty()) << c.args;
  }
  std::string err;
  EXPECT_EQ(Run("--fault 9:outer-race", nullptr, &err), 2);
  EXPECT_NE(err.find("machine 9"), std::string::npos) << err;
  EXPECT_EQ(Run("--fault 1:wobble", nullptr, &err), 2);
  EXPECT_NE(err.find("outer-race"), std::string::npos) << err;  // lists the valid kinds
}

TEST_F(SimulateCliTest, UnwritableOutputExitsOne) {
  std::string err;
  EXPECT_EQ(Run("--duration 0.1s --out " + dir_ + "/missing/dir/data.csv", nullptr, &err), 1);
  EXPECT_NE(err.find("--out"), std::string::npos) << err;
  EXPECT_NE(err.find("missing/dir"), std::string::npos) << err;
}

}  // namespace
}  // namespace mh
