// Test helper: checks an HTML report (report/report.h RenderHtml) against
// its JSON twin by reading the HTML as text: the sections in order; every
// figure's element, kind, one <svg>, its drawn series and point counts, bar
// counts, threshold, alarm spans and area; every labelled number's value and
// shown text; and that nothing refers outside the file (no script, no src,
// no link other than an in-page #anchor, no http:// or https://).
// Header-only; needs GoogleTest, nlohmann-json and mh_report.
#ifndef MH_TESTING_REPORT_CHECK_H_
#define MH_TESTING_REPORT_CHECK_H_

#include <cstdlib>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "report/report.h"

namespace mh::testing {

inline std::string UnescapeHtml(std::string s) {
  const std::pair<const char*, const char*> refs[] = {
      {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&#39;", "'"}, {"&amp;", "&"}};
  for (const auto& [from, to] : refs) {
    for (std::size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + 1)) {
      s.replace(p, std::string(from).size(), to);
    }
  }
  return s;
}

// One element of an HTML text: its attributes (unescaped) and the text up to
// its closing tag (elements of one name are not nested in our reports).
struct HtmlElement {
  std::map<std::string, std::string> attrs;
  std::string inner;
};

inline std::vector<HtmlElement> FindElements(const std::string& html, const std::string& tag) {
  std::vector<HtmlElement> found;
  static const std::regex attr("([a-zA-Z][a-zA-Z0-9_-]*)=\"([^\"]*)\"");
  const std::string open = "<" + tag, close = "</" + tag + ">";
  for (std::size_t p = html.find(open); p != std::string::npos; p = html.find(open, p + 1)) {
    const char next = html[p + open.size()];
    if (next != ' ' && next != '>' && next != '/') continue;
    const std::size_t end = html.find('>', p);
    if (end == std::string::npos) break;
    HtmlElement e;
    const std::string head = html.substr(p, end - p);
    for (auto it = std::sregex_iterator(head.begin(), head.end(), attr);
         it != std::sregex_iterator(); ++it) {
      e.attrs[(*it)[1]] = UnescapeHtml((*it)[2]);
    }
    if (html[end - 1] != '/') {
      const std::size_t stop = html.find(close, end);
      if (stop != std::string::npos) e.inner = html.substr(end + 1, stop - end - 1);
    }
    found.push_back(std::move(e));
  }
  return found;
}

inline std::size_t CountOf(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t p = text.find(what); p != std::string::npos; p = text.find(what, p + 1)) ++n;
  return n;
}

inline void ExpectNoExternalReferences(const std::string& html) {
  EXPECT_EQ(CountOf(html, "http://"), 0u);
  EXPECT_EQ(CountOf(html, "https://"), 0u);
  EXPECT_EQ(CountOf(html, "<script"), 0u);
  EXPECT_EQ(CountOf(html, " src="), 0u);
  EXPECT_EQ(CountOf(html, "<link"), 0u);
  EXPECT_EQ(CountOf(html, "url("), 0u);
  EXPECT_EQ(CountOf(html, "@import"), 0u);
  for (const HtmlElement& a : FindElements(html, "a")) {
    EXPECT_EQ(a.attrs.count("href") ? a.attrs.at("href").substr(0, 1) : "#", "#");
  }
}

// The number of figures checked.
inline std::size_t ExpectHtmlMatchesJson(const std::string& html, const nlohmann::json& j) {
  ExpectNoExternalReferences(html);
  const std::vector<HtmlElement> sections = FindElements(html, "section");
  EXPECT_EQ(sections.size(), j["sections"].size());
  std::size_t figures = 0;
  for (std::size_t s = 0; s < sections.size() && s < j["sections"].size(); ++s) {
    const nlohmann::json& js = j["sections"][s];
    const HtmlElement& hs = sections[s];
    EXPECT_EQ(hs.attrs.at("id"), js["id"].get<std::string>());
    // Labelled numbers: the exact value in data-value, the shown text.
    for (const HtmlElement& tr : FindElements(hs.inner, "tr")) {
      if (!tr.attrs.count("data-key")) continue;
      const std::string key = tr.attrs.at("data-key");
      SCOPED_TRACE("stat " + key);
      EXPECT_TRUE(js["stats"].contains(key));
      const std::vector<HtmlElement> td = FindElements(tr.inner, "td");
      EXPECT_EQ(td.size(), 1u);
      if (!js["stats"].contains(key) || td.size() != 1) continue;
      const nlohmann::json& v = js["stats"][key];
      if (v.is_number()) {
        EXPECT_EQ(std::strtod(td[0].attrs.count("data-value") ? td[0].attrs.at("data-value").c_str()
                                                              : "nan",
                              nullptr),
                  v.get<double>());
        EXPECT_EQ(UnescapeHtml(td[0].inner), report::FormatShown(v.get<double>()));
      } else if (v.is_string()) {
        EXPECT_EQ(UnescapeHtml(td[0].inner), v.get<std::string>());
      }
    }
    const std::vector<HtmlElement> figs = FindElements(hs.inner, "figure");
    EXPECT_EQ(figs.size(), js["figures"].size());
    for (std::size_t f = 0; f < figs.size() && f < js["figures"].size(); ++f) {
      const nlohmann::json& jf = js["figures"][f];
      const HtmlElement& hf = figs[f];
      SCOPED_TRACE("figure " + jf["id"].get<std::string>());
      ++figures;
      EXPECT_EQ(hf.attrs.at("id"), jf["id"].get<std::string>());
      EXPECT_EQ(hf.attrs.at("data-kind"), jf["kind"].get<std::string>());
      EXPECT_EQ(CountOf(hf.inner, "<svg"), 1u);
      if (jf["threshold"].is_number()) {
        EXPECT_EQ(std::strtod(hf.attrs.at("data-threshold").c_str(), nullptr),
                  jf["threshold"].get<double>());
        const std::vector<HtmlElement> line = FindElements(hf.inner, "line");
        std::size_t thresholds = 0;
        for (const HtmlElement& l : line) {
          if (l.attrs.count("class") && l.attrs.at("class") == "threshold") {
            ++thresholds;
            EXPECT_EQ(std::strtod(l.attrs.at("data-value").c_str(), nullptr),
                      jf["threshold"].get<double>());
          }
        }
        EXPECT_EQ(thresholds, 1u);
      } else {
        EXPECT_EQ(hf.attrs.count("data-threshold"), 0u);
      }
      std::vector<HtmlElement> rects = FindElements(hf.inner, "rect");
      if (jf["kind"] == "histogram") {
        std::size_t nonzero = 0, total = 0, drawn = 0;
        for (const auto& b : jf["bins"]) {
          for (const auto& c : b["counts"]) {
            nonzero += c.get<std::size_t>() > 0;
            total += c.get<std::size_t>();
          }
        }
        std::size_t bars = 0;
        for (const HtmlElement& r : rects) {
          if (r.attrs.count("class") && r.attrs.at("class") == "bar") {
            ++bars;
            drawn += std::stoul(r.attrs.at("data-count"));
          }
        }
        EXPECT_EQ(bars, nonzero);
        EXPECT_EQ(drawn, total);
      } else {
        const std::vector<HtmlElement> paths = FindElements(hf.inner, "path");
        std::vector<const HtmlElement*> series;
        for (const HtmlElement& p : paths) {
          if (p.attrs.count("class") && p.attrs.at("class") == "series") series.push_back(&p);
        }
        EXPECT_EQ(series.size(), jf["series"].size());
        for (std::size_t k = 0; k < series.size() && k < jf["series"].size(); ++k) {
          std::size_t finite = 0;
          for (const auto& y : jf["series"][k]["y"]) finite += y.is_number();
          EXPECT_EQ(series[k]->attrs.at("data-series"), jf["series"][k]["name"]);
          EXPECT_EQ(std::stoul(series[k]->attrs.at("data-points")), finite);
          EXPECT_GT(finite, 0u);
        }
      }
      if (jf["kind"] == "line") {
        std::size_t spans = 0;
        for (const HtmlElement& r : rects) {
          spans += r.attrs.count("class") && r.attrs.at("class") == "alarm";
        }
        EXPECT_EQ(spans, jf["spans"].size());
      }
      if (jf["kind"] == "curve" && jf["auc"].is_number()) {
        EXPECT_EQ(std::strtod(hf.attrs.at("data-auc").c_str(), nullptr), jf["auc"].get<double>());
        EXPECT_NE(hf.inner.find(" " + report::FormatShown(jf["auc"].get<double>()) + ")"),
                  std::string::npos);
      }
    }
  }
  EXPECT_EQ(CountOf(html, "<svg"), figures);
  return figures;
}

}  // namespace mh::testing

#endif  // MH_TESTING_REPORT_CHECK_H_
