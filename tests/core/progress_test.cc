// core/progress.h with a fake clock and a string stream: the bar's format,
// its throttling to one redraw per interval, the rate and time-left
// arithmetic, lines mode and the mode parsing.
#include "core/progress.h"

#include <chrono>
#include <sstream>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace mh {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ::testing::HasSubstr;

// A clock that moves only when told.
struct FakeClock {
  std::chrono::steady_clock::time_point now{};
  Progress::Clock Fn() {
    return [this] { return now; };
  }
};

ProgressOptions Options(ProgressMode mode, std::int64_t total) {
  ProgressOptions o;
  o.label = "features";
  o.unit = "files";
  o.total = total;
  o.mode = mode;
  o.bar_width = 10;
  return o;
}

TEST(ProgressTest, LineShowsCountPercentRateAndTimeLeft) {
  // 1200 of 2803 files in 4 s: 300 files/s, 1603 left: 5.34 s, shown as 6 s.
  EXPECT_EQ(ProgressLine(Options(ProgressMode::kLines, 2803), 1200, seconds(4), false),
            "features: 1200/2803 files (42.8 %), 300 files/s, 6 s left");
  EXPECT_EQ(ProgressLine(Options(ProgressMode::kLines, 2803), 2803, seconds(9), true),
            "features: 2803/2803 files (100.0 %), 311 files/s, done in 9.0 s");
  // Nothing done yet: no rate, no time left.
  EXPECT_EQ(ProgressLine(Options(ProgressMode::kLines, 10), 0, seconds(1), false),
            "features: 0/10 files (0.0 %)");
  // Unknown total: count and rate only.
  EXPECT_EQ(ProgressLine(Options(ProgressMode::kLines, 0), 25, seconds(10), false),
            "features: 25 files, 2.50 files/s");
}

TEST(ProgressTest, BarShowsFilledShareAndFigures) {
  EXPECT_EQ(ProgressBar(Options(ProgressMode::kBar, 8), 2, seconds(1)),
            "features [##........]  25.0 %  2/8 files  2.00 files/s  3 s left");
  EXPECT_EQ(ProgressBar(Options(ProgressMode::kBar, 8), 8, seconds(2)),
            "features [##########]  100.0 %  8/8 files  4.00 files/s  0 s left");
}

TEST(ProgressTest, TimeLeftIsRoundedUpAndSplitIntoUnits) {
  EXPECT_EQ(FormatSecondsLeft(0), "0 s");
  EXPECT_EQ(FormatSecondsLeft(4.2), "5 s");
  EXPECT_EQ(FormatSecondsLeft(60), "1 min");
  EXPECT_EQ(FormatSecondsLeft(125), "2 min 5 s");
  EXPECT_EQ(FormatSecondsLeft(3 * 3600 + 12 * 60 + 7), "3 h 12 min");
  EXPECT_EQ(FormatSecondsLeft(-3), "0 s");
  EXPECT_EQ(FormatElapsed(0.42), "0.4 s");
  EXPECT_EQ(FormatElapsed(9.94), "9.9 s");
  EXPECT_EQ(FormatElapsed(12), "12 s");
}

TEST(ProgressTest, BarRedrawsInPlaceAtMostOncePerInterval) {
  FakeClock clock;
  std::ostringstream out;
  {
    Progress p(Options(ProgressMode::kBar, 100), out, clock.Fn());
    for (int i = 0; i < 49; ++i) {  // 49 items within 49 ms: no redraw yet
      clock.now += milliseconds(1);
      p.Advance();
    }
    EXPECT_EQ(out.str(), "");
    clock.now += milliseconds(51);  // 100 ms since the start
    p.Advance();
    EXPECT_EQ(out.str(), "\rfeatures [#####.....]  50.0 %  50/100 files  500 files/s  1 s left");
    out.str("");
    clock.now += milliseconds(99);  // not yet due
    p.Advance();
    EXPECT_EQ(out.str(), "");
    clock.now += milliseconds(1);
    p.Advance(49);  // 100 items
    EXPECT_THAT(out.str(), HasSubstr("\rfeatures [##########]  100.0 %  100/100 files"));
    out.str("");
    p.Finish();
    EXPECT_THAT(out.str(), ::testing::StartsWith("\rfeatures [##########]"));
    EXPECT_THAT(out.str(), ::testing::EndsWith("\n"));
    out.str("");
    p.Finish();  // once
  }
  EXPECT_EQ(out.str(), "");  // finished: the destructor adds nothing
}

