// AlarmTracker: the K-of-N / M rule on synthetic score sequences (flapping,
// an isolated spike, a sustained run, K-of-N edges, gaps), saved state and
// restore mid-alarm, and a randomized comparison with a reference
// implementation written independently below (index arithmetic over the
// whole sequence instead of a rolling history).
#include "alarm/alarm_tracker.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "alarm/alarm_state.h"
#include "core/random.h"

namespace mh::alarm {
namespace {

using ::testing::HasSubstr;

constexpr std::int64_t kHop = 1'000'000'000;  // 1 s between windows

// Scores as the score stage gives them: anomalous windows below the
// threshold 0, normal ones above it.
ScoredWindow Win(std::int64_t i, bool anomalous, double score = std::nan("")) {
  if (std::isnan(score)) score = anomalous ? -0.1 - 0.001 * static_cast<double>(i % 7) : 0.05;
  return {i * kHop, score, anomalous};
}

// Flags from a pattern: 'A' anomalous, '.' normal.
std::vector<bool> Pattern(const std::string& p) {
  std::vector<bool> v;
  for (char c : p) v.push_back(c == 'A');
  return v;
}

struct RunResult {
  std::vector<AlarmState> states;
  std::vector<std::optional<AlarmEvent>> events;  // per window
  std::vector<AlarmEvent> Opened() const { return Of(AlarmEventKind::kOpened); }
  std::vector<AlarmEvent> Closed() const { return Of(AlarmEventKind::kClosed); }
  std::vector<AlarmEvent> Of(AlarmEventKind kind) const {
    std::vector<AlarmEvent> out;
    for (const auto& e : events) {
      if (e && e->kind == kind) out.push_back(*e);
    }
    return out;
  }
};

RunResult Feed(AlarmTracker& t, const std::vector<ScoredWindow>& windows) {
  RunResult r;
  for (const ScoredWindow& w : windows) {
    auto u = t.Observe(w);
    EXPECT_TRUE(u.ok()) << u.status().ToString();
    if (!u.ok()) break;
    r.states.push_back(u->state);
    r.events.push_back(u->event);
  }
  return r;
}

std::vector<ScoredWindow> Windows(const std::vector<bool>& flags) {
  std::vector<ScoredWindow> w;
  for (std::size_t i = 0; i < flags.size(); ++i)
    w.push_back(Win(static_cast<std::int64_t>(i), flags[i]));
  return w;
}

AlarmTracker MakeTracker(const AlarmRule& rule = {}, const std::string& machine = "m1") {
  auto t = AlarmTracker::Create(machine, rule);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return std::move(t).value();
}

TEST(AlarmRule, DefaultsAreThreeOfFiveAndFiveToClear) {
  const AlarmRule rule;
  EXPECT_EQ(rule.k, 3);
  EXPECT_EQ(rule.n, 5);
  EXPECT_EQ(rule.m, 5);
  EXPECT_EQ(rule.max_gap_ns, 0);
  EXPECT_TRUE(ValidateAlarmRule(rule).ok());
  EXPECT_EQ(MaxGapForHop(rule, kHop), 5 * kHop);
}

TEST(AlarmRule, ValidationNamesTheField) {
  const auto message = [](AlarmRule r) {
    Status s = ValidateAlarmRule(r);
    EXPECT_TRUE(s.IsInvalidArgument()) << s.ToString();
    return s.message();
  };
  EXPECT_THAT(message({.k = 0}), HasSubstr("k (0) must be >= 1"));
  EXPECT_THAT(message({.k = 6, .n = 5}), HasSubstr("k (6) must be <= n (5)"));
  EXPECT_THAT(message({.k = 1, .n = 0}), HasSubstr("n (0) must be in 1..1000"));
  EXPECT_THAT(message({.k = 1, .n = 1001}), HasSubstr("n (1001)"));
  EXPECT_THAT(message({.m = 0}), HasSubstr("m (0) must be in 1..1000"));
  EXPECT_THAT(message({.m = 1001}), HasSubstr("m (1001)"));
  EXPECT_THAT(message({.max_gap_ns = -1}), HasSubstr("max_gap_ns (-1)"));
  EXPECT_TRUE(ValidateAlarmRule({.k = 1000, .n = 1000, .m = 1000}).ok());
  EXPECT_TRUE(AlarmTracker::Create("m", {.k = 4, .n = 3}).status().IsInvalidArgument());
}

TEST(AlarmTracker, IsolatedSpikeRaisesNoAlarm) {
  // One >20 g snapshot in healthy operation: a single anomalous window, and
  // two of them further apart than the rule's span.
  AlarmTracker t = MakeTracker();
  std::vector<bool> flags(200, false);
  flags[50] = true;
  flags[120] = true;
  flags[124] = true;  // 2 of 5 at most
  const RunResult r = Feed(t, Windows(flags));
  EXPECT_TRUE(r.Opened().empty());
  for (AlarmState s : r.states) EXPECT_EQ(s, AlarmState::kNormal);
}

TEST(AlarmTracker, SustainedRunOpensOnceAndClosesAfterExactlyMNormals) {
  AlarmTracker t = MakeTracker();
  std::vector<ScoredWindow> w;
  for (int i = 0; i < 20; ++i) w.push_back(Win(i, false));
  for (int i = 20; i < 50; ++i) w.push_back(Win(i, true, -0.2 - 0.01 * (i == 33 ? 10 : 0)));
  for (int i = 50; i < 70; ++i) w.push_back(Win(i, false));
  const RunResult r = Feed(t, w);
  ASSERT_EQ(r.Opened().size(), 1u);
  ASSERT_EQ(r.Closed().size(), 1u);
  // Opens on the third anomalous window, dated from the first.
  ASSERT_TRUE(r.events[22].has_value());
  const AlarmEvent& open = *r.events[22];
  EXPECT_EQ(open.kind, AlarmEventKind::kOpened);
  EXPECT_EQ(open.start_ns, 20 * kHop);
  EXPECT_EQ(open.opened_ns, 22 * kHop);
  EXPECT_EQ(open.alarm_id, "m1@" + std::to_string(20 * kHop));
  EXPECT_EQ(open.windows, 3);
  EXPECT_EQ(open.anomalous_windows, 3);
  EXPECT_EQ(r.states[21], AlarmState::kNormal);
  EXPECT_EQ(r.states[22], AlarmState::kAlarm);
  // Still in alarm after 4 normal windows, closed by the 5th.
  EXPECT_EQ(r.states[53], AlarmState::kAlarm);
  EXPECT_EQ(r.states[54], AlarmState::kNormal);
  ASSERT_TRUE(r.events[54].has_value());
  const AlarmEvent& close = *r.events[54];
  EXPECT_EQ(close.kind, AlarmEventKind::kClosed);
  EXPECT_EQ(close.alarm_id, open.alarm_id);
  EXPECT_EQ(close.end_ns, 54 * kHop);
  EXPECT_EQ(close.last_anomalous_ns, 49 * kHop);
  EXPECT_EQ(close.windows, 35);  // windows 20..54
  EXPECT_EQ(close.anomalous_windows, 30);
  EXPECT_DOUBLE_EQ(close.peak_score, -0.3);
  EXPECT_EQ(close.peak_window_ns, 33 * kHop);
  for (int i = 55; i < 70; ++i) EXPECT_FALSE(r.events[i].has_value()) << i;
}

TEST(AlarmTracker, FlappingAroundTheThresholdGivesOneAlarm) {
  // A score oscillating around the threshold: every other window anomalous,
  // then runs of 1-4 normal windows between anomalous ones (never M).
  AlarmTracker t = MakeTracker();
  std::string p;
  for (int i = 0; i < 60; ++i) p += "A.";
  for (int i = 0; i < 30; ++i) p += std::string(1 + i % 4, '.') + "A";
  p += ".....";
  const RunResult r = Feed(t, Windows(Pattern(p)));
  ASSERT_EQ(r.Opened().size(), 1u);
  ASSERT_EQ(r.Closed().size(), 1u);
  EXPECT_TRUE(r.events[4].has_value());  // A.A.A: the third A of five
  EXPECT_EQ(r.states.back(), AlarmState::kNormal);
  EXPECT_EQ(r.Closed()[0].end_ns, static_cast<std::int64_t>(p.size() - 1) * kHop);
}

TEST(AlarmTracker, NoisyScoresNearTheThresholdGiveFewAlarmsNotMany) {
  // Each window anomalous with probability 0.5 (a score right at the
  // threshold): the rule holds the alarm instead of toggling per window.
  AlarmTracker t = MakeTracker();
  Xoshiro256StarStar rng(7);
  std::vector<bool> flags;
  int toggles = 0;
  for (int i = 0; i < 2000; ++i) {
    flags.push_back(rng.Uniform() < 0.5);
    if (i > 0 && flags[i] != flags[i - 1]) ++toggles;
  }
  const RunResult r = Feed(t, Windows(flags));
  // Five normal in a row has probability 1/32 per window: a few alarms,
  // each long, while the flags toggle about 1000 times.
  EXPECT_GT(toggles, 800);
  EXPECT_GE(r.Opened().size(), 1u);
  EXPECT_LT(r.Opened().size(), 100u);
}

TEST(AlarmTracker, KOfNEdges) {
  const auto opened_at = [](const AlarmRule& rule, const std::string& p) {
    AlarmTracker t = MakeTracker(rule);
    const RunResult r = Feed(t, Windows(Pattern(p)));
    std::vector<int> at;
    for (std::size_t i = 0; i < r.events.size(); ++i) {
      if (r.events[i] && r.events[i]->kind == AlarmEventKind::kOpened) at.push_back(int(i));
    }
    return at;
  };
  const AlarmRule rule;  // 3 of 5
  // Three anomalous spanning exactly five windows open on the third.
  EXPECT_EQ(opened_at(rule, "A...AA"), std::vector<int>{});  // 0,4,5: 2 in any 5
  EXPECT_EQ(opened_at(rule, "A..AA"), std::vector<int>{4});
  EXPECT_EQ(opened_at(rule, "AA...A"), std::vector<int>{});
  EXPECT_EQ(opened_at(rule, "AA..A"), std::vector<int>{4});
  // K-1 of every N, forever: never.
  std::string two_of_five;
  for (int i = 0; i < 40; ++i) two_of_five += "AA...";
  EXPECT_EQ(opened_at(rule, two_of_five), std::vector<int>{});
  // k = n = 1 opens on every anomalous window, m = 1 closes on the next normal.
  EXPECT_EQ(opened_at({.k = 1, .n = 1, .m = 1}, ".A.A..AA."), (std::vector<int>{1, 3, 6}));
  // k = n needs n consecutive.
  EXPECT_EQ(opened_at({.k = 4, .n = 4, .m = 2}, "AAA.AAA.AAAA"), std::vector<int>{11});
  // The history does not carry over a close: with m < n, evidence from
  // before the alarm cannot reopen it right after the close.
  EXPECT_EQ(opened_at({.k = 2, .n = 5, .m = 1}, "AA.A...."), (std::vector<int>{1}));
  EXPECT_EQ(opened_at({.k = 2, .n = 5, .m = 1}, "AA.A.A.."), (std::vector<int>{1, 5}));
}

TEST(AlarmTracker, ClosingNeedsMConsecutiveNormals) {
  AlarmTracker t = MakeTracker();
  const RunResult r = Feed(t, Windows(Pattern("AAA....A....A.....")));
  ASSERT_EQ(r.Closed().size(), 1u);
  for (int i = 2; i < 17; ++i) EXPECT_EQ(r.states[i], AlarmState::kAlarm) << i;
  EXPECT_EQ(r.states[17], AlarmState::kNormal);
  EXPECT_EQ(r.Closed()[0].windows, 18);
  EXPECT_EQ(r.Closed()[0].anomalous_windows, 5);
  EXPECT_EQ(r.Closed()[0].last_anomalous_ns, 12 * kHop);
}

TEST(AlarmTracker, GapClearsTheHistoryButDoesNotCloseAnAlarm) {
  const AlarmRule rule{.max_gap_ns = 5 * kHop};
  {
    // Two anomalous, 10 s of silence, one anomalous: no alarm with gap
    // handling (the evidence is not recent), an alarm without it.
    const std::vector<ScoredWindow> w = {Win(0, true), Win(1, true), Win(11, true), Win(12, false)};
    AlarmTracker with_gap = MakeTracker(rule);
    auto u0 = with_gap.Observe(w[0]);
    auto u1 = with_gap.Observe(w[1]);
    auto u2 = with_gap.Observe(w[2]);
    ASSERT_TRUE(u0.ok() && u1.ok() && u2.ok());
    EXPECT_FALSE(u1->gap);
    EXPECT_TRUE(u2->gap);
    EXPECT_EQ(u2->state, AlarmState::kNormal);
    EXPECT_EQ(with_gap.recent_anomalous(), 1);
    AlarmTracker without = MakeTracker();
    EXPECT_EQ(Feed(without, w).Opened().size(), 1u);
  }
  {
    // A gap of exactly max_gap_ns is not a gap.
    AlarmTracker t = MakeTracker(rule);
    ASSERT_TRUE(t.Observe(Win(0, true)).ok());
    auto u = t.Observe(Win(5, true));
    ASSERT_TRUE(u.ok());
    EXPECT_FALSE(u->gap);
    EXPECT_EQ(t.recent_anomalous(), 2);
  }
  {
    // In alarm: 4 normal, a silence of an hour, then 4 normal: still in
    // alarm (the silence is no evidence of health, and normals before it do
    // not count); the 5th normal after the silence closes it.
    AlarmTracker t = MakeTracker(rule);
    std::vector<ScoredWindow> w = Windows(Pattern("AAA...."));
    for (int i = 0; i < 5; ++i) w.push_back(Win(3600 + i, false));
    const RunResult r = Feed(t, w);
    ASSERT_EQ(r.Opened().size(), 1u);
    for (int i = 2; i < 11; ++i) EXPECT_EQ(r.states[i], AlarmState::kAlarm) << i;
    EXPECT_EQ(r.states[11], AlarmState::kNormal);
    ASSERT_EQ(r.Closed().size(), 1u);
    EXPECT_EQ(r.Closed()[0].end_ns, 3604 * kHop);
    EXPECT_EQ(r.Closed()[0].windows, 12);
  }
}

TEST(AlarmTracker, RejectsBadWindowsAndKeepsItsState) {
  AlarmTracker t = MakeTracker();
  ASSERT_TRUE(t.Observe(Win(0, true)).ok());
  ASSERT_TRUE(t.Observe(Win(1, true)).ok());
  const std::string before = EncodeTrackerState(t.Save());
  auto dup = t.Observe(Win(1, true));
  ASSERT_FALSE(dup.ok());
  EXPECT_TRUE(dup.status().IsInvalidArgument());
  EXPECT_THAT(dup.status().message(), HasSubstr("does not start after the last one"));
  EXPECT_THAT(dup.status().message(), HasSubstr("'m1'"));
  EXPECT_FALSE(t.Observe(Win(0, true)).ok());
  auto nan = t.Observe({2 * kHop, std::nan(""), true});
  ASSERT_FALSE(nan.ok());
  EXPECT_THAT(nan.status().message(), HasSubstr("score is not finite"));
  EXPECT_FALSE(t.Observe({2 * kHop, std::numeric_limits<double>::infinity(), false}).ok());
  EXPECT_EQ(EncodeTrackerState(t.Save()), before);
  auto u = t.Observe(Win(2, true));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->state, AlarmState::kAlarm);
}

TEST(AlarmTracker, ReplayGivesTheSameAlarmIds) {
  const std::vector<ScoredWindow> w = Windows(Pattern("..AAA......A.AA........AAAA....."));
  AlarmTracker a = MakeTracker({}, "pump-7");
  AlarmTracker b = MakeTracker({}, "pump-7");
  const RunResult ra = Feed(a, w);
  const RunResult rb = Feed(b, w);
  ASSERT_EQ(ra.Opened().size(), 3u);  // AAA, A.AA, AAAA
  ASSERT_EQ(rb.Opened().size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(ra.Opened()[i].alarm_id, rb.Opened()[i].alarm_id);
  }
  EXPECT_EQ(ra.Opened()[0].alarm_id, "pump-7@" + std::to_string(2 * kHop));
  EXPECT_EQ(ra.Opened()[1].alarm_id, "pump-7@" + std::to_string(11 * kHop));
  EXPECT_NE(ra.Opened()[1].alarm_id, ra.Opened()[2].alarm_id);
  EXPECT_EQ(AlarmId("m", -5), "m@-5");
}

TEST(AlarmState, EncodeDecodeRoundTrip) {
  AlarmTrackerState s;
  EXPECT_EQ(EncodeTrackerState(s), "mhalarm1;L=-;H=;A=-");
  s.last_window_ns = 42;
  s.history = {{40, -0.1 / 3, true}, {41, 0.25, false}, {42, -1e-300, true}};
  const std::string text = EncodeTrackerState(s);
  EXPECT_EQ(text.find(' '), std::string::npos);
  auto back = DecodeTrackerState(text);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->last_window_ns, s.last_window_ns);
  ASSERT_EQ(back->history.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(back->history[i].window_start_ns, s.history[i].window_start_ns);
    EXPECT_EQ(back->history[i].score, s.history[i].score);  // bit-exact
    EXPECT_EQ(back->history[i].anomalous, s.history[i].anomalous);
  }
  EXPECT_FALSE(back->alarm.has_value());
  s.history.clear();
  s.alarm = OpenAlarm{.start_ns = -3,
                      .opened_ns = 10,
                      .peak_score = -0.123456789012345,
                      .peak_window_ns = 7,
                      .windows = 14,
                      .anomalous_windows = 9,
                      .last_anomalous_ns = 40,
                      .normal_run = 2};
  back = DecodeTrackerState(EncodeTrackerState(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_TRUE(back->alarm.has_value());
  EXPECT_EQ(back->alarm->start_ns, -3);
  EXPECT_EQ(back->alarm->opened_ns, 10);
  EXPECT_EQ(back->alarm->peak_score, -0.123456789012345);
  EXPECT_EQ(back->alarm->peak_window_ns, 7);
  EXPECT_EQ(back->alarm->windows, 14);
  EXPECT_EQ(back->alarm->anomalous_windows, 9);
  EXPECT_EQ(back->alarm->last_anomalous_ns, 40);
  EXPECT_EQ(back->alarm->normal_run, 2);
}

TEST(AlarmState, DecodeRejectsDamagedText) {
  for (const char* bad :
       {"", "mhalarm2;L=-;H=;A=-", "mhalarm1;L=-;H=", "mhalarm1;L=x;H=;A=-", "mhalarm1;X=-;H=;A=-",
        "mhalarm1;L=1;H=1:0.5;A=-", "mhalarm1;L=1;H=1:nan:1;A=-", "mhalarm1;L=1;H=1:0.5:2;A=-",
        "mhalarm1;L=1;H=;A=1:2:3", "mhalarm1;L=1;H=;A=1:2:inf:4:5:6:7:8", "mhalarm1;L=-;H=;A=-;",
        "mhalarm1;L=1;H=1:0.5:1,;A=-"}) {
    auto s = DecodeTrackerState(bad);
    EXPECT_FALSE(s.ok()) << bad;
    if (!s.ok()) {
      EXPECT_TRUE(s.status().IsCorruption()) << bad;
      EXPECT_THAT(s.status().message(), HasSubstr("alarm state")) << bad;
    }
  }
}

TEST(AlarmTracker, RestoreRejectsInconsistentState) {
  const AlarmRule rule;
  AlarmTrackerState s;
  s.history = {{1, 0.1, false}};  // history without a last window
  EXPECT_TRUE(AlarmTracker::Restore("m", rule, s).status().IsCorruption());
  s.last_window_ns = 5;
  EXPECT_TRUE(AlarmTracker::Restore("m", rule, s).ok());
  s.history = {{2, 0.1, false}, {2, 0.1, false}};  // out of order
  EXPECT_TRUE(AlarmTracker::Restore("m", rule, s).status().IsCorruption());
  s.history = {{9, 0.1, false}};  // after the last window
  EXPECT_TRUE(AlarmTracker::Restore("m", rule, s).status().IsCorruption());
  s.history.clear();
  s.alarm = OpenAlarm{.start_ns = 1, .opened_ns = 3, .windows = 3, .anomalous_windows = 4};
  EXPECT_TRUE(AlarmTracker::Restore("m", rule, s).status().IsCorruption());
  s.alarm->anomalous_windows = 3;
  EXPECT_TRUE(AlarmTracker::Restore("m", rule, s).ok());
  s.alarm->opened_ns = 6;  // after the last window
  EXPECT_TRUE(AlarmTracker::Restore("m", rule, s).status().IsCorruption());
  EXPECT_TRUE(AlarmTracker::Restore("m", {.k = 0}, {}).status().IsInvalidArgument());
}

TEST(AlarmTracker, RestoredTrackerContinuesIdentically) {
  // Stop after every window of a sequence with two alarms, save (struct and
  // text), restore, and continue: the same states and events as one run.
  const std::vector<ScoredWindow> w = Windows(Pattern("..A.AA.A...A......AAAAA.A...A.....A.A"));
  const AlarmRule rule{.max_gap_ns = 3 * kHop};
  AlarmTracker whole = MakeTracker(rule);
  const RunResult expected = Feed(whole, w);
  ASSERT_EQ(expected.Opened().size(), 2u);
  for (std::size_t cut = 0; cut <= w.size(); ++cut) {
    AlarmTracker first = MakeTracker(rule);
    const RunResult head = Feed(first, {w.begin(), w.begin() + static_cast<std::ptrdiff_t>(cut)});
    auto decoded = DecodeTrackerState(EncodeTrackerState(first.Save()));
    ASSERT_TRUE(decoded.ok());
    auto restored = AlarmTracker::Restore("m1", rule, *decoded);
    ASSERT_TRUE(restored.ok()) << restored.status().ToString();
    EXPECT_EQ(restored->state(), first.state());
    EXPECT_EQ(restored->open_alarm_id(), first.open_alarm_id());
    const RunResult tail = Feed(*restored, {w.begin() + static_cast<std::ptrdiff_t>(cut), w.end()});
    for (std::size_t i = cut; i < w.size(); ++i) {
      EXPECT_EQ(tail.states[i - cut], expected.states[i]) << "cut " << cut << " window " << i;
      const auto& got = tail.events[i - cut];
      const auto& want = expected.events[i];
      ASSERT_EQ(got.has_value(), want.has_value()) << "cut " << cut << " window " << i;
      if (!got) continue;
      EXPECT_EQ(got->kind, want->kind);
      EXPECT_EQ(got->alarm_id, want->alarm_id);
      EXPECT_EQ(got->windows, want->windows);
      EXPECT_EQ(got->anomalous_windows, want->anomalous_windows);
      EXPECT_EQ(got->peak_score, want->peak_score);
      EXPECT_EQ(got->end_ns, want->end_ns);
    }
  }
}

TEST(AlarmTracker, RestoreWithASmallerNKeepsTheNewestWindows) {
  AlarmTracker t = MakeTracker({.k = 4, .n = 10});
  ASSERT_EQ(Feed(t, Windows(Pattern("AA......A"))).Opened().size(), 0u);
  auto r = AlarmTracker::Restore("m1", {.k = 2, .n = 3}, t.Save());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->Save().history.size(), 3u);
  EXPECT_EQ(r->recent_anomalous(), 1);
  auto u = r->Observe(Win(9, true));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->state, AlarmState::kAlarm);
  ASSERT_TRUE(u->event.has_value());
  EXPECT_EQ(u->event->start_ns, 8 * kHop);
}

