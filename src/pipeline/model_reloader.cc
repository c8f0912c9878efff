#include "pipeline/model_reloader.h"

#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

#include <sys/stat.h>

#include "blob/model_source.h"
#include "core/time_util.h"
#include "iforest/scorer.h"
#include "iforest/sklearn_import.h"
#include "log/log.h"
#include "net/http_get.h"

namespace mh::pipeline {
namespace {

constexpr const char* kLog = "model";

// What identifies a local file's version without reading it.
struct FileStamp {
  std::int64_t mtime_ns = -1;
  std::int64_t size = -1;
  std::uint64_t inode = 0;
  bool operator==(const FileStamp&) const = default;
};

Result<FileStamp> StampOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    const int e = errno;
    if (e == ENOENT) return Status::NotFound(path + ": no such file");
    return Status::IOError(path + ": " + std::strerror(e));
  }
  FileStamp s;
  s.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  s.size = static_cast<std::int64_t>(st.st_size);
  s.inode = static_cast<std::uint64_t>(st.st_ino);
  return s;
}

std::shared_ptr<const sink::ModelProvenance> Provenance(const std::string& sha256,
                                                        const std::string& shown) {
  auto p = std::make_shared<sink::ModelProvenance>();
  p->sha256 = sha256;
  p->version = sha256.substr(0, 12);
  p->source = shown;
  p->loaded_ns = WallNowNs();
  return p;
}

std::string Prefix(const std::string& sha256) { return sha256.substr(0, 12) + "..."; }

}  // namespace

struct ModelReloader::Impl {
  ModelReloaderOptions options;
  std::string shown;
  bool remote = false;

  // Poll thread only: what was last seen of the source.
  FileStamp stamp;
  blob::IfChanged validators;
  std::string seen_sha256;   // the bytes last considered (accepted or refused)
  ServedModel accepted;      // the last accepted model: new ones are checked against it
  std::string last_failure;  // logged once until it changes

  mutable std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;               // guarded by mu
  std::optional<ServedModel> pending;  // guarded by mu
  ModelReloaderStats stats;            // guarded by mu
  std::thread thread;

  // Reads the bytes when the source changed; nullopt when it did not (or
  // cannot be read: *failed is then set).
  std::optional<std::string> Fetch(bool* failed) {
    *failed = false;
    Status error;
    if (!remote) {
      Result<FileStamp> now = StampOf(options.source);
      if (now.ok() && *now == stamp) return std::nullopt;
      if (now.ok()) {
        Result<std::string> bytes = iforest::ReadModelFile(options.source);
        if (bytes.ok()) {
          stamp = *now;
          last_failure.clear();
          return std::move(*bytes);
        }
        error = bytes.status();
      } else {
        error = now.status();
      }
    } else {
      Result<blob::Download> d = blob::DownloadSource(options.source, options.blob, validators);
      if (d.ok()) {
        last_failure.clear();
        if (d->not_modified) return std::nullopt;
        validators.etag = d->etag;
        validators.last_modified = d->last_modified;
        return std::move(d->bytes);
      }
      error = d.status();
    }
    *failed = true;
    if (error.message() != last_failure) {
      last_failure = error.message();
      log::Warn(kLog, "polling " + shown + ": " + error.message() + "; trying again");
    }
    return std::nullopt;
  }

  // Empty when `model` may replace the accepted one, else why not.
  std::string Check(const iforest::Model& model) const {
    const iforest::Model& serving = *accepted.model;
    if (options.feature_keys > 0) {
      if (model.feature_names.size() != options.feature_keys) {
        return "it has " + std::to_string(model.feature_names.size()) + " features, --features " +
               std::to_string(options.feature_keys);
      }
    } else if (model.feature_names.size() != serving.feature_names.size()) {
      return "it has " + std::to_string(model.feature_names.size()) +
             " features, the serving model " + std::to_string(serving.feature_names.size());
    } else if (model.feature_names != serving.feature_names) {
      std::size_t i = 0;
      while (model.feature_names[i] == serving.feature_names[i]) ++i;
      return "its feature " + std::to_string(i + 1) + " is '" + model.feature_names[i] +
             "', the serving model's '" + serving.feature_names[i] + "'";
    }
    std::vector<double> probe(model.feature_names.size(), 0.0);
    if (model.has_scaler && model.scaler.mean.size() == probe.size()) probe = model.scaler.mean;
    iforest::Scorer scorer(model);
    const double score = scorer.ScoreSamples(probe);
    if (!std::isfinite(score)) return "it scores the probe row to " + std::to_string(score);
    return "";
  }

