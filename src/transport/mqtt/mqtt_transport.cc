#include "transport/mqtt/mqtt_transport.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <mosquitto.h>
#include <sys/socket.h>
#include <unistd.h>

#include "log/log.h"
#include "transport/mqtt/mqtt_config.h"
#include "transport/mqtt/mqtt_spool.h"

namespace mh::transport::mqtt {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kLog = "mqtt";
// MQTT's largest packet is 268,435,455 bytes; leave room for the header.
constexpr std::size_t kMaxPayloadBytes = 268'435'455 - 65'535 - 16;
// At most this many of our messages unacknowledged at once (libmosquitto
// queues beyond max_inflight itself): bounds memory and keeps message ids
// (16 bit) unique among the outstanding ones.
constexpr std::size_t kMaxOutstanding = 20'000;

std::once_flag g_lib_init_once;

void InitLibraryOnce() {
  // Process-wide and never undone: mosquitto_lib_cleanup would break other
  // clients still alive in the process.
  std::call_once(g_lib_init_once, [] { mosquitto_lib_init(); });
}

// Text of a libmosquitto return code (errno's text for MOSQ_ERR_ERRNO).
std::string MosqError(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return std::strerror(errno);
  return mosquitto_strerror(rc);
}

// CONNACK return codes of MQTT 3.1.1 (section 3.2.2.3).
std::string ConnackText(int code) {
  switch (code) {
    case 1:
      return "unacceptable protocol version";
    case 2:
      return "client id rejected";
    case 3:
      return "broker unavailable";
    case 4:
      return "bad user name or password";
    case 5:
      return "not authorised";
    default:
      return "refusal code " + std::to_string(code);
  }
}

Status CheckReadable(const std::string& path, std::string_view what) {
  if (path.empty() || ::access(path.c_str(), R_OK) == 0) return Status::OK();
  const int err = errno;
  const std::string msg =
      "mqtt: " + std::string(what) + " '" + path + "' cannot be read: " + std::strerror(err);
  return err == ENOENT ? Status::NotFound(msg) : Status::IOError(msg);
}

// One libmosquitto client: its handle, its network thread (loop_start), and
// the connection state the callbacks keep. Reconnection is libmosquitto's
// (reconnect_delay_set); a subscriber subscribes on every connect.
class Connection {
 public:
  using MessageHandler = std::function<void(const mosquitto_message&)>;
  using PublishHandler = std::function<void(int mid)>;

