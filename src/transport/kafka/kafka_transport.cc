#include "transport/kafka/kafka_transport.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <librdkafka/rdkafka.h>

#include "identity/token_provider.h"
#include "log/log.h"
#include "transport/kafka/kafka_config.h"

namespace mh::transport::kafka {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Publish keeps waiting this long past message.timeout.ms for the last
// delivery reports (librdkafka reports every message by then).
constexpr milliseconds kDeliveryGrace{10000};
// Longest wait for the group coordinator's answer to a commit.
constexpr milliseconds kCommitTimeout{10000};
// Identical warnings from librdkafka's error events are logged once per this.
constexpr auto kRepeatedLogInterval = std::chrono::seconds(30);

// Whole milliseconds until `deadline`, rounded up: librdkafka's waits take
// milliseconds, and a wait of 0 for the last fraction of one would have the
// callers' loops spin through it.
int RemainingMs(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 1 << 30));
}

// Replaces every occurrence of a secret in `text` by "***".
std::string Scrub(std::string text, const std::vector<std::string>& secrets) {
  for (const std::string& secret : secrets) {
    if (secret.empty()) continue;
    for (std::size_t pos = text.find(secret); pos != std::string::npos;
         pos = text.find(secret, pos + 3)) {
      text.replace(pos, secret.size(), "***");
    }
  }
  return text;
}

// State shared with librdkafka's callbacks (the handle's opaque). The log
// callback runs on librdkafka's threads and only reads the immutable fields;
// everything else is touched on the application thread (inside poll calls).
struct ClientContext {
  // Immutable after construction.
  std::string component;  // "kafka" or "eventhubs"
  std::string topic;
  std::vector<std::string> secrets;

  // Application thread only.
  bool all_brokers_down = false;
  // The last error librdkafka reported that is not plain connection trouble
  // (authentication, TLS, ...), scrubbed; cleared when a publish succeeds.
  // Appended to Unavailable statuses, whose own text ("timed out") would
  // not say why.
  std::string last_error;
  std::string last_logged;
  Clock::time_point last_logged_at;
  // Publisher: delivery reports of the current batch (id in msg opaque).
  std::uintptr_t batch_id = 0;
  std::size_t reports = 0;
  std::size_t failures = 0;
  rd_kafka_resp_err_t first_failure = RD_KAFKA_RESP_ERR_NO_ERROR;
  // Managed identity (oauth_resource set): where tokens come from.
  std::shared_ptr<identity::TokenProvider> tokens;
  std::string oauth_resource;
  // Subscriber: the rebalance handler.
  std::function<void(rd_kafka_t*, rd_kafka_resp_err_t, rd_kafka_topic_partition_list_t*)>
      on_rebalance;

  // Logs `message`, skipping an identical line logged shortly before.
  void LogOnce(log::Level level, const std::string& message) {
    const auto now = Clock::now();
    if (message == last_logged && now - last_logged_at < kRepeatedLogInterval) return;
    last_logged = message;
    last_logged_at = now;
    log::Write(level, component, Scrub(message, secrets));
  }
};

void LogCallback(const rd_kafka_t* rk, int level, const char* facility, const char* buf) {
  const auto* ctx = static_cast<const ClientContext*>(rd_kafka_opaque(rk));
  if (ctx == nullptr) return;
  // syslog levels: 0-3 error and worse, 4 warning, 5 notice, 6 info, 7 debug.
  // librdkafka's "errors" are mostly transient connection trouble that the
  // transport reports through its Status; keep them at warn.
  const log::Level mh_level = level <= 4   ? log::Level::kWarn
                              : level == 5 ? log::Level::kInfo
                                           : log::Level::kDebug;
  if (mh_level < log::GetLevel()) return;
  log::Write(mh_level, ctx->component,
             Scrub(std::string("librdkafka ") + facility + ": " + buf, ctx->secrets));
}

