// Issue 14, "clear errors": `cat` reports a damaged Parquet file as Parquet
// (never as CSV), a folder as "is a directory", and every command exits 1
// for bad data or an unreadable file and 2 only for a usage error. All
// in-process through app::RunMain.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "app/command.h"
#include "core/table.h"
#include "parquet/parquet_writer.h"
#include "testing/cli_run.h"
#include "testing/test_paths.h"

namespace mh::app {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ExitCodesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = mh::testing::MakeTempDir("mh-exit-codes");
    ASSERT_FALSE(dir_.empty());
    // A small valid Parquet file (our writer) whose damaged copies follow.
    TableBatch b;
    b.columns.resize(2);
    b.columns[0].info.name = "a";
    b.columns[1].info.name = "b";
    for (TableColumn& c : b.columns) c.info.kind = ValueKind::kDouble;
    b.rows = 50;
    for (std::size_t i = 0; i < b.rows; ++i) {
      b.columns[0].doubles.push_back(0.5 * static_cast<double>(i));
      b.columns[1].doubles.push_back(-1.0 * static_cast<double>(i));
      for (TableColumn& c : b.columns) c.valid.push_back(1);
    }
    std::vector<TableColumnInfo> schema;
    for (const TableColumn& c : b.columns) schema.push_back(c.info);
    parquet_ = dir_ + "/good.parquet";
    auto w = parquet::ParquetWriter::Create(parquet_, schema, {});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Write(b).ok());
    ASSERT_TRUE((*w)->Close().ok());
    std::ifstream in(parquet_, std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    bytes_ = buf.str();
    ASSERT_GT(bytes_.size(), 100u);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& bytes) {
    const std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }
  // Runs `machine-health <args>` in-process; keeps stdout and stderr.
  int Run(const std::vector<std::string>& args) {
    const mh::testing::CliRun run = mh::testing::RunCli(args);
    out_ = run.out;
    err_ = run.err;
    return run.code;
  }

  std::string dir_, parquet_, bytes_, out_, err_;
};

TEST_F(ExitCodesTest, CatReadsTheGoodFile) {
  ASSERT_EQ(Run({"cat", parquet_, "--limit", "2"}), 0) << err_;
  EXPECT_EQ(out_, "{\"a\":0.0,\"b\":-0.0}\n{\"a\":0.5,\"b\":-1.0}\n");
}

TEST_F(ExitCodesTest, CatReportsTruncatedParquetAsParquet) {
  // "PAR1" at the start only, with and without the extension.
  for (const std::string name : {"truncated.parquet", "truncated.bin"}) {
    SCOPED_TRACE(name);
    const std::string path = Write(name, bytes_.substr(0, bytes_.size() / 2));
    EXPECT_EQ(Run({"cat", path}), 1);
    EXPECT_THAT(err_, HasSubstr(path + ": no Parquet magic at offset"));
    EXPECT_THAT(err_, HasSubstr("truncated"));
    EXPECT_EQ(out_, "");
  }
  const std::string tiny = Write("tiny.dat", "PAR1\x15\x04");
  EXPECT_EQ(Run({"cat", tiny}), 1);
  EXPECT_THAT(err_, HasSubstr("too small for a Parquet file"));
}

TEST_F(ExitCodesTest, CatReportsDamagedMagicAsParquet) {
  // Leading magic damaged: the trailing one (or the name) still says Parquet.
  std::string head = bytes_;
  head.replace(0, 4, "PAR0");
  for (const std::string name : {"head.parquet", "head.bin"}) {
    SCOPED_TRACE(name);
    const std::string path = Write(name, head);
    EXPECT_EQ(Run({"cat", path}), 1);
    EXPECT_THAT(err_, HasSubstr(path + ": no Parquet magic at offset 0"));
  }
  // Both magics damaged: only the name says Parquet.
  std::string both = head;
  both.replace(both.size() - 4, 4, "XXXX");
  const std::string path = Write("both.parquet", both);
  EXPECT_EQ(Run({"cat", path}), 1);
  EXPECT_THAT(err_, HasSubstr("no Parquet magic"));
}

