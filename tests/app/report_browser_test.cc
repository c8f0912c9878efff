// The HTML reports as Chromium shows them (issue 17): a report of one
// machine of a database (`report --db --alarm`) and a `train --report`, written in-process through
// RunMain and opened offline by tests/http/browser/report_page.js (playwright-core and the shared
// launcher chromium.js). Asserts: no request beyond the file, no console or page error, every
// figure's <svg> drawn with a non-zero size and its series drawn, and the figures and numbers shown
// equal to the JSON written beside the HTML. Screenshots go to $MH_ARTIFACT_DIR, else
// test-artifacts/report_browser/ beside the binary. Skipped without
// /usr/bin/chromium or playwright-core (tools/install-deps.sh test).
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/time_util.h"
#include "export_cli_test.h"
#include "report/report.h"
#include "report_inputs.h"
#include "sink/sqlite/alarm_store.h"
#include "testing/cli_run.h"
#include "testing/test_paths.h"

namespace mh::app {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::size_t FiniteCount(const json& v) {
  std::size_t n = 0;
  for (const json& x : v) n += x.is_number() && std::isfinite(x.get<double>()) ? 1 : 0;
  return n;
}

class ReportBrowserTest : public test::ExportCliTest {
 protected:
  void SetUp() override {
    browser_dir_ = mh::testing::SourceDir() + "/tests/http/browser";
    if (access("/usr/bin/chromium", X_OK) != 0 ||
        !fs::exists(browser_dir_ + "/node_modules/playwright-core")) {
      GTEST_SKIP() << "needs /usr/bin/chromium and playwright-core (tools/install-deps.sh test)";
    }
    test::ExportCliTest::SetUp();
    const char* env = std::getenv("MH_ARTIFACT_DIR");
    artifacts_ =
        ((env != nullptr ? fs::path(env)
                         : fs::path(mh::testing::BinaryPath()).parent_path() / "test-artifacts") /
         "report_browser")
            .string();
    fs::create_directories(artifacts_);
  }

  // Opens `html` in Chromium and checks it against `json_path`; returns the
  // number of figures checked.
  std::size_t CheckInChromium(const std::string& html, const std::string& json_path) {
    std::string out;
    EXPECT_EQ(mh::testing::RunCommand(
                  "node " + browser_dir_ + "/report_page.js " + html + " " + artifacts_, &out),
              0)
        << out;
    const json page = json::parse(out, nullptr, false);
    EXPECT_TRUE(page.is_object()) << out;
    if (!page.is_object()) return 0;
    EXPECT_EQ(page["requests"], json::array());
    EXPECT_EQ(page["console_errors"], json::array());
    EXPECT_EQ(page["errors"], json::array());
    const json j = json::parse(ReadText(json_path));
    EXPECT_EQ(page["sections"].size(), j["sections"].size());
    std::size_t figures = 0;
    for (std::size_t s = 0; s < page["sections"].size() && s < j["sections"].size(); ++s) {
      const json& ps = page["sections"][s];
      const json& js = j["sections"][s];
      EXPECT_EQ(ps["id"], js["id"]);
      // Every stat of the JSON is shown, as FormatShown shows its number.
      for (const auto& [key, v] : js["stats"].items()) {
        SCOPED_TRACE("stat " + key);
        EXPECT_TRUE(ps["stats"].contains(key));
        if (!ps["stats"].contains(key)) continue;
        const json& shown = ps["stats"][key];
        if (v.is_number()) {
          EXPECT_EQ(shown["text"], report::FormatShown(v.get<double>()));
          EXPECT_TRUE(shown["value"].is_string());
          if (shown["value"].is_string()) {
            EXPECT_EQ(std::strtod(shown["value"].get<std::string>().c_str(), nullptr),
                      v.get<double>());
          }
        } else if (v.is_string()) {
          EXPECT_EQ(shown["text"], v);
        }
      }
      EXPECT_EQ(ps["figures"].size(), js["figures"].size());
      for (std::size_t f = 0; f < ps["figures"].size() && f < js["figures"].size(); ++f) {
        const json& pf = ps["figures"][f];
        const json& jf = js["figures"][f];
        SCOPED_TRACE("figure " + jf["id"].get<std::string>());
        ++figures;
        EXPECT_EQ(pf["id"], jf["id"]);
        EXPECT_EQ(pf["kind"], jf["kind"]);
        EXPECT_GT(pf["width"].get<double>(), 100);
        EXPECT_GT(pf["height"].get<double>(), 50);
        if (jf["kind"] == "histogram") {
          // Every counted value is in a drawn bar.
          double counted = 0;
          for (const json& b : jf["bins"]) {
            for (const json& c : b["counts"]) counted += c.get<double>();
          }
          EXPECT_GT(counted, 0);
          EXPECT_EQ(pf["counted"].get<double>(), counted);
          continue;
        }
        EXPECT_EQ(pf["series"].size(), jf["series"].size());
        for (std::size_t k = 0; k < jf["series"].size() && k < pf["series"].size(); ++k) {
          const json& ser = jf["series"][k];
          EXPECT_EQ(pf["series"][k]["name"], ser["name"]);
          const std::size_t points = std::min(FiniteCount(ser["x"]), FiniteCount(ser["y"]));
          EXPECT_EQ(pf["series"][k]["points"], points);
          if (points >= 2) {
            EXPECT_TRUE(pf["series"][k]["drawn"].get<bool>());
          }
        }
      }
    }
    return figures;
  }

  std::string browser_dir_, artifacts_;
};

TEST_F(ReportBrowserTest, DbReportOfAnAlarmOffline) {
  {
    auto store = sink::AlarmStore::Open({db_});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    const sink::AlarmRecord a = test::AlarmOfM1(220);
    const std::vector<sink::AlarmEvent> events = {{sink::AlarmEventKind::kClosed, a, a.end_ns}};
    ASSERT_TRUE((*store)->Record(events).ok());
  }
  const auto o = mh::testing::RunCli({"report", "--db", db_, "--machine", "m1", "--alarm", "m1-a",
                                      "--html", dir_ + "/db.html", "--json", dir_ + "/db.json"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(CheckInChromium(dir_ + "/db.html", dir_ + "/db.json"), 3u);
}

TEST_F(ReportBrowserTest, TrainReportOffline) {
  test::WriteTrainTable(dir_ + "/f.csv");
  const auto o = mh::testing::RunCli({"train", "--input", dir_ + "/f.csv", "--out", dir_ + "/m.mhm",
                                      "--validation-fraction", "0.2", "--test-fraction", "0.2",
                                      "--split", "time", "--report", dir_ + "/train.html", "--json",
                                      dir_ + "/train.json"});
  ASSERT_EQ(o.code, 0) << o.err;
  EXPECT_EQ(CheckInChromium(dir_ + "/train.html", dir_ + "/train.json"), 3u);
}

}  // namespace
}  // namespace mh::app