  explicit Connection(MqttConfig config) : config_(std::move(config)) {}
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Creates the client, starts the network thread and waits until it is
  // connected (and subscribed), up to config.timeout. The handlers are
  // called on the network thread.
  Status Open(MessageHandler on_message, PublishHandler on_publish) {
    on_message_ = std::move(on_message);
    on_publish_ = std::move(on_publish);
    InitLibraryOnce();
    MH_RETURN_IF_ERROR(CheckReadable(config_.ca_file, "ca file"));
    MH_RETURN_IF_ERROR(CheckReadable(config_.cert_file, "cert file"));
    MH_RETURN_IF_ERROR(CheckReadable(config_.key_file, "key file"));

    mosq_ = mosquitto_new(config_.client_id.empty() ? nullptr : config_.client_id.c_str(),
                          config_.clean_session, this);
    if (mosq_ == nullptr) {
      return Status::Internal(std::string("mqtt: cannot create client: ") + std::strerror(errno));
    }
    mosquitto_int_option(mosq_, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
    mosquitto_int_option(mosq_, MOSQ_OPT_TCP_NODELAY, 1);
    if (!config_.user.empty()) {
      const int rc =
          mosquitto_username_pw_set(mosq_, config_.user.c_str(),
                                    config_.password.empty() ? nullptr : config_.password.c_str());
      if (rc != MOSQ_ERR_SUCCESS) {
        return Status::InvalidArgument("mqtt: bad user name: " + MosqError(rc));
      }
    }
    if (config_.tls) {
      if (config_.ca_file.empty()) mosquitto_int_option(mosq_, MOSQ_OPT_TLS_USE_OS_CERTS, 1);
      auto opt = [](const std::string& s) { return s.empty() ? nullptr : s.c_str(); };
      const int rc = mosquitto_tls_set(mosq_, opt(config_.ca_file), nullptr, opt(config_.cert_file),
                                       opt(config_.key_file), nullptr);
      if (rc != MOSQ_ERR_SUCCESS) {
        return Status::InvalidArgument("mqtt: bad TLS settings (ca, cert, key): " + MosqError(rc));
      }
    }
    if (config_.role == MqttRole::kPublisher) {
      mosquitto_max_inflight_messages_set(mosq_, static_cast<unsigned>(config_.max_inflight));
    }
    // 1, 2, 3, 4, 5, 5, ... s between attempts after a connection is lost.
    mosquitto_reconnect_delay_set(mosq_, 1, 5, false);
    mosquitto_connect_with_flags_callback_set(mosq_, &Connection::OnConnect);
    mosquitto_disconnect_callback_set(mosq_, &Connection::OnDisconnect);
    mosquitto_subscribe_callback_set(mosq_, &Connection::OnSubscribe);
    mosquitto_message_callback_set(mosq_, &Connection::OnMessage);
    mosquitto_publish_callback_set(mosq_, &Connection::OnPublish);
    mosquitto_log_callback_set(mosq_, &Connection::OnLog);

    int rc =
        mosquitto_connect_async(mosq_, config_.host.c_str(), config_.port, config_.keepalive_s);
    if (rc == MOSQ_ERR_EAI) {
      return Status::Unavailable("mqtt: cannot resolve broker host '" + config_.host + "'");
    }
    if (rc == MOSQ_ERR_INVAL) {
      return Status::InvalidArgument("mqtt: invalid connection settings for " + config_.Describe());
    }
    if (rc != MOSQ_ERR_SUCCESS) {
      // E.g. connection refused: the network thread keeps trying until the
      // deadline below.
      SetError("cannot connect: " + MosqError(rc));
    }
    rc = mosquitto_loop_start(mosq_);
    if (rc != MOSQ_ERR_SUCCESS) {
      return Status::Internal("mqtt: cannot start the network thread: " + MosqError(rc));
    }
    loop_started_ = true;

    std::unique_lock lock(mu_);
    cv_.wait_for(lock, config_.timeout,
                 [&] { return ready_ || refused_code_ != 0 || subscribe_refused_; });
    if (ready_) return Status::OK();
    const int refused = refused_code_;
    const bool sub_refused = subscribe_refused_;
    lock.unlock();
    if (refused != 0) {
      // 3 = server unavailable is worth retrying; the others (bad protocol,
      // client id, user name or password, not authorised) are settings.
      std::string msg = "mqtt: " + Endpoint() + " refused the connection: " + ConnackText(refused);
      if (refused == 4 || refused == 5) {
        msg += " (check the user and MQTT_PASSWORD or password_file)";
      }
      return refused == 3 ? Status::Unavailable(msg) : Status::InvalidArgument(msg);
    }
    if (sub_refused) {
      return Status::InvalidArgument("mqtt: " + Endpoint() + " refused the subscription to '" +
                                     config_.topic + "' (not authorised?)");
    }
    if (connected()) {
      return Status::Unavailable("mqtt: " + Endpoint() +
                                 " did not acknowledge the subscription to '" + config_.topic +
                                 "' within " + std::to_string(config_.timeout.count()) + " ms");
    }
    return Status::Unavailable("mqtt: cannot connect to " + Endpoint() + " within " +
                               std::to_string(config_.timeout.count()) + " ms: " + LastError());
  }

  // Queues a DISCONNECT and stops reconnecting; the network thread sends it
  // and closes the socket. Acknowledgements queued after this call are never
  // sent, so messages received from now on will be delivered again.
  // Idempotent; the network thread keeps running until Close().
  void Disconnect() {
    if (mosq_ == nullptr) return;
    {
      std::lock_guard lock(mu_);
      if (closing_) return;
      closing_ = true;
    }
    cv_.notify_all();
    mosquitto_disconnect(mosq_);
  }

  // Disconnect(), then stops the network thread and frees the client. Its
  // message handler must not block any more. Idempotent.
  void Close() {
    if (mosq_ == nullptr) return;
    Disconnect();
    if (loop_started_) mosquitto_loop_stop(mosq_, false);
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
  }

  // Waits up to `timeout` for a live connection; Unavailable otherwise.
  Status WaitConnected(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, timeout, [&] { return connected_ || closing_; }) && connected_) {
      return Status::OK();
    }
    lock.unlock();
    return Status::Unavailable("mqtt: not connected to " + Endpoint() + " (waited " +
                               std::to_string(timeout.count()) + " ms): " + LastError());
  }

