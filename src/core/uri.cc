#include "core/uri.h"

#include <algorithm>
#include <cctype>

#include "core/strings.h"

namespace mh {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) {
      return Status::InvalidArgument("bad percent escape at offset " + std::to_string(i));
    }
    const int hi = HexValue(text[i + 1]);
    const int lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) {
      return Status::InvalidArgument("bad percent escape at offset " + std::to_string(i));
    }
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

bool Uri::HasParam(std::string_view name) const {
  return std::any_of(query.begin(), query.end(), [&](const auto& kv) { return kv.first == name; });
}

std::string Uri::Param(std::string_view name, std::string_view fallback) const {
  for (auto it = query.rbegin(); it != query.rend(); ++it) {
    if (it->first == name) return it->second;
  }
  return std::string(fallback);
}

Status Uri::CheckParams(std::initializer_list<std::string_view> allowed) const {
  for (const auto& [key, value] : query) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (std::string_view a : allowed) {
        if (!list.empty()) list += ", ";
        list += a;
      }
      return Status::InvalidArgument("unknown parameter '" + key + "' in " + scheme +
                                     " address (known: " + (list.empty() ? "none" : list) + ")");
    }
  }
  return Status::OK();
}

Result<std::vector<std::pair<std::string, int>>> Uri::HostPorts(int default_port) const {
  std::vector<std::pair<std::string, int>> out;
  if (authority.empty()) return Status::InvalidArgument("address has no host: " + text);
  for (std::string_view item : Split(authority, ',')) {
    std::string_view host = item;
    int port = default_port;
    const std::size_t colon = item.rfind(':');
    if (colon != std::string_view::npos) {
      host = item.substr(0, colon);
      auto parsed = ParseInt(item.substr(colon + 1));
      if (!parsed.ok() || parsed.value() <= 0 || parsed.value() > 65535) {
        return Status::InvalidArgument("bad port in '" + std::string(item) + "'");
      }
      port = static_cast<int>(parsed.value());
    }
    if (host.empty()) return Status::InvalidArgument("empty host in '" + std::string(item) + "'");
    out.emplace_back(std::string(host), port);
  }
  return out;
}

Result<Uri> ParseUri(std::string_view text) {
  Uri uri;
  uri.text = std::string(text);
  if (text == "-") {
    uri.scheme = "-";
    return uri;
  }
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not an address (expected scheme:..., e.g. "
                                   "kafka://host:9092/topic, jsonl:out.jsonl or -)");
  }
  for (char c : text.substr(0, colon)) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return Status::InvalidArgument("bad scheme in address '" + std::string(text) + "'");
    }
    uri.scheme.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  std::string_view rest = text.substr(colon + 1);
  std::string_view query_text;
  if (const std::size_t q = rest.find('?'); q != std::string_view::npos) {
    query_text = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view path = rest;
  if (rest.substr(0, 2) == "//") {
    rest = rest.substr(2);
    const std::size_t slash = rest.find('/');
    std::string_view authority = rest.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash + 1);
    if (const std::size_t at = authority.rfind('@'); at != std::string_view::npos) {
      std::string_view userinfo = authority.substr(0, at);
      if (userinfo.find(':') != std::string_view::npos) {
        return Status::InvalidArgument(
            "a password in an address is refused (it would show in logs and process lists); "
            "give it in an environment variable or file instead");
      }
      MH_ASSIGN_OR_RETURN(uri.user, PercentDecode(userinfo));
      authority = authority.substr(at + 1);
    }
    uri.authority = std::string(authority);
  }
  MH_ASSIGN_OR_RETURN(uri.path, PercentDecode(path));
  if (!query_text.empty()) {
    for (std::string_view pair : Split(query_text, '&')) {
      if (pair.empty()) continue;
      const std::size_t eq = pair.find('=');
      std::string_view key = pair.substr(0, eq);
      std::string_view value = eq == std::string_view::npos ? "" : pair.substr(eq + 1);
      MH_ASSIGN_OR_RETURN(std::string k, PercentDecode(key));
      MH_ASSIGN_OR_RETURN(std::string v, PercentDecode(value));
      uri.query.emplace_back(std::move(k), std::move(v));
    }
  }
  return uri;
}

}  // namespace mh
