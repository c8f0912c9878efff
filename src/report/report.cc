#include "report/report.h"

#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "core/check.h"
#include "core/strings.h"
#include "report/svg_plot.h"

namespace mh::report {
namespace {

// Keys keep their order: a command's own figures first, as before.
using json = nlohmann::ordered_json;

const char* KindName(FigureKind k) {
  switch (k) {
    case FigureKind::kLine:
      return "line";
    case FigureKind::kHistogram:
      return "histogram";
    case FigureKind::kCurve:
      return "curve";
  }
  return "line";
}

// Whole numbers (counts) as JSON integers, other finite values as doubles.
json Number(double v) {
  if (!std::isfinite(v)) return nullptr;
  if (v == std::floor(v) && std::abs(v) < 9007199254740992.0) {
    return json(static_cast<std::int64_t>(v));
  }
  return json(v);
}

json Numbers(const std::vector<double>& v) {
  json a = json::array();
  for (double x : v) a.push_back(Number(x));
  return a;
}

json FigureJson(const Figure& f) {
  json j;
  j["id"] = f.id;
  j["kind"] = KindName(f.kind);
  j["title"] = f.title;
  j["x_label"] = f.x_label;
  j["y_label"] = f.y_label;
  j["x_time"] = f.x_time;
  j["threshold"] = f.threshold ? Number(*f.threshold) : nullptr;
  if (f.kind == FigureKind::kHistogram) {
    j["edges"] = Numbers(f.edges);
    j["bins"] = json::array();
    for (const HistogramSeries& h : f.bins) {
      j["bins"].push_back({{"name", h.name}, {"counts", h.counts}});
    }
  } else {
    j["points_in"] = f.points_in;
    j["series"] = json::array();
    for (const Series& s : f.series) {
      j["series"].push_back({{"name", s.name}, {"x", Numbers(s.x)}, {"y", Numbers(s.y)}});
    }
  }
  if (f.kind == FigureKind::kLine) {
    j["spans"] = json::array();
    for (const Span& s : f.spans) j["spans"].push_back({Number(s.from), Number(s.to)});
  }
  if (f.kind == FigureKind::kCurve) {
    j["auc_name"] = f.auc_name;
    j["auc"] = f.auc ? Number(*f.auc) : nullptr;
  }
  return j;
}

constexpr const char* kStyle =
    "body{font-family:sans-serif;margin:24px auto;max-width:1100px;color:#222}"
    "h1{font-size:22px}h2{font-size:18px;border-bottom:1px solid #ddd;padding-bottom:4px;"
    "margin-top:32px}p.command{font-family:monospace;color:#555}"
    "table{border-collapse:collapse;margin:8px 0}th,td{padding:2px 10px;text-align:left;"
    "border-bottom:1px solid #eee;font-size:13px}table.stats th{font-weight:normal;color:#555}"
    "figure{display:inline-block;margin:8px 16px 8px 0;vertical-align:top}"
    "figcaption{font-size:13px;font-weight:bold;margin-bottom:4px}"
    "nav li{font-size:13px}";

}  // namespace

std::string EscapeHtml(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string FormatShown(double value) {
  if (std::isnan(value)) return "\u2013";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", value);
  return buf;
}

std::string RenderJson(const Report& report, std::string_view base) {
  // A command's JSON passes bytes of its input through (a machine id that
  // is not UTF-8): those become U+FFFD so that the parser takes them.
  std::string valid;
  for (std::string_view rest = base; !rest.empty();) {
    const std::ptrdiff_t bad = FindInvalidUtf8(rest);
    if (bad < 0) {
      valid += rest;
      break;
    }
    valid += rest.substr(0, static_cast<std::size_t>(bad));
    valid += "\xEF\xBF\xBD";
    rest.remove_prefix(static_cast<std::size_t>(bad) + 1);
  }
  json j = json::parse(valid, nullptr, /*allow_exceptions=*/false);
  MH_CHECK(j.is_object());
  j["title"] = report.title;
  j["command"] = report.command;
  j["sections"] = json::array();
  for (const Section& s : report.sections) {
    json sj;
    sj["id"] = s.id;
    sj["title"] = s.title;
    sj["text"] = s.text;
    sj["stats"] = json::object();
    for (const Stat& st : s.stats) {
      if (st.number) {
        sj["stats"][st.key] = Number(*st.number);
      } else if (!st.text.empty()) {
        sj["stats"][st.key] = st.text;
      } else {
        sj["stats"][st.key] = nullptr;
      }
    }
    sj["figures"] = json::array();
    for (const Figure& f : s.figures) sj["figures"].push_back(FigureJson(f));
    sj["tables"] = json::array();
    for (const Table& t : s.tables) {
      sj["tables"].push_back(
          {{"id", t.id}, {"title", t.title}, {"columns", t.columns}, {"rows", t.rows}});
    }
    j["sections"].push_back(std::move(sj));
  }
  // Bytes that are not UTF-8 (a machine id from a file) become U+FFFD, never
  // an exception.
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

std::string RenderHtml(const Report& report) {
  std::string h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" +
                  EscapeHtml(report.title) + "</title><style>" + kStyle +
                  "</style></head>\n<body>\n<h1>" + EscapeHtml(report.title) + "</h1>\n";
  if (!report.command.empty()) {
    h += "<p class=\"command\">" + EscapeHtml(report.command) + "</p>\n";
  }
  if (report.sections.size() > 1) {
    h += "<nav><ul>";
    for (const Section& s : report.sections) {
      h += "<li><a href=\"#" + EscapeHtml(s.id) + "\">" + EscapeHtml(s.title) + "</a></li>";
    }
    h += "</ul></nav>\n";
  }
  for (const Section& s : report.sections) {
    h += "<section class=\"report-section\" id=\"" + EscapeHtml(s.id) + "\"><h2>" +
         EscapeHtml(s.title) + "</h2>\n";
    if (!s.text.empty()) h += "<p>" + EscapeHtml(s.text) + "</p>\n";
    if (!s.stats.empty()) {
      h += "<table class=\"stats\">";
      for (const Stat& st : s.stats) {
        h += "<tr data-key=\"" + EscapeHtml(st.key) + "\"><th>" + EscapeHtml(st.label) + "</th>";
        if (st.number) {
          h += "<td data-value=\"" +
               (std::isfinite(*st.number) ? FormatDouble(*st.number) : std::string("null")) +
               "\">" + EscapeHtml(FormatShown(*st.number)) + "</td>";
        } else {
          h += "<td>" + EscapeHtml(st.text.empty() ? "\u2013" : st.text) + "</td>";
        }
        h += "</tr>";
      }
      h += "</table>\n";
    }
    for (const Figure& f : s.figures) {
      h += "<figure class=\"figure\" id=\"" + EscapeHtml(f.id) + "\" data-kind=\"" +
           KindName(f.kind) + "\" data-series=\"" +
           std::to_string(f.kind == FigureKind::kHistogram ? f.bins.size() : f.series.size()) +
           "\"";
      if (f.threshold) h += " data-threshold=\"" + FormatDouble(*f.threshold) + "\"";
      if (f.auc) h += " data-auc=\"" + FormatDouble(*f.auc) + "\"";
      h += "><figcaption>" + EscapeHtml(f.title);
      if (f.auc) {
        h += " <span class=\"auc\">(" +
             EscapeHtml(f.auc_name == "roc_auc" ? "AUC" : "average precision") + " " +
             FormatShown(*f.auc) + ")</span>";
      }
      h += "</figcaption>";
      AppendSvg(f, &h);
      h += "</figure>\n";
    }
    for (const Table& t : s.tables) {
      h += "<table class=\"data\" id=\"" + EscapeHtml(t.id) + "\"><caption>" + EscapeHtml(t.title) +
           "</caption><thead><tr>";
      for (const std::string& c : t.columns) h += "<th>" + EscapeHtml(c) + "</th>";
      h += "</tr></thead><tbody>";
      for (const auto& row : t.rows) {
        h += "<tr>";
        for (const std::string& c : row) h += "<td>" + EscapeHtml(c) + "</td>";
        h += "</tr>";
      }
      h += "</tbody></table>\n";
    }
    h += "</section>\n";
  }
  h += "</body></html>\n";
  return h;
}

}  // namespace mh::report