TEST_F(ExitCodesTest, CatReportsBadFooterAsParquet) {
  // The footer length (the 4 bytes before the trailing magic) past the file.
  std::string length = bytes_;
  length.replace(length.size() - 8, 4, std::string("\xff\xff\xff\x7f", 4));
  const std::string a = Write("footer_length.parquet", length);
  EXPECT_EQ(Run({"cat", a}), 1);
  EXPECT_THAT(err_, HasSubstr(a + ": "));
  EXPECT_THAT(err_, HasSubstr("footer"));
  // The footer's bytes garbled (magics and length intact), no extension.
  std::string garbled = bytes_;
  const std::uint32_t footer = static_cast<std::uint8_t>(garbled[garbled.size() - 8]) |
                               static_cast<std::uint8_t>(garbled[garbled.size() - 7]) << 8;
  for (std::size_t i = garbled.size() - 8 - footer; i < garbled.size() - 8; ++i) {
    garbled[i] = '\xff';
  }
  const std::string b = Write("footer_garbled.bin", garbled);
  EXPECT_EQ(Run({"cat", b}), 1);
  EXPECT_THAT(err_, HasSubstr(b + ": "));
  EXPECT_THAT(err_, HasSubstr("footer"));
  EXPECT_EQ(Run({"cat", b, "--schema"}), 1);
  EXPECT_THAT(err_, HasSubstr("footer"));
}

TEST_F(ExitCodesTest, CatSaysIsADirectory) {
  for (const std::string name : {"folder", "folder.parquet"}) {
    SCOPED_TRACE(name);
    const std::string path = dir_ + "/" + name;
    std::filesystem::create_directories(path);
    EXPECT_EQ(Run({"cat", path}), 1);
    EXPECT_EQ(err_, "machine-health cat: " + path + ": is a directory\n");
    EXPECT_THAT(err_, Not(HasSubstr("larger than the limit")));
  }
  EXPECT_EQ(Run({"cat", dir_ + "/missing.csv"}), 1);
  EXPECT_THAT(err_, HasSubstr(dir_ + "/missing.csv: cannot open"));
  EXPECT_EQ(Run({"cat", dir_ + "/missing.parquet"}), 1);
  EXPECT_THAT(err_, HasSubstr(dir_ + "/missing.parquet: cannot open: No such file"));
}

TEST_F(ExitCodesTest, CatBadCsvIsExit1AndBadOptionsExit2) {
  const std::string csv = Write("bad.csv", "a,b\n1,\"2\n");  // unclosed quote
  EXPECT_EQ(Run({"cat", csv}), 1);
  EXPECT_THAT(err_, HasSubstr("bad.csv"));
  EXPECT_EQ(Run({"cat", parquet_, "--format", "xml"}), 2);
  EXPECT_EQ(Run({"cat", parquet_, "--columns", "nope"}), 2);
  EXPECT_THAT(err_, HasSubstr("'nope'"));
  EXPECT_EQ(Run({"cat", Write("ok.csv", "a,b\n1,2\n"), "--columns", "nope"}), 2);
  EXPECT_EQ(Run({"cat"}), 2);  // FILE is required
}

// The store's retention options are usage errors when they do not parse,
// before anything is simulated or written.
TEST_F(ExitCodesTest, RunRejectsBadRetentionOptions) {
  const std::string db = dir_ + "/never.db";
  struct Case {
    std::vector<std::string> option;
    const char* says;
  } cases[] = {{{"--max-db-size", "20XB"}, "--max-db-size: '20XB' is not a size"},
               {{"--retention", "7 days"}, "--retention: '7 days' is not a duration"},
               {{"--rollup-retention", "90d"}, "--rollup-retention: '90d' is not two durations"},
               {{"--rollup-retention", "90d,forever"}, "--rollup-retention: 'forever'"}};
  for (const Case& c : cases) {
    std::vector<std::string> args = {"run", "--db", db, "--http", "off", "--duration", "1s"};
    args.insert(args.end(), c.option.begin(), c.option.end());
    EXPECT_EQ(Run(args), 2) << c.says;
    EXPECT_THAT(err_, HasSubstr(c.says));
  }
  EXPECT_FALSE(std::filesystem::exists(db));
}

