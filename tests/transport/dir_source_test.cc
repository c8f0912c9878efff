// The dir: source (replay/dir_source.h): files written while it runs, restart
// and commit, incomplete and temporary files, bad files as dead-letter
// reasons, event time rules, and the real recordings of ../shared/data decoded
// exactly. Payloads are decoded by the pipeline's own decoder.
#include "replay/dir_source.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/time_util.h"
#include "core/uri.h"
#include "features/window_features.h"
#include "iforest/scorer.h"
#include "iforest/train.h"
#include "parquet/parquet_writer.h"
#include "pipeline/event_decoder.h"
#include "pipeline/stream_scorer.h"
#include "sink/running_sink.h"
#include "testing/memory_io.h"
#include "testing/test_paths.h"
#include "transport/inproc_transport.h"

namespace mh::replay {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using ::testing::HasSubstr;

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

void AppendText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::app);
  out << text;
}

DirSourceOptions Fast(const std::string& dir) {
  DirSourceOptions o;
  o.path = dir;
  o.fs_hz = 1000;
  o.scan_interval = milliseconds(5);
  o.settle = milliseconds(20);
  return o;
}

std::unique_ptr<transport::Subscriber> Open(const DirSourceOptions& o) {
  auto s = NewDirSubscriber(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

// Polls until `want` messages arrived or 20 s passed (a deadline, not a
// sleep: returns as soon as they are there).
std::vector<transport::Message> PollFor(transport::Subscriber& s, std::size_t want,
                                        std::size_t max_per_poll = 100) {
  std::vector<transport::Message> got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
    auto batch = s.Poll(std::min(max_per_poll, want - got.size()), milliseconds(50));
    EXPECT_TRUE(batch.ok());
    if (!batch.ok()) break;
    for (auto& m : *batch) got.push_back(std::move(m));
  }
  return got;
}

// Everything a source hands out within `window` (for "nothing comes").
std::vector<transport::Message> PollDuring(transport::Subscriber& s, milliseconds window) {
  std::vector<transport::Message> got;
  const auto until = std::chrono::steady_clock::now() + window;
  while (std::chrono::steady_clock::now() < until) {
    auto batch = s.Poll(100, milliseconds(20));
    if (batch.ok()) {
      for (auto& m : *batch) got.push_back(std::move(m));
    }
  }
  return got;
}

const pipeline::DecodedEvent& Decoded(pipeline::EventDecoder& d, const transport::Message& m) {
  const Status s = d.Decode(m.payload, m.payload.capacity());
  EXPECT_TRUE(s.ok()) << m.origin << ": " << s.ToString();
  return d.event();
}

std::string FileName(const transport::Message& m) { return fs::path(m.origin).filename().string(); }

TEST(DirSource, PicksUpFilesWrittenWhileItRuns) {
  const std::string dir = testing::MakeTempDir("dir-source");
  auto src = Open(Fast(dir));
  ASSERT_NE(src, nullptr);
  EXPECT_TRUE(src->Poll(10, milliseconds(30))->empty());
  EXPECT_FALSE(src->AtEnd());
  WriteText(dir + "/snap_2.csv", "x,y\n1.5,2\n-3.25,4\n");
  // Written under a temporary name and renamed into place.
  WriteText(dir + "/.snap_10.csv.part", "x,y\n7,8\n");
  fs::rename(dir + "/.snap_10.csv.part", dir + "/snap_10.csv");
  const auto got = PollFor(*src, 2);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(FileName(got[0]), "snap_2.csv");  // natural order
  EXPECT_EQ(FileName(got[1]), "snap_10.csv");
  pipeline::EventDecoder d;
  const pipeline::DecodedEvent& e = Decoded(d, got[0]);
  EXPECT_EQ(e.kind, pipeline::EventKind::kWaveform);
  EXPECT_EQ(e.sensor_id, fs::path(dir).filename().string());  // the folder's name
  EXPECT_EQ(got[0].key, e.sensor_id);
  EXPECT_EQ(e.fs_hz, 1000);
  ASSERT_EQ(e.channel_names.size(), 2u);
  EXPECT_EQ(e.channel_names[0], "x");
  EXPECT_EQ(e.channels[0], (std::vector<double>{1.5, -3.25}));
  EXPECT_EQ(e.channels[1], (std::vector<double>{2, 4}));
  // mtime: the only time this file has.
  std::error_code ec;
  EXPECT_TRUE(e.has_timestamp);
  EXPECT_NEAR(static_cast<double>(e.timestamp_ns), static_cast<double>(WallNowNs()), 600e9);
  fs::remove_all(dir, ec);
}

TEST(DirSource, RestartResumesAfterTheCommittedFilesOnly) {
  const std::string dir = testing::MakeTempDir("dir-source");
  for (int i = 1; i <= 3; ++i) WriteText(dir + "/f" + std::to_string(i) + ".csv", "a\n1\n");
  {
    auto src = Open(Fast(dir));
    ASSERT_EQ(PollFor(*src, 1, 1).size(), 1u);  // f1
    ASSERT_TRUE(src->Commit().ok());
    const auto more = PollFor(*src, 1, 1);  // f2, never committed
    ASSERT_EQ(more.size(), 1u);
    EXPECT_EQ(FileName(more[0]), "f2.csv");
  }
  {
    // Written by the one commit: the machine's mark, f1.
    std::ifstream in(dir + "/.machine-health-progress");
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), "# machine-health dir progress v1\n" + fs::path(dir).filename().string() +
                              " f1.csv\n");
  }
  {
    auto src = Open(Fast(dir));
    const auto got = PollFor(*src, 2);
    ASSERT_EQ(got.size(), 2u);
    EXPECT_EQ(FileName(got[0]), "f2.csv");  // polled, not committed: again
    EXPECT_EQ(FileName(got[1]), "f3.csv");
    ASSERT_TRUE(src->Commit().ok());
  }
  {
    auto src = Open(Fast(dir));
    EXPECT_TRUE(PollDuring(*src, milliseconds(150)).empty());
    WriteText(dir + "/f4.csv", "a\n4\n");
    const auto got = PollFor(*src, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(FileName(got[0]), "f4.csv");
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(DirSource, AFileSortingBeforeFilesAlreadyReadIsSkipped) {
  const std::string dir = testing::MakeTempDir("dir-source");
  WriteText(dir + "/f1.csv", "a\n1\n");
  WriteText(dir + "/f3.csv", "a\n3\n");
  auto src = Open(Fast(dir));
  ASSERT_EQ(PollFor(*src, 2).size(), 2u);
  WriteText(dir + "/f2.csv", "a\n2\n");  // late: the mark is f3
  WriteText(dir + "/f4.csv", "a\n4\n");
  const auto got = PollFor(*src, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(FileName(got[0]), "f4.csv");
  EXPECT_TRUE(PollDuring(*src, milliseconds(100)).empty());
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(DirSource, AnIncompleteOrTemporaryFileIsNotTakenEarly) {
  const std::string dir = testing::MakeTempDir("dir-source");
  DirSourceOptions o = Fast(dir);
  o.settle = milliseconds(1500);
  o.pattern = "*";  // temporary names are refused even when the pattern matches them
  auto src = Open(o);
  WriteText(dir + "/a.csv", "v\n1\n2\n3");  // half written: no end of line yet
  WriteText(dir + "/b.csv.tmp", "v\n9\n");
  WriteText(dir + "/c.parquet.tmp-4242", "v\n9\n");
  EXPECT_TRUE(src->Poll(10, milliseconds(100))->empty());  // seen, not settled
  AppendText(dir + "/a.csv", "\n4\n5\n");
  const auto got = PollFor(*src, 1);
  ASSERT_EQ(got.size(), 1u);
  pipeline::EventDecoder d;
  EXPECT_EQ(Decoded(d, got[0]).channels[0], (std::vector<double>{1, 2, 3, 4, 5}));
  EXPECT_TRUE(PollDuring(*src, milliseconds(100)).empty());  // *.tmp is never read
  fs::rename(dir + "/b.csv.tmp", dir + "/b.csv");
  const auto renamed = PollFor(*src, 1);
  ASSERT_EQ(renamed.size(), 1u);
  EXPECT_EQ(FileName(renamed[0]), "b.csv");
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// The decoder's reason for a message.
std::string DecodeMessage(const transport::Message& m) {
  pipeline::EventDecoder d;
  return d.Decode(m.payload).message();
}

TEST(DirSource, ABadFileBecomesADeadLetterReasonNamingItAndTheSourceGoesOn) {
  const std::string dir = testing::MakeTempDir("dir-source");
  WriteText(dir + "/1.csv", "name,note\nx,y\n");  // no numeric channel
  WriteText(dir + "/2.csv", "v\n1\n2\nabc\n");    // a bad cell
  WriteText(dir + "/3.csv", "");                  // empty
  WriteText(dir + "/4.csv", "v\n7\n");
  WriteText(dir + "/5.csv", "v\n1\n2\n3\n4\n");  // more rows than an event holds here
  DirSourceOptions o = Fast(dir);
  o.once = true;
  o.max_samples_per_channel = 3;
  auto src = Open(o);
  const auto got = PollFor(*src, 5);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_TRUE(src->AtEnd());
  EXPECT_THAT(DecodeMessage(got[4]), HasSubstr(dir + "/5.csv: more than 3 samples"));
  pipeline::EventDecoder d;
  for (int i = 0; i < 3; ++i) {
    const Status s = d.Decode(got[static_cast<std::size_t>(i)].payload);
    EXPECT_TRUE(s.IsInvalidArgument()) << i;
    EXPECT_THAT(s.message(),
                HasSubstr("source error: dir: " + dir + "/" + std::to_string(i + 1) + ".csv"));
  }
  EXPECT_THAT(d.Decode(got[0].payload).message(), HasSubstr("no channel column"));
  EXPECT_THAT(d.Decode(got[1].payload).message(), HasSubstr("'abc'"));
  EXPECT_EQ(Decoded(d, got[3]).channels[0], std::vector<double>{7});
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(DirSource, ParquetSnapshotsWithATimestampColumn) {
  const std::string dir = testing::MakeTempDir("dir-source");
  auto src = Open(Fast(dir));
  std::vector<TableColumnInfo> schema = {{"timestamp", ValueKind::kTimestamp, 9},
                                         {"ax", ValueKind::kDouble},
                                         {"ay", ValueKind::kDouble}};
  TableBatch batch;
  batch.Reset(0, schema);
  batch.rows = 3;
  batch.columns[0].ints = {1764583200123456789, 1764583200123496789, 1764583200123536789};
  batch.columns[1].doubles = {0.1, 1.0 / 3, -2e-300};
  batch.columns[2].doubles = {4, 5, 6};
  for (auto& c : batch.columns) c.valid.assign(3, 1);
  {
    // The writer writes "<path>.tmp-<pid>" and renames it into place.
    auto w = parquet::ParquetWriter::Create(dir + "/s1.parquet", schema, {});
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Write(batch).ok());
    ASSERT_TRUE((*w)->Close().ok());
  }
  const auto got = PollFor(*src, 1);
  ASSERT_EQ(got.size(), 1u);
  pipeline::EventDecoder d;
  const pipeline::DecodedEvent& e = Decoded(d, got[0]);
  EXPECT_EQ(e.timestamp_ns, 1764583200123456789);
  ASSERT_EQ(e.channel_names.size(), 2u);  // the timestamp is not a channel
  EXPECT_EQ(e.channels[0], batch.columns[1].doubles);
  EXPECT_EQ(e.channels[1], batch.columns[2].doubles);
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(DirSource, MachinesFromSubfoldersAndTheMachineParameter) {
  const std::string dir = testing::MakeTempDir("dir-source");
  fs::create_directories(dir + "/pump-1");
  fs::create_directories(dir + "/fan-2/deeper");
  WriteText(dir + "/pump-1/a.csv", "v\n1\n");
  WriteText(dir + "/fan-2/a.csv", "v\n2\n");
  WriteText(dir + "/fan-2/deeper/x.csv", "v\n3\n");  // not read
  WriteText(dir + "/top.csv", "v\n4\n");
  WriteText(dir + "/notes.md", "not data");
  auto uri = ParseUri("dir:" + dir + "?fs=25600&machine=line-A&once=1&scan_ms=5");
  ASSERT_TRUE(uri.ok());
  auto o = DirSourceOptionsFromUri(*uri);
  ASSERT_TRUE(o.ok()) << o.status().ToString();
  auto src = Open(*o);
  const auto got = PollFor(*src, 3);
  ASSERT_EQ(got.size(), 3u);
  std::vector<std::string> keys;
  for (const auto& m : got) keys.push_back(m.key);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"fan-2", "line-A", "pump-1"}));
  EXPECT_TRUE(src->AtEnd());
  EXPECT_TRUE(src->Poll(10, milliseconds(10))->empty());
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(DirSource, SamplingRatePerMachineFromARegistry) {
  const std::string dir = testing::MakeTempDir("dir-source");
  fs::create_directories(dir + "/fan");
  fs::create_directories(dir + "/pump");
  WriteText(dir + "/fan/a.csv", "v\n1\n");
  WriteText(dir + "/pump/a.csv", "v\n2\n");
  DirSourceOptions o = Fast(dir);
  o.once = true;
  o.fs_hz = 0;
  o.fs_by_machine = {{"fan", 51200}};
  auto src = Open(o);
  const auto got = PollFor(*src, 2);
  ASSERT_EQ(got.size(), 2u);
  pipeline::EventDecoder d;
  for (const auto& m : got) {
    const Status s = d.Decode(m.payload);
    if (m.key == "fan") {
      ASSERT_TRUE(s.ok()) << s.ToString();
      EXPECT_EQ(d.event().fs_hz, 51200);
    } else {
      EXPECT_THAT(s.message(), HasSubstr("no sampling rate for machine 'pump'"));
    }
  }
  o.fs_by_machine = {{"fan", -1}};
  EXPECT_TRUE(NewDirSubscriber(o).status().IsInvalidArgument());
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(DirSource, OptionsFromTheAddress) {
  auto parse = [](const std::string& text) {
    auto uri = ParseUri(text);
    EXPECT_TRUE(uri.ok());
    return DirSourceOptionsFromUri(*uri);
  };
  auto no_fs = parse("dir:/data/logger");
  EXPECT_TRUE(no_fs.status().IsInvalidArgument());
  EXPECT_THAT(no_fs.status().message(), HasSubstr("add ?fs=HZ"));
  auto uri = ParseUri("dir:/data/logger");
  EXPECT_TRUE(DirSourceOptionsFromUri(*uri, /*fs_optional=*/true).ok());
  EXPECT_THAT(parse("dir:/d?fs=10&colour=red").status().message(), HasSubstr("colour"));
  EXPECT_THAT(parse("dir:/d?fs=-1").status().message(), HasSubstr("?fs=:"));
  EXPECT_THAT(parse("dir:/d?fs=10&channels=a,,b").status().message(), HasSubstr("empty channel"));
  EXPECT_THAT(parse("dir:/d?fs=10&once=maybe").status().message(), HasSubstr("?once=:"));
  auto o = parse(
      "dir:/d?fs=25600&channels=acc_horizontal_g,acc_vertical_g&pattern=acc_*.csv&state=/s/p");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->path, "/d");
  EXPECT_EQ(o->fs_hz, 25600);
  EXPECT_EQ(o->channels, (std::vector<std::string>{"acc_horizontal_g", "acc_vertical_g"}));
  EXPECT_EQ(o->pattern, "acc_*.csv");
  EXPECT_EQ(o->state_path, "/s/p");
  EXPECT_FALSE(o->once);
  DirSourceOptions bad;
  bad.path = "/nonexistent-folder-for-dir-source";
  EXPECT_THAT(NewDirSubscriber(bad).status().message(), HasSubstr("?fs=HZ"));
  bad.fs_hz = 1;
  EXPECT_TRUE(NewDirSubscriber(bad).status().IsNotFound());
}

TEST(DirSource, EventTimeFromColumnThenTimeOfDayThenNameThenMtime) {
  const std::string dir = testing::MakeTempDir("dir-source");
  fs::create_directories(dir + "/ts");
  fs::create_directories(dir + "/femto");
  fs::create_directories(dir + "/ims");
  WriteText(dir + "/ts/2003.10.22.12.06.24.csv",
            "timestamp,v\n2026-12-01T10:00:00.5Z,1\n"
            "2026-12-01T10:00:01Z,2\n");
  WriteText(dir + "/femto/acc_1.csv", "hour,minute,second,microsecond,h\n9,39,39,65664,0.5\n");
  WriteText(dir + "/ims/2003.10.22.12.06.24.csv", "b1\n0.1\n");
  DirSourceOptions o = Fast(dir);
  o.once = true;
  o.channels = {};
  auto src = Open(o);
  const auto got = PollFor(*src, 3);
  ASSERT_EQ(got.size(), 3u);
  pipeline::EventDecoder d;
  for (const auto& m : got) {
    const pipeline::DecodedEvent& e = Decoded(d, m);
    ASSERT_TRUE(e.has_timestamp);
    EXPECT_EQ(m.timestamp_ns, e.timestamp_ns);
    if (m.key == "ts") {
      EXPECT_EQ(e.timestamp_ns, *ParseInstant("2026-12-01T10:00:00.5Z"));  // column beats name
    } else if (m.key == "femto") {
      const std::int64_t day = 86'400'000'000'000;
      EXPECT_EQ(((e.timestamp_ns % day) + day) % day,
                (9 * 3600 + 39 * 60 + 39) * 1'000'000'000LL + 65'664'000);
      EXPECT_NEAR(static_cast<double>(e.timestamp_ns), static_cast<double>(WallNowNs()),
                  day / 2 + 600e9);  // the date nearest the file's mtime
      ASSERT_EQ(e.channel_names.size(), 1u);
      EXPECT_EQ(e.channel_names[0], "h");  // time columns are not channels
    } else {
      EXPECT_EQ(m.key, "ims");
      EXPECT_EQ(e.timestamp_ns, *ParseInstant("2003-10-22T12:06:24Z"));
    }
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// The source as `score --from dir:` uses it today: the streaming scorer
// windows each file's exact samples, and a bad file is a dead letter naming
// it; the good files after it are scored.
TEST(DirSource, TheStreamingScorerScoresFilesAndDeadLettersABadOne) {
  const std::string dir = testing::MakeTempDir("dir-source");
  std::vector<std::vector<double>> x(2, std::vector<double>(512));
  for (int f = 0; f < 2; ++f) {
    std::string text = "time,x\n";
    for (std::size_t i = 0; i < 512; ++i) {
      x[f][i] =
          std::sin(0.05 * static_cast<double>(i) * (f + 1)) + 0.001 * static_cast<double>(i % 5);
      char buf[64];
      std::snprintf(buf, sizeof buf, "%zu,%.17g\n", i, x[f][i]);
      text += buf;
    }
    WriteText(dir + "/s" + std::to_string(2 * f + 1) + ".csv", text);
  }
  WriteText(dir + "/s2.csv", "time,x\n0,1\n1,2\n2,\n");  // a null sample
  DirSourceOptions o = Fast(dir);
  o.once = true;
  o.fs_hz = 6400;
  auto src = Open(o);
  iforest::Matrix train;
  train.rows = 200;
  train.cols = 1;
  for (std::size_t i = 0; i < 200; ++i) train.data.push_back(0.5 + 0.001 * static_cast<double>(i));
  iforest::TrainOptions to;
  to.n_estimators = 20;
  to.threads = 1;
  auto model = iforest::Train(train, {"rms_x"}, to);
  ASSERT_TRUE(model.ok());
  auto keep = std::make_unique<testing::RecordingSink>();
  testing::RecordingSink* kept = keep.get();
  sink::RunningSink running("keep", std::move(keep));
  auto dead_pub = transport::NewInprocPublisher("dir-dead");
  auto dead_sub = transport::NewInprocSubscriber("dir-dead");
  auto scorer = pipeline::StreamScorer::Create(*model, *src, {&running}, dead_pub.get(), {});
  ASSERT_TRUE(scorer.ok()) << scorer.status().ToString();
  std::atomic<bool> stop{false};
  ASSERT_TRUE((*scorer)->Run(stop).ok());
  ASSERT_EQ(kept->records.size(), 2u);
  features::FeatureOptions fo;
  fo.sample_rate_hz = 6400;
  fo.window_samples = 512;
  fo.channels = {"x"};
  auto ex = features::WindowFeatureExtractor::Create(fo);
  ASSERT_TRUE(ex.ok());
  for (int f = 0; f < 2; ++f) {
    std::vector<double> expect((*ex)->names().size());
    const std::span<const double> ch[1] = {x[f]};
    ASSERT_TRUE((*ex)->Compute(ch, expect).ok());
    EXPECT_EQ(kept->records[static_cast<std::size_t>(f)].machine_id,
              fs::path(dir).filename().string());
    EXPECT_EQ(kept->records[static_cast<std::size_t>(f)].features, expect) << f;
  }
  auto dead = dead_sub->Poll(10, milliseconds(0)).value();
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_NE(dead[0].payload.find("\"reason\":\"source error: dir: " + dir +
                                 "/s2.csv: row 3: column 'x' is null\""),
            std::string::npos)
      << dead[0].payload;
  std::error_code ec;
  fs::remove_all(dir, ec);
}

// The CSV columns of `path` read independently (split on ',', strtod),
// with their header names.
std::vector<std::pair<std::string, std::vector<double>>> ReadCsvColumns(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::vector<std::pair<std::string, std::vector<double>>> cols;
  std::stringstream header(line);
  for (std::string name; std::getline(header, name, ',');) cols.push_back({name, {}});
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::stringstream row(line);
    std::string cell;
    for (auto& col : cols) {
      std::getline(row, cell, ',');
      col.second.push_back(std::strtod(cell.c_str(), nullptr));
    }
  }
  return cols;
}

void ExpectRealFilesExact(const std::string& folder, std::size_t files,
                          const std::vector<std::string>& channels) {
  const std::string state = testing::MakeTempDir("dir-source-state") + "/progress";
  auto uri = ParseUri("dir:" + folder + "?fs=25600&once=1&state=" + state);
  ASSERT_TRUE(uri.ok());
  auto o = DirSourceOptionsFromUri(*uri);
  ASSERT_TRUE(o.ok());
  auto src = Open(*o);
  const auto got = PollFor(*src, files);
  ASSERT_EQ(got.size(), files);
  pipeline::EventDecoder d;
  for (const auto& m : got) {
    const pipeline::DecodedEvent& e = Decoded(d, m);
    const auto cols = ReadCsvColumns(m.origin);
    ASSERT_EQ(e.channel_names.size(), channels.size()) << m.origin;
    for (std::size_t c = 0; c < channels.size(); ++c) {
      EXPECT_EQ(e.channel_names[c], channels[c]);
      bool found = false;
      for (const auto& [name, values] : cols) {
        if (name != channels[c]) continue;
        found = true;
        ASSERT_EQ(e.channels[c].size(), values.size()) << m.origin;
        for (std::size_t k = 0; k < values.size(); ++k) {
          ASSERT_EQ(e.channels[c][k], values[k]) << m.origin << " " << name << " row " << k + 1;
        }
      }
      EXPECT_TRUE(found) << channels[c];
    }
  }
  ASSERT_TRUE(src->Commit().ok());
  EXPECT_TRUE(fs::exists(state));
}

TEST(DirSource, RealFemtoSnapshotsDecodeToTheCsvColumnsExactly) {
  MH_REQUIRE_SHARED_DATA();
  const std::string folder = testing::SharedDir() + "/data/femto/Bearing1_1";
  if (!fs::is_directory(folder)) GTEST_SKIP() << folder << " is not present";
  ExpectRealFilesExact(folder, 3, {"acc_horizontal_g", "acc_vertical_g"});
}

TEST(DirSource, RealImsSnapshotsDecodeToTheCsvColumnsExactly) {
  MH_REQUIRE_SHARED_DATA();
  const std::string folder = testing::SharedDir() + "/data/ims/test1";
  if (!fs::is_directory(folder)) GTEST_SKIP() << folder << " is not present";
  ExpectRealFilesExact(folder, 2,
                       {"bearing1_x", "bearing1_y", "bearing2_x", "bearing2_y", "bearing3_x",
                        "bearing3_y", "bearing4_x", "bearing4_y"});
}

}  // namespace
}  // namespace mh::replay