  bool connected() {
    std::lock_guard lock(mu_);
    return connected_;
  }

  // Network thread, inside the message handler only: shuts the socket down
  // so that the PUBACK libmosquitto queued for the message being handled
  // is never sent. The connection is then lost and libmosquitto reconnects;
  // the broker sends the unacknowledged message again.
  void AbortSocket() {
    const int fd = mosq_ != nullptr ? mosquitto_socket(mosq_) : -1;
    if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
  }

  mosquitto* handle() const { return mosq_; }
  const MqttConfig& config() const { return config_; }
  std::string Endpoint() const { return config_.host + ":" + std::to_string(config_.port); }

  std::string LastError() {
    std::lock_guard lock(error_mu_);
    return last_error_.empty() ? "no error reported" : last_error_;
  }

 private:
  void SetError(std::string text) {
    std::lock_guard lock(error_mu_);
    last_error_ = std::move(text);
  }

  static Connection* Self(void* obj) { return static_cast<Connection*>(obj); }

  static void OnConnect(mosquitto* mosq, void* obj, int rc, int flags) {
    Connection* self = Self(obj);
    if (rc != 0) {
      bool first_refusal = false;
      {
        std::lock_guard lock(self->mu_);
        first_refusal = self->refused_code_ != rc;
        self->refused_code_ = rc;
      }
      self->SetError("connection refused: " + ConnackText(rc));
      if (first_refusal) {
        log::Warn(kLog, self->Endpoint() + " refused the connection: " + ConnackText(rc));
      }
      self->cv_.notify_all();
      return;
    }
    const bool session_present = (flags & 1) != 0;
    const bool subscriber = self->config_.role == MqttRole::kSubscriber;
    bool reconnect = false;
    {
      std::lock_guard lock(self->mu_);
      reconnect = self->ever_connected_;
      self->ever_connected_ = true;
      self->connected_ = true;
      self->refused_code_ = 0;
      // A subscriber is ready at its SUBACK, or at once when the broker
      // resumed its session (the subscription is part of it). Not waiting
      // for that SUBACK matters: queued messages may come first and fill
      // the queue, so the network thread would block before reading it.
      self->ready_ = !subscriber || session_present;
    }
    if (subscriber) {
      // Subscribed on every connect, also when the broker resumed the
      // session: identical filters replace each other without interrupting
      // the flow (MQTT 3.1.1 3.8.4), and a topic changed under the same
      // client id takes effect. Cost: retained messages are sent again.
      const int sub_rc =
          mosquitto_subscribe(mosq, nullptr, self->config_.topic.c_str(), self->config_.qos);
      if (sub_rc != MOSQ_ERR_SUCCESS) self->SetError("subscribe failed: " + MosqError(sub_rc));
      if (reconnect && !session_present && !self->config_.clean_session) {
        log::Warn(kLog, self->Endpoint() + " had no session for client " + self->config_.client_id +
                            " any more: messages published while disconnected may be missing");
      }
    }
    log::Info(kLog, std::string(reconnect ? "reconnected to " : "connected to ") +
                        self->config_.Describe() +
                        (self->config_.clean_session ? ""
                         : session_present           ? ", session resumed"
                                                     : ", new session"));
    self->cv_.notify_all();
  }