void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  auto* ctx = static_cast<ClientContext*>(opaque);
  const auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
    ctx->all_brokers_down = true;
    ctx->LogOnce(log::Level::kWarn, "topic '" + ctx->topic + "': all brokers are down: " + reason);
    return;
  }
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    rd_kafka_fatal_error(rk, buf, sizeof buf);
    ctx->LogOnce(log::Level::kError, "topic '" + ctx->topic + "': fatal client error: " + buf);
    return;
  }
  // Connection trouble is already in librdkafka's own log lines.
  const bool transient = code == RD_KAFKA_RESP_ERR__TRANSPORT ||
                         code == RD_KAFKA_RESP_ERR__RESOLVE || code == RD_KAFKA_RESP_ERR__TIMED_OUT;
  const std::string what = std::string(rd_kafka_err2str(code)) + ": " + reason;
  if (!transient) ctx->last_error = Scrub(what, ctx->secrets);
  ctx->LogOnce(transient ? log::Level::kDebug : log::Level::kWarn,
               "topic '" + ctx->topic + "': " + what);
}

// librdkafka's SASL OAUTHBEARER token refresh callback (from poll calls):
// a managed-identity token for the context's resource, or a failure whose
// reason (no token in it) librdkafka reports as an authentication error.
void TokenRefreshCallback(rd_kafka_t* rk, const char* /*oauthbearer_config*/, void* opaque) {
  auto* ctx = static_cast<ClientContext*>(opaque);
  Result<identity::AccessToken> token = ctx->tokens->GetToken(ctx->oauth_resource);
  if (!token.ok()) {
    const std::string why = Scrub(token.status().message(), ctx->secrets);
    ctx->last_error = "managed identity: " + why;
    ctx->LogOnce(log::Level::kWarn, "managed identity token: " + why);
    rd_kafka_oauthbearer_set_token_failure(rk, why.c_str());
    return;
  }
  char errstr[512];
  const rd_kafka_resp_err_t err =
      rd_kafka_oauthbearer_set_token(rk, token->token.c_str(), token->expires_on * 1000,
                                     "machine-health", nullptr, 0, errstr, sizeof errstr);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    std::vector<std::string> secrets = ctx->secrets;
    secrets.push_back(token->token);
    const std::string why = Scrub(errstr, secrets);
    ctx->last_error = "managed identity: " + why;
    rd_kafka_oauthbearer_set_token_failure(rk, why.c_str());
  }
}

// " (last client error: ...)" when librdkafka reported one, else "".
std::string LastErrorSuffix(const ClientContext& ctx) {
  return ctx.last_error.empty() ? "" : " (last client error: " + ctx.last_error + ")";
}

void DeliveryCallback(rd_kafka_t* /*rk*/, const rd_kafka_message_t* msg, void* opaque) {
  auto* ctx = static_cast<ClientContext*>(opaque);
  // Reports of an abandoned batch (Publish gave up waiting) are ignored.
  if (reinterpret_cast<std::uintptr_t>(msg->_private) != ctx->batch_id) return;
  ++ctx->reports;
  if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (ctx->failures++ == 0) ctx->first_failure = msg->err;
  }
}

void RebalanceCallback(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t* partitions, void* opaque) {
  auto* ctx = static_cast<ClientContext*>(opaque);
  if (ctx->on_rebalance) ctx->on_rebalance(rk, err, partitions);
}

bool TooLarge(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
         err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE;
}

