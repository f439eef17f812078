// qdet fetch NAME [-o DIR] [--from URL|PATH] [--sha256 HEX] | qdet fetch --list
// Downloads a documented public model (convert/fetch.h) with curl, checks it, and says where
// it is. Offline, it fails with the reason curl gave and leaves no partial file.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "command.h"
#include "base/json_text.h"
#include "convert/fetch.h"

namespace qdet::cli {
namespace {

struct FetchArgs {
  std::string name, dir = ".", from, sha256;
  bool list = false, json = false;
};

Status run_fetch(const FetchArgs& a) {
  if (a.list || a.name.empty()) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& e : convert::fetch_catalog()) {
      nlohmann::json files = nlohmann::json::array();
      for (const auto& f : e.files)
        files.push_back({{"name", f.name}, {"urls", f.urls}, {"sha256", f.sha256}, {"bytes", f.bytes}});
      j.push_back({{"name", e.name}, {"description", e.description}, {"source", e.source}, {"files", files}});
      if (!a.json) {
        fmt::print("{:<26} {}\n{:<26} source: {}\n", e.name, e.description, "", e.source);
        for (const auto& f : e.files)
          fmt::print("{:<26}   {} <- {}{}\n", "", f.name, f.urls.front(),
                     f.sha256.empty() ? (f.bytes ? fmt::format(" ({} bytes)", f.bytes) : " (no checksum)")
                                      : " (sha256 " + f.sha256.substr(0, 12) + "...)");
      }
    }
    if (a.json) fmt::print("{}\n", json_text(j, 2));
    if (a.name.empty() && !a.list) return invalid_argument("name a model to fetch (see the list above)");
    return ok_status();
  }
  QDET_ASSIGN_OR_RETURN(const convert::FetchEntry* e, convert::find_fetch_entry(a.name));
  convert::FetchOptions o;
  o.dir = a.dir;
  o.from = a.from;
  o.sha256 = a.sha256;
  QDET_ASSIGN_OR_RETURN(auto files, convert::fetch(*e, o));
  nlohmann::json j = nlohmann::json::array();
  for (const auto& f : files) {
    j.push_back({{"path", f.path.string()}, {"sha256", f.sha256}, {"verified", f.verified},
                 {"already_present", f.already_present}});
    if (!a.json)
      fmt::print("{} {} sha256 {}{}\n", f.already_present ? "present" : "fetched", f.path.string(), f.sha256,
                 f.verified ? " (verified)" : " (no pinned checksum: compare it with the publisher's)");
  }
  if (a.json) fmt::print("{}\n", json_text(j, 2));
  return ok_status();
}

}  // namespace

void add_fetch_command(CLI::App& app) {
  auto a = std::make_shared<FetchArgs>();
  auto* sub = app.add_subcommand("fetch", "Download a documented public model (needs internet and curl)");
  sub->add_option("name", a->name, "Model name (see --list)");
  sub->add_option("-o,--output-dir", a->dir, "Folder for the files (default: .)");
  sub->add_option("--from", a->from, "Fetch from this URL or local file instead (single-file models)");
  sub->add_option("--sha256", a->sha256, "Expected SHA-256 (single-file models)");
  sub->add_flag("--list", a->list, "List the models qdet knows");
  sub->add_flag("--json", a->json, "Print JSON");
  sub->callback([a] { exit_on_error(run_fetch(*a)); });
}

}  // namespace qdet::cli
