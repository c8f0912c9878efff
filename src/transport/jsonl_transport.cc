#include "transport/jsonl_transport.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ostream>

#include <fcntl.h>
#include <unistd.h>

namespace mh::transport {
namespace {

constexpr std::size_t kMaxLineBytes = 64u << 20;

class StreamPublisher final : public Publisher {
 public:
  explicit StreamPublisher(std::ostream& out) : out_(out) {}

  Status Publish(std::span<const OutgoingMessage> batch) override {
    buffer_.clear();
    for (const OutgoingMessage& m : batch) {
      buffer_.append(m.payload);
      buffer_.push_back('\n');
    }
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    out_.flush();
    if (!out_) return Status::IOError("output stream: write failed");
    return Status::OK();
  }

  Status Close() override {
    out_.flush();
    if (!out_) return Status::IOError("output stream: flush failed");
    return Status::OK();
  }

 private:
  std::ostream& out_;
  std::string buffer_;
};

class FilePublisher final : public Publisher {
 public:
  FilePublisher(std::string path, int fd, bool sync)
      : path_(std::move(path)), fd_(fd), sync_(sync) {}
  ~FilePublisher() override { (void)Close(); }

  Status Publish(std::span<const OutgoingMessage> batch) override {
    if (fd_ < 0) return Status::IOError(path_ + ": closed");
    buffer_.clear();
    for (const OutgoingMessage& m : batch) {
      buffer_.append(m.payload);
      buffer_.push_back('\n');
    }
    std::size_t done = 0;
    while (done < buffer_.size()) {
      const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Status::IOError(path_ + ": write: " + std::strerror(errno));
      }
      done += static_cast<std::size_t>(n);
    }
    if (sync_ && ::fdatasync(fd_) != 0) {
      return Status::IOError(path_ + ": fdatasync: " + std::strerror(errno));
    }
    return Status::OK();
  }

  Status Close() override {
    if (fd_ < 0) return Status::OK();
    const int rc = ::close(fd_);
    fd_ = -1;
    if (rc != 0) return Status::IOError(path_ + ": close: " + std::strerror(errno));
    return Status::OK();
  }

 private:
  std::string path_;
  int fd_;
  bool sync_;
  std::string buffer_;
};

class FileSubscriber final : public Subscriber {
 public:
  FileSubscriber(std::string path, std::FILE* file) : path_(std::move(path)), file_(file) {}
  ~FileSubscriber() override { (void)Close(); }

  Result<std::vector<Message>> Poll(std::size_t max_messages,
                                    std::chrono::milliseconds /*timeout*/) override {
    std::vector<Message> out;
    if (file_ == nullptr) return out;
    while (out.size() < max_messages) {
      errno = 0;
      const ssize_t n = ::getline(&buf_, &cap_, file_);
      if (n < 0) {
        if (std::ferror(file_)) return Status::IOError(path_ + ": read: " + std::strerror(errno));
        at_end_ = true;
        break;
      }
      ++line_;
      std::size_t len = static_cast<std::size_t>(n);
      if (len > kMaxLineBytes) {
        return Status::Corruption(path_ + ": line " + std::to_string(line_) +
                                  ": longer than 64 MiB");
      }
      while (len > 0 && (buf_[len - 1] == '\n' || buf_[len - 1] == '\r')) --len;
      if (len == 0) continue;
      Message m;
      AssignPayload(m.payload, {buf_, len});
      m.origin = path_ + ":" + std::to_string(line_);
      out.push_back(std::move(m));
    }
    return out;
  }

  Status Commit() override { return Status::OK(); }
  Status Close() override {
    if (file_ != nullptr) std::fclose(file_);
    file_ = nullptr;
    std::free(buf_);
    buf_ = nullptr;
    return Status::OK();
  }
  bool AtEnd() const override { return at_end_; }

 private:
  std::string path_;
  std::FILE* file_;
  char* buf_ = nullptr;  // getline's buffer
  std::size_t cap_ = 0;
  std::int64_t line_ = 0;
  bool at_end_ = false;
};

}  // namespace

std::unique_ptr<Publisher> NewStreamPublisher(std::ostream& out) {
  return std::make_unique<StreamPublisher>(out);
}

Result<std::unique_ptr<Publisher>> NewJsonLinesFilePublisher(const std::string& path, bool sync) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError(path + ": " + std::strerror(errno));
  return std::unique_ptr<Publisher>(std::make_unique<FilePublisher>(path, fd, sync));
}

Result<std::unique_ptr<Subscriber>> NewJsonLinesFileSubscriber(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return Status::NotFound(path + ": " + std::strerror(errno));
  return std::unique_ptr<Subscriber>(std::make_unique<FileSubscriber>(path, f));
}

}  // namespace mh::transport