  static void OnDisconnect(mosquitto*, void* obj, int rc) {
    Connection* self = Self(obj);
    bool was_connected = false;
    bool closing = false;
    bool ever = false;
    {
      std::lock_guard lock(self->mu_);
      was_connected = self->connected_;
      closing = self->closing_;
      ever = self->ever_connected_;
      self->connected_ = false;
      self->ready_ = false;
    }
    if (closing || rc == MOSQ_ERR_SUCCESS) return;
    if (!ever && (rc == MOSQ_ERR_CONN_LOST || rc == MOSQ_ERR_PROTOCOL)) {
      self->SetError(
          "the broker closed the connection before accepting it (a TLS port? then use "
          "mqtts://)");
    } else {
      self->SetError("connection lost: " + MosqError(rc));
    }
    if (was_connected) {
      log::Warn(kLog, "lost the connection to " + self->Endpoint() + " (" + MosqError(rc) +
                          "); reconnecting");
    }
    self->cv_.notify_all();
  }

  static void OnSubscribe(mosquitto*, void* obj, int, int count, const int* granted) {
    Connection* self = Self(obj);
    const bool refused = count < 1 || granted[0] == 0x80;
    {
      std::lock_guard lock(self->mu_);
      if (refused) {
        self->subscribe_refused_ = true;
      } else {
        self->ready_ = true;
      }
    }
    if (refused) {
      self->SetError("subscription to '" + self->config_.topic + "' refused");
      log::Error(kLog,
                 self->Endpoint() + " refused the subscription to '" + self->config_.topic + "'");
    }
    self->cv_.notify_all();
  }

  static void OnMessage(mosquitto*, void* obj, const mosquitto_message* message) {
    Connection* self = Self(obj);
    if (self->on_message_ && message != nullptr) self->on_message_(*message);
  }

  static void OnPublish(mosquitto*, void* obj, int mid) {
    Connection* self = Self(obj);
    if (self->on_publish_) self->on_publish_(mid);
  }

  // libmosquitto's own errors and warnings (TLS failures, ...) become the
  // "last error" of failure messages. Called on any thread, also from inside
  // mosquitto_publish on the caller's thread: uses error_mu_ only.
  static void OnLog(mosquitto*, void* obj, int level, const char* text) {
    if ((level & (MOSQ_LOG_ERR | MOSQ_LOG_WARNING)) == 0 || text == nullptr) return;
    Self(obj)->SetError(text);
    log::Debug(kLog, text);
  }

  const MqttConfig config_;
  MessageHandler on_message_;
  PublishHandler on_publish_;
  mosquitto* mosq_ = nullptr;
  bool loop_started_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  bool connected_ = false;          // guarded by mu_
  bool ready_ = false;              // connected and subscribed; guarded by mu_
  bool ever_connected_ = false;     // guarded by mu_
  bool closing_ = false;            // guarded by mu_
  int refused_code_ = 0;            // last CONNACK refusal; guarded by mu_
  bool subscribe_refused_ = false;  // guarded by mu_

  std::mutex error_mu_;
  std::string last_error_;  // guarded by error_mu_
};

class MqttPublisher final : public Publisher {
 public:
  explicit MqttPublisher(MqttConfig config)
      : conn_(std::move(config)),
        topic_has_key_(conn_.config().topic.find("{key}") != std::string::npos) {}
  ~MqttPublisher() override { (void)Close(); }

  Status Open() {
    return conn_.Open(nullptr, [this](int mid) { OnAck(mid); });
  }