// ---- Reference implementation: whole-sequence index arithmetic ----

struct RefEvent {
  std::size_t at = 0;  // window index
  AlarmEventKind kind = AlarmEventKind::kOpened;
  std::size_t onset = 0;
  std::size_t windows = 0;
  std::size_t anomalous = 0;
  double peak = 0;
  std::size_t peak_at = 0;
};

struct RefRun {
  std::vector<AlarmState> states;
  std::vector<RefEvent> events;
};

RefRun Reference(const std::vector<ScoredWindow>& w, const AlarmRule& rule) {
  RefRun out;
  const std::size_t n = static_cast<std::size_t>(rule.n);
  const std::size_t m = static_cast<std::size_t>(rule.m);
  std::size_t segment = 0;    // first index the K-of-N count may look at
  std::size_t after_gap = 0;  // first index after the latest gap
  bool open = false;
  std::size_t onset = 0;
  std::size_t opened = 0;
  const auto summary = [&](std::size_t i, AlarmEventKind kind) {
    RefEvent e{i, kind, onset, i - onset + 1, 0, w[onset].score, onset};
    for (std::size_t j = onset; j <= i; ++j) {
      e.anomalous += w[j].anomalous ? 1 : 0;
      if (w[j].score < e.peak) {
        e.peak = w[j].score;
        e.peak_at = j;
      }
    }
    return e;
  };
  for (std::size_t i = 0; i < w.size(); ++i) {
    if (i > 0 && rule.max_gap_ns > 0 &&
        w[i].window_start_ns - w[i - 1].window_start_ns > rule.max_gap_ns) {
      after_gap = i;
      if (!open) segment = i;
    }
    if (!open) {
      const std::size_t lo = std::max(segment, i + 1 >= n ? i + 1 - n : 0);
      std::size_t count = 0;
      for (std::size_t j = lo; j <= i; ++j) count += w[j].anomalous ? 1 : 0;
      if (count >= static_cast<std::size_t>(rule.k)) {
        open = true;
        onset = lo;
        while (!w[onset].anomalous) ++onset;
        opened = i;
        out.events.push_back(summary(i, AlarmEventKind::kOpened));
      }
    } else {
      std::size_t run = 0;
      for (std::size_t j = i; j > opened && j >= after_gap && !w[j].anomalous; --j) ++run;
      if (run >= m) {
        out.events.push_back(summary(i, AlarmEventKind::kClosed));
        open = false;
        segment = i + 1;
      }
    }
    out.states.push_back(open ? AlarmState::kAlarm : AlarmState::kNormal);
  }
  return out;
}