// The stream-only model options are refused in a batch run, not ignored.
TEST_F(ExitCodesTest, ScoreBatchRefusesStreamOnlyModelOptions) {
  const std::string csv = Write("rows.csv", "a,b\n1,2\n");
  for (const std::vector<std::string>& option :
       {std::vector<std::string>{"--model-poll", "1s"},
        std::vector<std::string>{"--model-sha256", std::string(64, 'a')}}) {
    std::vector<std::string> args = {"score", "--model", dir_ + "/m.joblib", "--input",
                                     csv,     "--out",   dir_ + "/s.csv"};
    args.insert(args.end(), option.begin(), option.end());
    EXPECT_EQ(Run(args), 2) << option[0];
    EXPECT_THAT(err_, HasSubstr(option[0] + " is for scoring a stream (--from)"));
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/s.csv"));
}

// Every command that reads a data file: bad data is exit 1, not 2.
// A 10 MB header quoted in a message (a missing feature column lists the
// input's columns) is cut: every command's message is bounded.
TEST_F(ExitCodesTest, MessagesAreBoundedWhateverTheyQuote) {
  const std::string wide = Write("wide.csv", std::string(10'000'000, 'x') + ",y\n1,2\n3,4\n");
  const std::string model = dir_ + "/m.mhm";
  ASSERT_EQ(Run({"train", "--input", Write("t.csv", "a,b\n1,2\n2,3\n3,5\n4,4\n"), "--trees", "5",
                 "--out", model}),
            0)
      << err_;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"score", "--model", model, "--input", wide, "--out", "-"},
        std::vector<std::string>{"train", "--input", wide, "--features", "a", "--out",
                                 dir_ + "/x.mhm"},
        std::vector<std::string>{"features", "--input", wide, "--fs", "100", "--channels", "a",
                                 "--window", "4", "--bands", "0-10", "--out", "-"}}) {
    EXPECT_NE(Run(args), kExitOk) << args[0];
    EXPECT_LT(err_.size(), 2 * kMaxMessageBytes) << args[0];
    EXPECT_THAT(err_, HasSubstr("xxx")) << args[0] << ": the message quotes the header";
  }
}

TEST_F(ExitCodesTest, BadDataIsExit1InEveryCommand) {
  const std::string damaged = Write("damaged.parquet", bytes_.substr(0, bytes_.size() - 20));
  const std::string bad_cell =
      Write("bad_cell.csv", "ax,ay,az\n1,2,3\n4,5,6\n7,abc,9\n1,2,3\n4,5,6\n7,8,9\n1,2,3\n");
  const std::string model = Write("model.joblib", std::string("\x80\x04\x95\x10", 4));
  const std::string xz = Write("model.joblib.xz", std::string("\xfd"
                                                              "7zXZ\0\0\x04",
                                                              8));
  struct Case {
    std::vector<std::string> args;
    std::string needle;
  };
  const std::vector<Case> cases = {
      {{"features", "--input", bad_cell, "--fs", "1000", "--window", "4", "--out", "-"}, "abc"},
      {{"features", "--input", damaged, "--fs", "1000", "--window", "4", "--out", "-"},
       "damaged.parquet"},
      {{"train", "--input", damaged, "--out", dir_ + "/m.mhm"}, "damaged.parquet"},
      {{"score", "--model", model, "--input", parquet_, "--out", "-"}, "model.joblib"},
      {{"score", "--model", xz, "--input", parquet_, "--out", "-"}, "xz: truncated stream"},
      {{"model", "import", xz, "--out", dir_ + "/m.mhm"}, "xz: truncated stream"},
      {{"model", "info", model}, "model.joblib"},
      {{"replay", "--input", damaged, "--to", "-", "--delay", "0"}, "damaged.parquet"},
      {{"cat", damaged}, "damaged.parquet"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.args[0] + " " + c.args[1]);
    EXPECT_EQ(Run(c.args), 1) << err_;
    EXPECT_THAT(err_, HasSubstr(c.needle));
  }
  // ...and a usage error is still 2.
  EXPECT_EQ(Run({"features", "--input", bad_cell, "--fs", "0", "--out", "-"}), 2);
  EXPECT_EQ(Run({"score", "--model", model}), 2);
  EXPECT_EQ(Run({"replay", "--input", damaged, "--to", "nowhere://x"}), 2);
}

}  // namespace
}  // namespace mh::app
