// report/report.h: the HTML of a report against its JSON (sections,
// figures, drawn series, numbers), escaping, and no external reference.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "report/figures.h"
#include "report/report.h"
#include "testing/report_check.h"

namespace mh::report {
namespace {

Report Sample(const std::string& name) {
  Report r;
  r.title = "report of " + name;
  r.command = "machine-health report --machine '" + name + "'";
  Section s;
  s.id = "machine-" + name;
  s.title = name;
  s.text = "text with <b>tags</b> & \"quotes\"";
  s.stats.push_back(NumberStat("windows", "windows", 1234));
  s.stats.push_back(NumberStat("share", "share", 1.0 / 3.0));
  s.stats.push_back(TextStat("first", "first alarm", name));
  s.stats.push_back(TextStat("none", "nothing", ""));
  std::vector<double> x, y;
  std::vector<bool> alarm;
  for (int i = 0; i < 5000; ++i) {
    x.push_back(i);
    y.push_back(i % 100 == 0 ? NAN : std::sin(i / 100.0) * 0.1);
    alarm.push_back(i > 4000);
  }
  s.figures.push_back(LineFigure(name + "-score", "score of " + name, "window", "score",
                                 {Series{name, x, y}}, -0.02, SpansFromFlags(x, alarm)));
  s.figures.push_back(HistogramFigure(name + "-hist", "histogram", "score",
                                      {{"train", {0.1, 0.2, 0.2}}, {"test", {-0.1, 0.3}}}, 0.0));
  auto roc = RocCurve({4, 3, 2, 1}, {true, false, true, false});
  s.figures.push_back(RocFigure(name + "-roc", "ROC", *roc));
  s.figures.push_back(PrecisionRecallFigure(
      name + "-pr", "PR", *PrecisionRecallCurve({4, 3, 2, 1}, {true, false, true, false})));
  s.tables.push_back(Table{"t", "files", {"file", "<truth>"}, {{"a&b.csv", "fault"}}});
  r.sections.push_back(s);
  Section empty;
  empty.id = "empty";
  empty.title = "empty";
  r.sections.push_back(empty);
  return r;
}

TEST(Render, HtmlMatchesJson) {
  const Report r = Sample("m1");
  const std::string html = RenderHtml(r);
  const auto j = nlohmann::json::parse(RenderJson(r));
  EXPECT_EQ(testing::ExpectHtmlMatchesJson(html, j), 4u);
  EXPECT_EQ(j["sections"][0]["stats"]["windows"], 1234);
  EXPECT_TRUE(j["sections"][0]["stats"]["none"].is_null());
  EXPECT_EQ(j["sections"][0]["figures"][0]["points_in"], 5000);
  EXPECT_LE(j["sections"][0]["figures"][0]["series"][0]["x"].size(), 2 * kPlotColumns + 2);
  EXPECT_DOUBLE_EQ(j["sections"][0]["figures"][2]["auc"].get<double>(), 0.75);
  EXPECT_NE(html.find("(AUC 0.75)"), std::string::npos);
  EXPECT_NE(html.find("<td data-value=\"0.3333333333333333\">0.333333</td>"), std::string::npos);
}

TEST(Render, EscapesEveryText) {
  const std::string name = "<m&\"1'>";
  const Report r = Sample(name);
  const std::string html = RenderHtml(r);
  EXPECT_EQ(html.find(name), std::string::npos);
  EXPECT_EQ(html.find("<b>"), std::string::npos);
  EXPECT_NE(html.find("&lt;m&amp;&quot;1&#39;&gt;"), std::string::npos);
  EXPECT_NE(html.find("a&amp;b.csv"), std::string::npos);
  EXPECT_NE(html.find("&lt;truth&gt;"), std::string::npos);
  const auto j = nlohmann::json::parse(RenderJson(r));
  EXPECT_EQ(j["sections"][0]["title"], name);
  testing::ExpectHtmlMatchesJson(html, j);
}

TEST(Render, BytesThatAreNotUtf8DoNotThrow) {
  const Report r = Sample(std::string("m\xff"));
  EXPECT_NO_THROW(nlohmann::json::parse(RenderJson(r)));
  // A command's own JSON with such bytes, as AppendJsonString passes them.
  const auto j = nlohmann::json::parse(RenderJson(r, "{\"name\":\"m\xff\xfe!\"}"));
  EXPECT_EQ(j["name"], "m\uFFFD\uFFFD!");
  EXPECT_EQ(j["sections"].size(), 2u);
}

TEST(EscapeHtml, AllFive) { EXPECT_EQ(EscapeHtml("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;"); }

}  // namespace
}  // namespace mh::report