// Creates the librdkafka handle for `config`, with our callbacks and `ctx`
// as opaque. The caller owns the handle.
Result<rd_kafka_t*> NewHandle(const KafkaClientConfig& config, rd_kafka_type_t type,
                              ClientContext* ctx) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  for (const auto& [name, value] : config.properties) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      // The error text may quote the value: scrub it.
      return Status::InvalidArgument(config.flavor + ": librdkafka refused property " + name +
                                     ": " + Scrub(errstr, config.secrets));
    }
  }
  rd_kafka_conf_set_opaque(conf, ctx);
  rd_kafka_conf_set_log_cb(conf, LogCallback);
  rd_kafka_conf_set_error_cb(conf, ErrorCallback);
  if (!config.oauth_resource.empty()) {
    ctx->oauth_resource = config.oauth_resource;
    ctx->tokens = config.tokens ? config.tokens : identity::DefaultTokenProvider();
    rd_kafka_conf_set_oauthbearer_token_refresh_cb(conf, TokenRefreshCallback);
  }
  if (type == RD_KAFKA_PRODUCER) {
    rd_kafka_conf_set_dr_msg_cb(conf, DeliveryCallback);
  } else {
    rd_kafka_conf_set_rebalance_cb(conf, RebalanceCallback);
  }
  rd_kafka_t* rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Status::InvalidArgument(config.flavor +
                                   ": cannot create client: " + Scrub(errstr, config.secrets));
  }
  return rk;
}

std::string PartitionList(const std::set<std::int32_t>& partitions) {
  std::string out = "[";
  for (std::int32_t p : partitions) {
    if (out.size() > 1) out += ",";
    out += std::to_string(p);
  }
  return out + "]";
}

// ---------------------------------------------------------------------------

class KafkaPublisher final : public Publisher {
 public:
  explicit KafkaPublisher(KafkaClientConfig config) : config_(std::move(config)) {
    ctx_.component = config_.flavor;
    ctx_.topic = config_.topic;
    ctx_.secrets = config_.secrets;
  }
  ~KafkaPublisher() override { (void)Close(); }
  KafkaPublisher(const KafkaPublisher&) = delete;
  KafkaPublisher& operator=(const KafkaPublisher&) = delete;

  Status Open() {
    MH_ASSIGN_OR_RETURN(rk_, NewHandle(config_, RD_KAFKA_PRODUCER, &ctx_));
    rkt_ = rd_kafka_topic_new(rk_, config_.topic.c_str(), nullptr);
    if (rkt_ == nullptr) {
      const auto err = rd_kafka_last_error();
      DestroyHandle();
      return Status::InvalidArgument(Prefix() + rd_kafka_err2str(err));
    }
    return Status::OK();
  }