TEST(AlarmTracker, MatchesReferenceOnRandomSequences) {
  Xoshiro256StarStar rng(2026);
  const auto below = [&](std::uint64_t bound) { return rng.Next() % bound; };
  int total_alarms = 0;
  int total_gaps = 0;
  for (int trial = 0; trial < 300; ++trial) {
    AlarmRule rule;
    rule.n = 1 + static_cast<int>(below(12));
    rule.k = 1 + static_cast<int>(below(static_cast<std::uint64_t>(rule.n)));
    rule.m = 1 + static_cast<int>(below(10));
    rule.max_gap_ns = below(3) == 0 ? 0 : static_cast<std::int64_t>(2 + below(6)) * kHop;
    // Regimes of different anomaly probability, occasional silences.
    std::vector<ScoredWindow> w;
    std::int64_t t = static_cast<std::int64_t>(below(1000)) * kHop - 500 * kHop;
    double p = 0.1;
    for (int i = 0; i < 400; ++i) {
      if (below(40) == 0) p = rng.Uniform();
      t += below(25) == 0 ? static_cast<std::int64_t>(1 + below(12)) * kHop : kHop;
      const bool anomalous = rng.Uniform() < p;
      const double score = anomalous ? -rng.Uniform() : rng.Uniform();
      w.push_back({t, score, anomalous});
    }
    const RefRun ref = Reference(w, rule);
    AlarmTracker tracker = MakeTracker(rule, "r");
    std::size_t next_event = 0;
    for (std::size_t i = 0; i < w.size(); ++i) {
      // Save and restore through text at random points.
      if (below(17) == 0) {
        auto s = DecodeTrackerState(EncodeTrackerState(tracker.Save()));
        ASSERT_TRUE(s.ok());
        auto restored = AlarmTracker::Restore("r", rule, *s);
        ASSERT_TRUE(restored.ok()) << restored.status().ToString();
        tracker = std::move(restored).value();
      }
      auto u = tracker.Observe(w[i]);
      ASSERT_TRUE(u.ok()) << u.status().ToString();
      total_gaps += u->gap ? 1 : 0;
      ASSERT_EQ(u->state, ref.states[i]) << "trial " << trial << " window " << i;
      const bool ref_event = next_event < ref.events.size() && ref.events[next_event].at == i;
      ASSERT_EQ(u->event.has_value(), ref_event) << "trial " << trial << " window " << i;
      if (!ref_event) continue;
      const RefEvent& e = ref.events[next_event++];
      EXPECT_EQ(u->event->kind, e.kind);
      EXPECT_EQ(u->event->start_ns, w[e.onset].window_start_ns);
      EXPECT_EQ(u->event->alarm_id, AlarmId("r", w[e.onset].window_start_ns));
      EXPECT_EQ(u->event->windows, static_cast<std::int64_t>(e.windows));
      EXPECT_EQ(u->event->anomalous_windows, static_cast<std::int64_t>(e.anomalous));
      EXPECT_EQ(u->event->peak_score, e.peak);
      EXPECT_EQ(u->event->peak_window_ns, w[e.peak_at].window_start_ns);
      if (e.kind == AlarmEventKind::kOpened) {
        ++total_alarms;
        EXPECT_EQ(u->event->opened_ns, w[i].window_start_ns);
      } else {
        EXPECT_EQ(u->event->end_ns, w[i].window_start_ns);
      }
    }
    EXPECT_EQ(next_event, ref.events.size());
  }
  // The sequences exercise the rule: many alarms and gaps.
  EXPECT_GT(total_alarms, 1000);
  EXPECT_GT(total_gaps, 100);
}

}  // namespace
}  // namespace mh::alarm