  Status Publish(std::span<const OutgoingMessage> batch) override {
    if (closed_) return Status::Internal("mqtt: publish after close");
    if (batch.empty()) return Status::OK();
    const MqttConfig& config = conn_.config();
    // All-or-nothing validation before anything is sent.
    std::vector<std::string> topics;
    if (topic_has_key_) topics.reserve(batch.size());
    for (const OutgoingMessage& m : batch) {
      if (m.payload.size() > kMaxPayloadBytes) {
        return Status::InvalidArgument("mqtt: message of " + std::to_string(m.payload.size()) +
                                       " bytes is larger than MQTT allows");
      }
      if (topic_has_key_) {
        auto topic = ExpandTopic(config.topic, m.key);
        if (!topic.ok()) return topic.status().WithContext("mqtt");
        topics.push_back(std::move(topic).value());
      }
    }
    MH_RETURN_IF_ERROR(conn_.WaitConnected(config.timeout));

    std::unique_lock lock(mu_);
    pending_.clear();
    last_progress_ = Clock::now();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      while (pending_.size() >= kMaxOutstanding) {
        MH_RETURN_IF_ERROR(WaitForProgress(lock, batch.size()));
      }
      const std::string& topic = topic_has_key_ ? topics[i] : config.topic;
      int mid = 0;
      // mu_ is held across the call so that an acknowledgement cannot be
      // handled (OnAck, network thread) before its id is in pending_;
      // libmosquitto takes none of its own locks around that callback that
      // mosquitto_publish would wait for.
      const int rc = mosquitto_publish(conn_.handle(), &mid, topic.c_str(),
                                       static_cast<int>(batch[i].payload.size()),
                                       batch[i].payload.data(), config.qos, false);
      if (rc == MOSQ_ERR_SUCCESS || (rc == MOSQ_ERR_NO_CONN && config.qos > 0)) {
        // NO_CONN at QoS 1: libmosquitto keeps the message and sends it
        // after reconnecting; its PUBACK still counts.
        pending_.insert(mid);
        continue;
      }
      if (rc == MOSQ_ERR_PAYLOAD_SIZE || rc == MOSQ_ERR_OVERSIZE_PACKET ||
          rc == MOSQ_ERR_MALFORMED_UTF8 || rc == MOSQ_ERR_INVAL) {
        return Status::InvalidArgument("mqtt: cannot publish to '" + topic + "': " + MosqError(rc));
      }
      return Status::Unavailable("mqtt: publish to " + conn_.Endpoint() +
                                 " failed: " + MosqError(rc) + " (" + std::to_string(i) + " of " +
                                 std::to_string(batch.size()) + " messages handed over)");
    }
    while (!pending_.empty()) MH_RETURN_IF_ERROR(WaitForProgress(lock, batch.size()));
    return Status::OK();
  }

  Status Close() override {
    if (closed_) return Status::OK();
    closed_ = true;
    conn_.Close();
    return Status::OK();
  }

 private:
  // Network thread: the broker acknowledged message `mid` (QoS 1), or it was
  // written to the socket (QoS 0).
  void OnAck(int mid) {
    {
      std::lock_guard lock(mu_);
      if (pending_.erase(mid) == 0) return;  // of an earlier, timed-out batch
      last_progress_ = Clock::now();
    }
    cv_.notify_all();
  }

  // Waits for an acknowledgement; Unavailable when none comes for
  // config.timeout.
  Status WaitForProgress(std::unique_lock<std::mutex>& lock, std::size_t batch_size) {
    const std::size_t before = pending_.size();
    const auto timeout = conn_.config().timeout;
    while (pending_.size() == before) {
      if (cv_.wait_until(lock, last_progress_ + timeout) == std::cv_status::timeout &&
          pending_.size() == before && Clock::now() >= last_progress_ + timeout) {
        const std::size_t missing = pending_.size();
        lock.unlock();
        const bool connected = conn_.connected();
        std::string msg = "mqtt: " + std::to_string(missing) + " of " + std::to_string(batch_size) +
                          " messages not acknowledged by " + conn_.Endpoint() + " within " +
                          std::to_string(timeout.count()) + " ms";
        msg += connected ? "" : " (not connected: " + conn_.LastError() + ")";
        lock.lock();
        return Status::Unavailable(msg);
      }
    }
    return Status::OK();
  }

  Connection conn_;
  const bool topic_has_key_;
  bool closed_ = false;

  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_set<int> pending_;  // message ids awaiting PUBACK; guarded by mu_
  Clock::time_point last_progress_;  // guarded by mu_
};