  Status Publish(std::span<const OutgoingMessage> batch) override {
    if (closed_) return Status::Internal(Prefix() + "publish after close");
    if (batch.empty()) return Status::OK();
    if (rk_ == nullptr) {
      // The previous handle hit a fatal error: start afresh.
      MH_RETURN_IF_ERROR(Open());
      log::Info(ctx_.component, "topic '" + config_.topic + "': producer re-created");
    }
    ++ctx_.batch_id;
    ctx_.reports = 0;
    ctx_.failures = 0;
    ctx_.first_failure = RD_KAFKA_RESP_ERR_NO_ERROR;
    const auto deadline = Clock::now() + config_.delivery_timeout + kDeliveryGrace;

    std::size_t enqueued = 0;
    Status enqueue_error;
    for (const OutgoingMessage& m : batch) {
      rd_kafka_vu_t vus[5];
      std::size_t n = 0;
      vus[n].vtype = RD_KAFKA_VTYPE_RKT;
      vus[n++].u.rkt = rkt_;
      vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
      vus[n].u.mem.ptr = const_cast<char*>(m.payload.data());
      vus[n++].u.mem.size = m.payload.size();
      if (!m.key.empty()) {
        vus[n].vtype = RD_KAFKA_VTYPE_KEY;
        vus[n].u.mem.ptr = const_cast<char*>(m.key.data());
        vus[n++].u.mem.size = m.key.size();
      }
      vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
      vus[n++].u.i = RD_KAFKA_MSG_F_COPY;
      vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
      vus[n++].u.ptr = reinterpret_cast<void*>(ctx_.batch_id);
      while (true) {
        rd_kafka_error_t* error = rd_kafka_produceva(rk_, vus, n);
        if (error == nullptr) {
          ++enqueued;
          break;
        }
        const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
        const std::string text = rd_kafka_error_string(error);
        rd_kafka_error_destroy(error);
        if (code == RD_KAFKA_RESP_ERR__QUEUE_FULL && Clock::now() < deadline) {
          rd_kafka_poll(rk_, 10);  // serve delivery reports to make room
          continue;
        }
        if (TooLarge(code)) {
          enqueue_error =
              Status::InvalidArgument(Prefix() + "message " + std::to_string(enqueued) +
                                      " of the batch (" + std::to_string(m.payload.size()) +
                                      " bytes) is larger than the broker accepts: " + text);
        } else {
          enqueue_error = Status::Unavailable(Prefix() + text + LastErrorSuffix(ctx_));
        }
        break;
      }
      if (!enqueue_error.ok()) break;
    }

    // Wait for the delivery report of every message handed to librdkafka.
    while (ctx_.reports < enqueued) {
      const int left = RemainingMs(deadline);
      if (left == 0) {
        return Status::Unavailable(
            Prefix() + std::to_string(enqueued - ctx_.reports) + " of " +
            std::to_string(batch.size()) + " messages unacknowledged after " +
            std::to_string(config_.delivery_timeout.count()) + " ms" + LastErrorSuffix(ctx_));
      }
      rd_kafka_poll(rk_, std::min(left, 100));
    }

    char fatal[512];
    if (rd_kafka_fatal_error(rk_, fatal, sizeof fatal) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      log::Error(ctx_.component, "topic '" + config_.topic +
                                     "': producer failed fatally, re-creating it: " + fatal);
      DestroyHandle();
      return Status::Unavailable(Prefix() + "fatal producer error: " + fatal);
    }
    if (!enqueue_error.ok()) return enqueue_error;
    if (ctx_.failures > 0) {
      const std::string what = std::to_string(ctx_.failures) + " of " +
                               std::to_string(batch.size()) +
                               " messages not delivered: " + rd_kafka_err2str(ctx_.first_failure);
      if (TooLarge(ctx_.first_failure)) return Status::InvalidArgument(Prefix() + what);
      return Status::Unavailable(Prefix() + what + LastErrorSuffix(ctx_));
    }
    ctx_.last_error.clear();
    return Status::OK();
  }

  Status Close() override {
    if (closed_) return Status::OK();
    closed_ = true;
    if (rk_ == nullptr) return Status::OK();
    rd_kafka_flush(rk_, static_cast<int>(config_.delivery_timeout.count()));
    const int left = rd_kafka_outq_len(rk_);
    DestroyHandle();
    if (left > 0) {
      return Status::Unavailable(Prefix() + std::to_string(left) +
                                 " messages or requests not flushed at close");
    }
    return Status::OK();
  }

 private:
  std::string Prefix() const {
    return config_.flavor + ": publish to topic '" + config_.topic + "': ";
  }

  void DestroyHandle() {
    if (rkt_ != nullptr) rd_kafka_topic_destroy(rkt_);
    rkt_ = nullptr;
    if (rk_ != nullptr) {
      rd_kafka_purge(rk_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
      ++ctx_.batch_id;  // whatever is reported from now on is ignored
      rd_kafka_poll(rk_, 0);
      rd_kafka_destroy(rk_);
    }
    rk_ = nullptr;
  }

  KafkaClientConfig config_;
  ClientContext ctx_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_topic_t* rkt_ = nullptr;
  bool closed_ = false;
};

// ---------------------------------------------------------------------------

class KafkaSubscriber final : public Subscriber {
 public:
  explicit KafkaSubscriber(KafkaClientConfig config) : config_(std::move(config)) {
    ctx_.component = config_.flavor;
    ctx_.topic = config_.topic;
    ctx_.secrets = config_.secrets;
    ctx_.on_rebalance = [this](rd_kafka_t* rk, rd_kafka_resp_err_t err,
                               rd_kafka_topic_partition_list_t* partitions) {
      OnRebalance(rk, err, partitions);
    };
  }
  ~KafkaSubscriber() override { (void)Close(); }
  KafkaSubscriber(const KafkaSubscriber&) = delete;
  KafkaSubscriber& operator=(const KafkaSubscriber&) = delete;

