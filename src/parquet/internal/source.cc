#include "parquet/internal/source.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/memory.h"

namespace mh::parquet::internal {

namespace {

// Read with pread only, never memory-mapped: a mapped file that shrinks
// while it is read (a data logger rewriting a file of a `run --from dir:`
// folder) kills the process with SIGBUS on the first access past the new
// end; pread instead returns end of file, an IOError naming the file and the
// offset.
class FileSource : public Source {
 public:
  FileSource(int fd, std::int64_t size, std::string name)
      : fd_(fd), size_(size), name_(std::move(name)) {}
  ~FileSource() override { ::close(fd_); }
  std::int64_t size() const override { return size_; }
  const std::string& name() const override { return name_; }
  Status Read(std::int64_t offset, std::size_t n, std::string* out) override {
    if (out->capacity() < n) {
      out->reserve(n);
      AdviseHugePages(out->data(), out->capacity());
    }
    out->resize(n);
    std::size_t done = 0;
    while (done < n) {
      ssize_t got = ::pread(fd_, out->data() + done, n - done, static_cast<off_t>(offset + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) {
        return Status::IOError(name_ + ": read at offset " + std::to_string(offset + done) +
                               " failed: " + std::strerror(errno));
      }
      if (got == 0) return EndOfFile(offset + static_cast<std::int64_t>(done));
      done += static_cast<std::size_t>(got);
    }
    return Status::OK();
  }

 private:
  // End of file at `at`, inside the size the file had when it was opened:
  // it was truncated (or replaced in place) since.
  Status EndOfFile(std::int64_t at) const {
    std::string now;
    struct stat st {};
    if (::fstat(fd_, &st) == 0) now = ", now " + std::to_string(st.st_size) + " bytes";
    return Status::IOError(name_ + ": read at offset " + std::to_string(at) +
                           " failed: end of file (the file was " + std::to_string(size_) +
                           " bytes when opened" + now + ": truncated while being read)");
  }

  int fd_;
  std::int64_t size_;
  std::string name_;
};

class BufferSource : public Source {
 public:
  BufferSource(std::string bytes, std::string name)
      : bytes_(std::move(bytes)), name_(std::move(name)) {}
  std::int64_t size() const override { return static_cast<std::int64_t>(bytes_.size()); }
  const std::string& name() const override { return name_; }
  Status Read(std::int64_t offset, std::size_t n, std::string* out) override {
    out->assign(bytes_, static_cast<std::size_t>(offset), n);
    return Status::OK();
  }
  std::string_view View(std::int64_t offset, std::size_t n) const override {
    return std::string_view(bytes_).substr(static_cast<std::size_t>(offset), n);
  }

 private:
  std::string bytes_;
  std::string name_;
};

}  // namespace

Result<std::unique_ptr<Source>> OpenFileSource(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    std::string msg = path + ": cannot open: " + std::strerror(e);
    if (e == ENOENT) return Status::NotFound(msg);
    return Status::IOError(msg);
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const bool directory = S_ISDIR(st.st_mode);
    ::close(fd);
    return Status::IOError(path + (directory ? ": is a directory" : ": not a regular file"));
  }
  return std::unique_ptr<Source>(new FileSource(fd, static_cast<std::int64_t>(st.st_size), path));
}

std::unique_ptr<Source> MakeBufferSource(std::string bytes, std::string name) {
  return std::make_unique<BufferSource>(std::move(bytes), std::move(name));
}

}  // namespace mh::parquet::internal