TEST(ProgressTest, ShorterBarBlanksWhatTheLongerOneLeft) {
  FakeClock clock;
  std::ostringstream out;
  ProgressOptions o = Options(ProgressMode::kBar, 0);
  o.bar_interval = milliseconds(0);
  Progress p(o, out, clock.Fn());
  clock.now += seconds(1);
  p.Advance(1000);
  const std::string first = out.str().substr(1);
  out.str("");
  clock.now += seconds(9);
  p.Advance(1);  // "features 1001 files  100 files/s": shorter by 1
  EXPECT_EQ(out.str(), "\rfeatures 1001 files  100 files/s ");
  EXPECT_EQ(out.str().size() - 1, first.size());
}

TEST(ProgressTest, UnfinishedBarIsEndedWithANewline) {
  FakeClock clock;
  std::ostringstream out;
  {
    Progress p(Options(ProgressMode::kBar, 10), out, clock.Fn());
    clock.now += seconds(1);
    p.Advance();
  }
  EXPECT_EQ(out.str(), "\rfeatures [#.........]  10.0 %  1/10 files  1.00 files/s  9 s left\n");
}

TEST(ProgressTest, LinesEveryIntervalAndALastOne) {
  FakeClock clock;
  std::ostringstream out;
  Progress p(Options(ProgressMode::kLines, 2803), out, clock.Fn());
  for (int s = 1; s <= 12; ++s) {  // 100 files a second for 12 s
    clock.now += seconds(1);
    p.Advance(100);
  }
  p.Finish();
  EXPECT_EQ(out.str(),
            "features: 500/2803 files (17.8 %), 100 files/s, 24 s left\n"
            "features: 1000/2803 files (35.7 %), 100 files/s, 19 s left\n"
            "features: 1200/2803 files (42.8 %), 100 files/s, done in 12 s\n");
}

TEST(ProgressTest, QuickWorkCanStaySilentInLinesMode) {
  FakeClock clock;
  std::ostringstream out;
  ProgressOptions o = Options(ProgressMode::kLines, 3);
  o.last_line_if_quick = false;
  {
    Progress p(o, out, clock.Fn());
    clock.now += seconds(4);  // less than the 5 s between lines
    p.Advance(3);
    p.Finish();
  }
  EXPECT_EQ(out.str(), "");
  {
    Progress p(o, out, clock.Fn());  // slower: a line was written, so a last one too
    clock.now += seconds(5);
    p.Advance(1);
    clock.now += seconds(1);
    p.Advance(2);
    p.Finish();
  }
  EXPECT_EQ(out.str(),
            "features: 1/3 files (33.3 %), 0.20 files/s, 10 s left\n"
            "features: 3/3 files (100.0 %), 0.50 files/s, done in 6.0 s\n");
}

TEST(ProgressTest, OffWritesNothing) {
  FakeClock clock;
  std::ostringstream out;
  {
    Progress p(Options(ProgressMode::kOff, 10), out, clock.Fn());
    clock.now += seconds(10);
    p.Advance(10);
    p.Finish();
    EXPECT_EQ(p.done(), 10);
  }
  EXPECT_EQ(out.str(), "");
}

TEST(ProgressTest, ModesParseAndAutoFollowsTheTerminal) {
  EXPECT_EQ(*ParseProgressMode("auto"), ProgressMode::kAuto);
  EXPECT_EQ(*ParseProgressMode("bar"), ProgressMode::kBar);
  EXPECT_EQ(*ParseProgressMode("lines"), ProgressMode::kLines);
  EXPECT_EQ(*ParseProgressMode("off"), ProgressMode::kOff);
  auto bad = ParseProgressMode("fancy");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("'fancy'"));
  EXPECT_EQ(ResolveProgressMode(ProgressMode::kAuto, true), ProgressMode::kBar);
  EXPECT_EQ(ResolveProgressMode(ProgressMode::kAuto, false), ProgressMode::kLines);
  EXPECT_EQ(ResolveProgressMode(ProgressMode::kOff, true), ProgressMode::kOff);
}

}  // namespace
}  // namespace mh