// Without a spool (spool=off, clean sessions by default): received messages
// wait in queue_ (memory) for Poll. With a spool: every message is appended
// to the spool inside the message callback, so before libmosquitto's
// network thread can write its PUBACK (it writes queued packets only after
// the callback returns); Poll reads the spool and Commit records the
// position. queue_size then bounds the spooled messages not yet polled.
class MqttSubscriber final : public Subscriber {
 public:
  explicit MqttSubscriber(MqttConfig config)
      : conn_(std::move(config)), capacity_(conn_.config().queue_size) {}
  ~MqttSubscriber() override { (void)Close(); }

  Status Open() {
    const MqttConfig& config = conn_.config();
    if (!config.spool_dir.empty()) {
      SpoolOptions options;
      options.dir = config.spool_dir;
      options.name = config.client_id;
      options.sync = config.spool_sync;
      auto spool = MqttSpool::Open(options);
      if (!spool.ok()) return spool.status().WithContext("mqtt");
      spool_ = std::move(spool).value();
      log::Info(kLog, "spool " + spool_->path_prefix() + ".*" +
                          (config.spool_sync ? " (synced)" : "") +
                          (spool_->recovered() > 0
                               ? ": " + std::to_string(spool_->recovered()) +
                                     " uncommitted messages from before are handed out first"
                               : ""));
    } else if (!config.clean_session) {
      log::Warn(kLog, config.Describe() +
                          ": spool=off: messages received but not yet processed are lost if "
                          "the process crashes (see src/transport/mqtt/README.md)");
    }
    return conn_.Open([this](const mosquitto_message& m) { OnMessage(m); }, nullptr);
  }