  Status Open() {
    MH_ASSIGN_OR_RETURN(rk_, NewHandle(config_, RD_KAFKA_CONSUMER, &ctx_));
    // Error events and rebalances are served by rd_kafka_consumer_poll.
    rd_kafka_poll_set_consumer(rk_);
    rd_kafka_topic_partition_list_t* topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, config_.topic.c_str(), RD_KAFKA_PARTITION_UA);
    const rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_destroy(rk_);
      rk_ = nullptr;
      return Status::InvalidArgument(Prefix() + "subscribe: " + rd_kafka_err2str(err));
    }
    return Status::OK();
  }

  Result<std::vector<Message>> Poll(std::size_t max_messages, milliseconds timeout) override {
    if (closed_) return Status::Internal(Prefix() + "poll after close");
    std::vector<Message> out;
    const auto deadline = Clock::now() + timeout;
    if (max_messages == 0) {
      // Still serve rebalances and errors; a message that comes with them
      // is kept for the next Poll.
      if (stash_ == nullptr) stash_ = rd_kafka_consumer_poll(rk_, 0);
      UpdateLag();
      return out;
    }
    Status fatal;
    while (out.size() < max_messages) {
      // First wait up to the timeout, then take only what is already there.
      const int wait_ms = out.empty() ? RemainingMs(deadline) : 0;
      rd_kafka_message_t* msg = stash_ != nullptr ? stash_ : rd_kafka_consumer_poll(rk_, wait_ms);
      stash_ = nullptr;
      if (msg == nullptr) {
        if (out.empty() && RemainingMs(deadline) > 0) continue;
        break;
      }
      if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fatal = HandleConsumerError(msg);
        rd_kafka_message_destroy(msg);
        if (!fatal.ok()) break;
        continue;
      }
      if (out.empty()) out.reserve(std::min<std::size_t>(max_messages, 4096));
      out.push_back(ToMessage(msg));
      pending_[msg->partition] = msg->offset;
      next_offset_[msg->partition] = msg->offset + 1;
      ctx_.all_brokers_down = false;
      rd_kafka_message_destroy(msg);
    }
    UpdateLag();
    if (!out.empty()) return out;
    if (!fatal.ok()) return fatal;
    if (ctx_.all_brokers_down) {
      // librdkafka said every broker was down; Unavailable only if that is
      // still so (a metadata request is the cheapest probe).
      const auto probe = std::clamp(timeout, milliseconds(100), milliseconds(2000));
      const rd_kafka_metadata_t* md = nullptr;
      const rd_kafka_resp_err_t err =
          rd_kafka_metadata(rk_, 0, nullptr, &md, static_cast<int>(probe.count()));
      if (md != nullptr) rd_kafka_metadata_destroy(md);
      if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Status::Unavailable(Prefix() + "no broker of " + config_.brokers +
                                   " reachable: " + rd_kafka_err2str(err) + LastErrorSuffix(ctx_));
      }
      ctx_.all_brokers_down = false;
      ctx_.last_error.clear();
      log::Info(ctx_.component, "topic '" + config_.topic + "': brokers reachable again");
    }
    return out;
  }

  Status Commit() override {
    if (closed_) return Status::Internal(Prefix() + "commit after close");
    if (pending_.empty()) return Status::OK();
    rd_kafka_topic_partition_list_t* offsets =
        rd_kafka_topic_partition_list_new(static_cast<int>(pending_.size()));
    for (const auto& [partition, offset] : pending_) {
      // Revoked partitions were dropped from pending_ by the rebalance.
      if (assigned_.count(partition) == 0) continue;
      rd_kafka_topic_partition_list_add(offsets, config_.topic.c_str(), partition)->offset =
          offset + 1;
    }
    if (offsets->cnt == 0) {
      rd_kafka_topic_partition_list_destroy(offsets);
      pending_.clear();
      return Status::OK();
    }
    // Stored offsets are what a later commit or a close would use; the
    // explicit list below is what is committed now.
    const rd_kafka_resp_err_t store_err = rd_kafka_offsets_store(rk_, offsets);
    if (store_err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      log::Debug(ctx_.component,
                 "topic '" + config_.topic + "': storing offsets: " + rd_kafka_err2str(store_err));
    }
    // Synchronous for the caller, but bounded: rd_kafka_commit would block
    // until the session times out (45 s by default) when the coordinator is
    // gone. The commit is sent to a private queue and its result awaited for
    // kCommitTimeout; a commit given up on stays queued in librdkafka until
    // the coordinator answers or the session times out (Close waits for it).
    rd_kafka_queue_t* queue = rd_kafka_queue_new(rk_);
    rd_kafka_resp_err_t err = rd_kafka_commit_queue(rk_, offsets, queue, nullptr, nullptr);
    rd_kafka_event_t* event = nullptr;
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      event = rd_kafka_queue_poll(queue, static_cast<int>(kCommitTimeout.count()));
      if (event == nullptr) {
        rd_kafka_queue_destroy(queue);
        rd_kafka_topic_partition_list_destroy(offsets);
        return Status::Unavailable(Prefix() + "commit: no answer from the group coordinator in " +
                                   std::to_string(kCommitTimeout.count()) + " ms");
      }
      err = rd_kafka_event_error(event);
      const rd_kafka_topic_partition_list_t* result = rd_kafka_event_topic_partition_list(event);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR && result != nullptr) {
        for (int i = 0; i < result->cnt; ++i) {
          if (result->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
            err = result->elems[i].err;
            break;
          }
        }
      }
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      for (int i = 0; i < offsets->cnt; ++i) {
        auto it = pending_.find(offsets->elems[i].partition);
        if (it != pending_.end() && it->second + 1 == offsets->elems[i].offset) pending_.erase(it);
      }
    }
    if (event != nullptr) rd_kafka_event_destroy(event);
    rd_kafka_queue_destroy(queue);
    rd_kafka_topic_partition_list_destroy(offsets);
    switch (err) {
      case RD_KAFKA_RESP_ERR_NO_ERROR:
      case RD_KAFKA_RESP_ERR__NO_OFFSET:
        return Status::OK();
      case RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS:
      case RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION:
      case RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID:
      case RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST:
      case RD_KAFKA_RESP_ERR_FENCED_INSTANCE_ID:
      case RD_KAFKA_RESP_ERR__STATE:
        // The partitions move to another member, which starts from the last
        // committed offset: duplicates, never loss.
        log::Info(ctx_.component,
                  "topic '" + config_.topic + "': commit skipped, the group is rebalancing (" +
                      rd_kafka_err2str(err) + "); uncommitted messages will be delivered again");
        return Status::OK();
      default:
        return Status::Unavailable(Prefix() + "commit: " + rd_kafka_err2str(err));
    }
  }

  std::optional<std::int64_t> Lag() const override {
    const std::int64_t lag = lag_.load(std::memory_order_relaxed);
    if (lag < 0) return std::nullopt;
    return lag;
  }

  Status Close() override {
    if (closed_) return Status::OK();
    closed_ = true;
    if (rk_ == nullptr) return Status::OK();
    // Leaves the group (the rebalance callback unassigns); commits nothing:
    // enable.auto.commit is off. Blocks up to session.timeout.ms only if a
    // commit that timed out (see Commit) is still waiting for a coordinator.
    if (stash_ != nullptr) {
      rd_kafka_message_destroy(stash_);  // not handed out: delivered again
      stash_ = nullptr;
    }
    const rd_kafka_resp_err_t err = rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
    pending_.clear();
    next_offset_.clear();
    lag_.store(-1, std::memory_order_relaxed);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Status::Unavailable(Prefix() + "close: " + rd_kafka_err2str(err));
    }
    return Status::OK();
  }

 private:
  std::string Prefix() const {
    return config_.flavor + ": topic '" + config_.topic + "' group '" + config_.group + "': ";
  }

  // Recomputes lag_ (at every Poll): per assigned partition
  // from which a message was handed out, the high watermark librdkafka last
  // saw in a fetch response (a local read, no request) minus the offset
  // after that message. Partitions with nothing handed out since they were
  // assigned are not counted (their start offset is not known locally);
  // unknown (-1) until one partition can be counted.
  void UpdateLag() {
    std::int64_t lag = 0;
    bool known = false;
    for (const auto& [partition, next] : next_offset_) {
      if (assigned_.count(partition) == 0) continue;
      std::int64_t low = 0, high = 0;
      if (rd_kafka_get_watermark_offsets(rk_, config_.topic.c_str(), partition, &low, &high) !=
              RD_KAFKA_RESP_ERR_NO_ERROR ||
          high < 0) {
        continue;
      }
      lag += std::max<std::int64_t>(0, high - next);
      known = true;
    }
    lag_.store(known ? lag : -1, std::memory_order_relaxed);
  }

  Message ToMessage(const rd_kafka_message_t* msg) const {
    Message m;
    if (msg->key != nullptr) m.key.assign(static_cast<const char*>(msg->key), msg->key_len);
    if (msg->payload != nullptr) {
      AssignPayload(m.payload, {static_cast<const char*>(msg->payload), msg->len});
    }
    rd_kafka_timestamp_type_t type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE;
    const std::int64_t ts_ms = rd_kafka_message_timestamp(msg, &type);
    m.timestamp_ns = (type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE || ts_ms < 0) ? 0 : ts_ms * 1000000;
    m.origin =
        config_.topic + "/" + std::to_string(msg->partition) + "@" + std::to_string(msg->offset);
    return m;
  }

  // Errors delivered as messages. Only a fatal client error stops Poll;
  // anything else is logged and polling goes on.
  Status HandleConsumerError(const rd_kafka_message_t* msg) {
    if (msg->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      log::Debug(ctx_.component, "topic '" + config_.topic + "' partition " +
                                     std::to_string(msg->partition) + ": end of partition");
      return Status::OK();
    }
    char buf[512];
    if (msg->err == RD_KAFKA_RESP_ERR__FATAL ||
        rd_kafka_fatal_error(rk_, buf, sizeof buf) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_fatal_error(rk_, buf, sizeof buf);
      return Status::Unavailable(Prefix() + "fatal consumer error: " + buf);
    }
    ctx_.LogOnce(log::Level::kWarn, "topic '" + config_.topic + "': " + rd_kafka_err2str(msg->err) +
                                        ": " + rd_kafka_message_errstr(msg));
    return Status::OK();
  }

  void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                   rd_kafka_topic_partition_list_t* partitions) {
    const char* protocol = rd_kafka_rebalance_protocol(rk);
    const bool cooperative = protocol != nullptr && std::strcmp(protocol, "COOPERATIVE") == 0;
    std::set<std::int32_t> changed;
    for (int i = 0; i < partitions->cnt; ++i) {
      if (config_.topic == partitions->elems[i].topic)
        changed.insert(partitions->elems[i].partition);
    }
    rd_kafka_error_t* error = nullptr;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      assigned_.insert(changed.begin(), changed.end());
      if (cooperative) {
        error = rd_kafka_incremental_assign(rk, partitions);
      } else {
        const rd_kafka_resp_err_t e = rd_kafka_assign(rk, partitions);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) error = rd_kafka_error_new(e, "%s", "assign");
      }
      log::Info(ctx_.component, "topic '" + config_.topic + "' group '" + config_.group +
                                    "': assigned " + PartitionList(changed) + ", now " +
                                    PartitionList(assigned_));
    } else {
      const bool lost = rd_kafka_assignment_lost(rk) != 0;
      for (std::int32_t p : changed) {
        assigned_.erase(p);
        next_offset_.erase(p);
        // Not committed: the next owner delivers these messages again.
        pending_.erase(p);
      }
      if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
        log::Warn(ctx_.component,
                  "topic '" + config_.topic + "': rebalance error: " + rd_kafka_err2str(err));
      }
      if (cooperative) {
        error = rd_kafka_incremental_unassign(rk, partitions);
      } else {
        const rd_kafka_resp_err_t e = rd_kafka_assign(rk, nullptr);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) error = rd_kafka_error_new(e, "%s", "unassign");
        assigned_.clear();
        pending_.clear();
        next_offset_.clear();
      }
      log::Write(lost ? log::Level::kWarn : log::Level::kInfo, ctx_.component,
                 "topic '" + config_.topic + "' group '" + config_.group +
                     "': " + (lost ? "lost " : "revoked ") + PartitionList(changed) + ", now " +
                     PartitionList(assigned_));
    }
    if (error != nullptr) {
      log::Error(ctx_.component, "topic '" + config_.topic +
                                     "': changing the assignment: " + rd_kafka_error_string(error));
      rd_kafka_error_destroy(error);
    }
  }

  KafkaClientConfig config_;
  ClientContext ctx_;
  rd_kafka_t* rk_ = nullptr;
  bool closed_ = false;
  // Partition -> offset of the last message handed out and not committed.
  std::map<std::int32_t, std::int64_t> pending_;
  std::set<std::int32_t> assigned_;
  // Partition -> offset after the last message handed out (the position).
  std::map<std::int32_t, std::int64_t> next_offset_;
  // Lag() as of the last UpdateLag; -1 unknown. Read from any thread.
  std::atomic<std::int64_t> lag_{-1};
  // A message rd_kafka_consumer_poll returned to Poll(0), handed out first
  // by the next Poll (owned; destroyed by Close).
  rd_kafka_message_t* stash_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<Publisher>> NewKafkaPublisher(const Uri& uri) {
  MH_ASSIGN_OR_RETURN(KafkaClientConfig config,
                      BuildKafkaConfig(uri, ClientRole::kPublisher, ProcessEnvironment()));
  return NewKafkaPublisher(std::move(config));
}

Result<std::unique_ptr<Publisher>> NewKafkaPublisher(KafkaClientConfig config) {
  const std::string component = config.flavor;
  log::Debug(component, "producer settings: " + config.Describe());
  auto publisher = std::make_unique<KafkaPublisher>(std::move(config));
  MH_RETURN_IF_ERROR(publisher->Open());
  return std::unique_ptr<Publisher>(std::move(publisher));
}

Result<std::unique_ptr<Subscriber>> NewKafkaSubscriber(const Uri& uri) {
  MH_ASSIGN_OR_RETURN(KafkaClientConfig config,
                      BuildKafkaConfig(uri, ClientRole::kSubscriber, ProcessEnvironment()));
  return NewKafkaSubscriber(std::move(config));
}

Result<std::unique_ptr<Subscriber>> NewKafkaSubscriber(KafkaClientConfig config) {
  const std::string component = config.flavor;
  log::Debug(component, "consumer settings: " + config.Describe());
  auto subscriber = std::make_unique<KafkaSubscriber>(std::move(config));
  MH_RETURN_IF_ERROR(subscriber->Open());
  return std::unique_ptr<Subscriber>(std::move(subscriber));
}

}  // namespace mh::transport::kafka