  PollResult Consider(const std::string& bytes) {
    const std::string sha = blob::Sha256Hex(bytes);
    if (sha == seen_sha256 || sha == accepted.provenance->sha256) {
      seen_sha256 = sha;
      std::lock_guard lock(mu);
      ++stats.unchanged;
      return PollResult::kUnchanged;
    }
    seen_sha256 = sha;
    std::string why;
    std::shared_ptr<const iforest::Model> model;
    if (!options.sha256.empty() && sha != options.sha256) {
      why = "sha256 " + Prefix(sha) + " does not match --model-sha256 " + Prefix(options.sha256);
    } else {
      Result<iforest::Model> loaded = iforest::LoadAnyModelBytes(bytes, shown);
      if (!loaded.ok()) {
        why = loaded.status().message();
      } else {
        model = std::make_shared<const iforest::Model>(std::move(*loaded));
        why = Check(*model);
      }
    }
    if (!why.empty()) {
      log::Error(kLog, "new model " + sha.substr(0, 12) + " from " + shown + " refused: " + why +
                           "; still serving " + accepted.provenance->version);
      std::lock_guard lock(mu);
      ++stats.reloads_refused;
      return PollResult::kRefused;
    }
    accepted = ServedModel{std::move(model), Provenance(sha, shown)};
    log::Info(kLog, "new model " + accepted.provenance->version + " from " + shown +
                        " validated (" + std::to_string(accepted.model->feature_names.size()) +
                        " features); swapped in before the next batch");
    std::lock_guard lock(mu);
    ++stats.reloads_ok;
    pending = accepted;
    return PollResult::kAccepted;
  }
};

ModelReloader::ModelReloader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {
  initial_ = impl_->accepted;
  shown_ = impl_->shown;
}

ModelReloader::~ModelReloader() { Stop(); }

Result<std::unique_ptr<ModelReloader>> ModelReloader::Create(ModelReloaderOptions options) {
  auto im = std::make_unique<Impl>();
  im->remote = blob::IsRemoteSource(options.source);
  im->shown = im->remote ? net::RedactUrl(options.source) : options.source;
  // A file's stamp before the read: a change while reading is seen next poll.
  if (!im->remote) {
    Result<FileStamp> stamp = StampOf(options.source);
    if (stamp.ok()) im->stamp = *stamp;
  }
  MH_ASSIGN_OR_RETURN(blob::Download d, blob::ReadModelSource(options.source, options.blob));
  im->shown = d.shown;
  im->validators.etag = d.etag;
  im->validators.last_modified = d.last_modified;
  const std::string& bytes = d.bytes;
  const std::string sha = blob::Sha256Hex(bytes);
  if (!options.sha256.empty() && sha != options.sha256) {
    return Status::Corruption(im->shown + ": sha256 " + Prefix(sha) +
                              " does not match --model-sha256 " + Prefix(options.sha256));
  }
  MH_ASSIGN_OR_RETURN(iforest::Model model, iforest::LoadAnyModelBytes(bytes, im->shown));
  im->seen_sha256 = sha;
  im->accepted = ServedModel{std::make_shared<const iforest::Model>(std::move(model)),
                             Provenance(sha, im->shown)};
  im->stats.serving = im->accepted.provenance;
  im->stats.serving_since_s = static_cast<double>(im->accepted.provenance->loaded_ns) * 1e-9;
  im->options = std::move(options);
  log::Info(kLog, "model " + im->accepted.provenance->version + " loaded from " + im->shown + " (" +
                      std::to_string(im->accepted.model->feature_names.size()) + " features)");
  return std::unique_ptr<ModelReloader>(new ModelReloader(std::move(im)));
}

ModelReloader::PollResult ModelReloader::PollOnce() {
  Impl& im = *impl_;
  {
    std::lock_guard lock(im.mu);
    ++im.stats.polls;
  }
  bool failed = false;
  std::optional<std::string> bytes = im.Fetch(&failed);
  if (!failed && bytes) {
    {
      std::lock_guard lock(im.mu);
      ++im.stats.downloads;
    }
    return im.Consider(*bytes);
  }
  std::lock_guard lock(im.mu);
  ++(failed ? im.stats.poll_failures : im.stats.unchanged);
  return failed ? PollResult::kFailed : PollResult::kUnchanged;
}

void ModelReloader::Start() {
  Impl& im = *impl_;
  if (im.options.poll.count() <= 0 || im.thread.joinable()) return;
  im.thread = std::thread([&im, this] {
    std::unique_lock lock(im.mu);
    while (!im.stopping) {
      if (im.cv.wait_for(lock, im.options.poll, [&] { return im.stopping; })) break;
      lock.unlock();
      (void)PollOnce();
      lock.lock();
    }
  });
}

void ModelReloader::Stop() {
  Impl& im = *impl_;
  {
    std::lock_guard lock(im.mu);
    im.stopping = true;
  }
  im.cv.notify_all();
  if (im.thread.joinable()) im.thread.join();
}

std::optional<ServedModel> ModelReloader::TakePending() {
  Impl& im = *impl_;
  std::lock_guard lock(im.mu);
  if (!im.pending) return std::nullopt;
  std::optional<ServedModel> out = std::move(im.pending);
  im.pending.reset();
  im.stats.serving = out->provenance;
  im.stats.serving_since_s = static_cast<double>(WallNowNs()) * 1e-9;
  log::Info(kLog, "now scoring with model " + out->provenance->version + " from " + im.shown);
  return out;
}

ModelReloaderStats ModelReloader::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

}  // namespace mh::pipeline