  Result<std::vector<Message>> Poll(std::size_t max_messages,
                                    std::chrono::milliseconds timeout) override {
    if (closed_) return Status::Internal("mqtt: poll after close");
    std::vector<Message> out;
    if (max_messages == 0) return out;
    if (spool_ != nullptr) {
      {
        std::unique_lock lock(mu_);
        data_cv_.wait_for(lock, timeout, [&] { return spool_->unread() > 0; });
      }
      auto records = spool_->Read(max_messages);
      if (!records.ok()) return records.status().WithContext("mqtt");
      out.reserve(records->size());
      for (SpoolRecord& r : *records) {
        Message msg;
        msg.payload = std::move(r.payload);
        msg.origin = std::move(r.topic);
        out.push_back(std::move(msg));
      }
      // Taking mu_ orders this after a network thread's check of the
      // spool's fill level, so its wait cannot miss the notification.
      { std::lock_guard lock(mu_); }
    } else {
      std::unique_lock lock(mu_);
      data_cv_.wait_for(lock, timeout, [&] { return !queue_.empty(); });
      const std::size_t n = std::min(max_messages, queue_.size());
      out.reserve(n);
      for (std::size_t i = 0; i < n; ++i) {
        out.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    if (!out.empty()) {
      space_cv_.notify_all();
      return out;
    }
    if (!conn_.connected()) {
      return Status::Unavailable("mqtt: not connected to " + conn_.Endpoint() +
                                 " (reconnecting): " + conn_.LastError());
    }
    return out;
  }

  // With a spool: records the spool position of everything polled so far
  // (IOError if the commit file cannot be written: those messages come
  // again after a restart). Without: nothing to do, libmosquitto
  // acknowledged each message when it arrived.
  Status Commit() override {
    if (closed_) return Status::Internal("mqtt: commit after close");
    if (spool_ == nullptr) return Status::OK();
    const Status s = spool_->Commit();
    return s.ok() ? s : s.WithContext("mqtt");
  }

  Status Close() override {
    if (closed_) return Status::OK();
    closed_ = true;
    std::size_t unpolled = 0;
    // DISCONNECT first: it is queued ahead of the acknowledgements of
    // messages read after this point, which are therefore never sent and
    // the broker delivers those messages again. Only then release a network
    // thread waiting for room (without a spool it drops what it reads from
    // now on; with one it still spools it).
    conn_.Disconnect();
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      unpolled = queue_.size();
    }
    space_cv_.notify_all();
    conn_.Close();
    if (spool_ != nullptr) {
      if (const std::size_t kept = spool_->unread(); kept > 0) {
        log::Info(kLog, "closing " + conn_.config().Describe() + " with " + std::to_string(kept) +
                            " received messages not polled: kept in the spool for the next start");
      }
      spool_.reset();  // releases the spool's lock
    } else if (unpolled + dropped_ > 0) {
      log::Warn(kLog, "closing " + conn_.config().Describe() + " with " +
                          std::to_string(unpolled + dropped_) +
                          " received messages not polled (lost unless the broker delivers them "
                          "again, see README)");
    }
    return Status::OK();
  }

 private:
  // Network thread. Blocks while queue_size messages wait for Poll:
  // libmosquitto then reads nothing more and the broker keeps the rest of
  // the session's messages.
  void OnMessage(const mosquitto_message& m) {
    std::string_view payload;
    if (m.payload != nullptr && m.payloadlen > 0) {
      payload = std::string_view(static_cast<const char*>(m.payload),
                                 static_cast<std::size_t>(m.payloadlen));
    }
    const std::string_view topic = m.topic != nullptr ? m.topic : "";
    if (spool_ != nullptr) {
      std::unique_lock lock(mu_);
      space_cv_.wait(lock, [&] { return spool_->unread() < capacity_ || closing_; });
      // Spooled also when closing: this message's PUBACK may already be
      // queued ahead of the DISCONNECT.
      const auto now = std::chrono::system_clock::now().time_since_epoch();
      const Status s = spool_->Append(
          topic, payload, std::chrono::duration_cast<std::chrono::nanoseconds>(now).count());
      if (!s.ok()) {
        // Not in the spool, so its PUBACK must not be sent: drop the
        // connection (the broker sends the message again after the
        // reconnect).
        conn_.AbortSocket();
        lock.unlock();
        log::Error(kLog, s.message() +
                             "; dropped the connection so that the broker keeps the "
                             "message (it is sent again after reconnecting)");
        return;
      }
      lock.unlock();
      data_cv_.notify_one();
      return;
    }
    Message msg;
    AssignPayload(msg.payload, payload);
    msg.origin.assign(topic);
    {
      std::unique_lock lock(mu_);
      space_cv_.wait(lock, [&] { return queue_.size() < capacity_ || closing_; });
      if (closing_) {
        ++dropped_;
        return;
      }
      queue_.push_back(std::move(msg));
    }
    data_cv_.notify_one();
  }

  Connection conn_;
  const std::size_t capacity_;
  bool closed_ = false;
  // Set by Open, reset by Close after the network thread stopped; the
  // spool object is thread-safe itself.
  std::unique_ptr<MqttSpool> spool_;

  std::mutex mu_;
  std::condition_variable data_cv_;   // a message arrived
  std::condition_variable space_cv_;  // room below capacity_, or closing_
  std::deque<Message> queue_;         // without a spool; guarded by mu_
  bool closing_ = false;              // guarded by mu_
  std::size_t dropped_ =
      0;  // received after Close began; guarded by mu_ (read after the thread stopped)
};

}  // namespace

Result<std::unique_ptr<Publisher>> NewMqttPublisher(const Uri& address) {
  auto config = ParseMqttConfig(address, MqttRole::kPublisher, ProcessEnvironment());
  if (!config.ok()) return config.status().WithContext("mqtt");
  auto publisher = std::make_unique<MqttPublisher>(std::move(config).value());
  MH_RETURN_IF_ERROR(publisher->Open());
  return std::unique_ptr<Publisher>(std::move(publisher));
}

Result<std::unique_ptr<Subscriber>> NewMqttSubscriber(const Uri& address) {
  auto config = ParseMqttConfig(address, MqttRole::kSubscriber, ProcessEnvironment());
  if (!config.ok()) return config.status().WithContext("mqtt");
  auto subscriber = std::make_unique<MqttSubscriber>(std::move(config).value());
  MH_RETURN_IF_ERROR(subscriber->Open());
  return std::unique_ptr<Subscriber>(std::move(subscriber));
}

}  // namespace mh::transport::mqtt
