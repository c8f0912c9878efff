#include "transport/mqtt/mqtt_spool.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "log/log.h"
#include "transport/transport.h"

namespace mh::transport::mqtt {
namespace {

constexpr std::string_view kLog = "mqtt";
constexpr char kSegmentMagic[8] = {'M', 'H', 'S', 'P', 'O', 'O', 'L', '1'};
constexpr char kCommitMagic[8] = {'M', 'H', 'S', 'P', 'C', 'M', 'T', '1'};
constexpr std::uint64_t kHeaderBytes = sizeof(kSegmentMagic);
// length, its complement (a damaged length is told from a torn write), crc
constexpr std::uint64_t kRecordHeaderBytes = 12;
constexpr std::uint32_t kMinBodyBytes = 12;  // receive time + topic length
// Larger than any MQTT packet (256 MiB): a longer length is damage.
constexpr std::uint32_t kMaxBodyBytes = 268'435'455 + 65'535 + kMinBodyBytes;
constexpr std::size_t kCommitFileBytes = 32;
constexpr std::size_t kReadChunkBytes = 256 << 10;
constexpr std::size_t kMaxStemBytes = 160;

void PutFixed32(std::string* out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutFixed64(std::string* out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
std::uint32_t GetFixed32(const char* p) {
  std::uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
std::uint64_t GetFixed64(const char* p) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::uint32_t Crc32(const char* data, std::size_t n) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths: feed large bodies in pieces.
  while (n > 0) {
    const uInt piece = static_cast<uInt>(std::min<std::size_t>(n, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), piece);
    data += piece;
    n -= piece;
  }
  return static_cast<std::uint32_t>(crc);
}

std::string ErrnoText(int err) { return std::strerror(err); }

Status IoError(const std::string& what, const std::string& path, int err) {
  return Status::IOError("spool: cannot " + what + " '" + path + "': " + ErrnoText(err));
}

Status CorruptionAt(const std::string& path, std::uint64_t offset, const std::string& what) {
  return Status::Corruption("spool: " + path + ": offset " + std::to_string(offset) + ": " + what +
                            " (move the file away to start afresh; its messages are then lost)");
}

// Writes all of `data` at the end of `fd` (O_APPEND).
bool WriteAll(int fd, const char* data, std::size_t n, int* err) {
  while (n > 0) {
    const ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      return false;
    }
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// Reads up to `n` bytes at `offset`; fewer only at the end of the file.
bool ReadAt(int fd, std::uint64_t offset, std::size_t n, std::string* out, int* err) {
  out->resize(n);
  std::size_t done = 0;
  while (done < n) {
    const ssize_t r = ::pread(fd, out->data() + done, n - done, static_cast<off_t>(offset + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      *err = errno;
      return false;
    }
    if (r == 0) break;
    done += static_cast<std::size_t>(r);
  }
  out->resize(done);
  return true;
}

void SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

std::string SegmentSuffix(std::uint64_t seq) {
  std::string digits = std::to_string(seq);
  return "." + std::string(20 - std::min<std::size_t>(20, digits.size()), '0') + digits + ".log";
}

bool AllZero(const char* p, std::size_t n) {
  return std::all_of(p, p + n, [](char c) { return c == 0; });
}

struct Segment {
  int fd = -1;
  std::uint64_t size = 0;
  std::string path;
};

}  // namespace

std::string SpoolFileStem(std::string_view client_id) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string stem;
  for (unsigned char c : client_id) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_') {
      stem.push_back(static_cast<char>(c));
    } else {
      stem.push_back('%');
      stem.push_back(kHex[c >> 4]);
      stem.push_back(kHex[c & 0xF]);
    }
  }
  if (stem.empty()) stem = "%";  // not reachable from a subscriber (ids are never empty)
  if (stem.size() > kMaxStemBytes) {
    std::uint64_t hash = 14695981039346656037ULL;  // FNV-1a 64
    for (unsigned char c : client_id) {
      hash ^= c;
      hash *= 1099511628211ULL;
    }
    stem.resize(kMaxStemBytes - 17);
    // Do not leave half an escape at the cut.
    if (const std::size_t pct = stem.rfind('%');
        pct != std::string::npos && pct + 3 > stem.size()) {
      stem.resize(pct);
    }
    stem.push_back('~');
    for (int shift = 60; shift >= 0; shift -= 4) stem.push_back(kHex[(hash >> shift) & 0xF]);
  }
  return stem;
}

struct MqttSpool::Impl {
  SpoolOptions options;
  std::string prefix;  // dir + "/" + stem
  int lock_fd = -1;

  mutable std::mutex mu;
  std::map<std::uint64_t, Segment> segments;  // by seq; the last is appended to
  std::uint64_t read_seq = 0;                 // next record to Read
  std::uint64_t read_offset = 0;
  std::uint64_t commit_seq = 0;  // as in the commit file
  std::uint64_t commit_offset = 0;
  std::size_t unread = 0;
  std::size_t recovered = 0;
  std::string chunk;  // Read's buffer

  ~Impl() {
    for (auto& [seq, seg] : segments) {
      if (seg.fd >= 0) ::close(seg.fd);
    }
    if (lock_fd >= 0) ::close(lock_fd);  // releases the flock
  }

  std::string SegmentPath(std::uint64_t seq) const { return prefix + SegmentSuffix(seq); }
  std::string CommitPath() const { return prefix + ".commit"; }

  Status Lock() {
    const std::string path = prefix + ".lock";
    lock_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0) return IoError("open lock file", path, errno);
    if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      if (err != EWOULDBLOCK) return IoError("lock", path, err);
      std::string holder;
      int ignored = 0;
      if (ReadAt(lock_fd, 0, 32, &holder, &ignored)) {
        holder.erase(
            std::remove_if(holder.begin(), holder.end(), [](char c) { return c < '0' || c > '9'; }),
            holder.end());
      }
      ::close(lock_fd);
      lock_fd = -1;
      return Status::Unavailable("spool: '" + path + "' is locked by another subscriber" +
                                 (holder.empty() ? "" : " (pid " + holder + ")") +
                                 ": two subscribers cannot share client id '" + options.name +
                                 "' (give each its own client_id)");
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(lock_fd, 0) == 0) (void)!::pwrite(lock_fd, pid.data(), pid.size(), 0);
    return Status::OK();
  }

  Status ReadCommitFile(bool* present) {
    const std::string path = CommitPath();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOENT) {
        *present = false;
        return Status::OK();
      }
      return IoError("open", path, errno);
    }
    std::string text;
    int err = 0;
    const bool ok = ReadAt(fd, 0, kCommitFileBytes + 1, &text, &err);
    ::close(fd);
    if (!ok) return IoError("read", path, err);
    if (text.size() != kCommitFileBytes) {
      return CorruptionAt(path, 0,
                          "commit file has " + std::to_string(text.size()) + " bytes, expected " +
                              std::to_string(kCommitFileBytes));
    }
    if (std::memcmp(text.data(), kCommitMagic, sizeof(kCommitMagic)) != 0) {
      return CorruptionAt(path, 0, "not a spool commit file (bad magic)");
    }
    if (GetFixed32(text.data() + 24) != Crc32(text.data(), 24)) {
      return CorruptionAt(path, 24, "commit file checksum mismatch");
    }
    commit_seq = GetFixed64(text.data() + 8);
    commit_offset = GetFixed64(text.data() + 16);
    *present = true;
    return Status::OK();
  }

  Status WriteCommitFile(std::uint64_t seq, std::uint64_t offset) {
    std::string text(kCommitMagic, sizeof(kCommitMagic));
    PutFixed64(&text, seq);
    PutFixed64(&text, offset);
    PutFixed32(&text, Crc32(text.data(), text.size()));
    PutFixed32(&text, 0);
    const std::string tmp = CommitPath() + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return IoError("create", tmp, errno);
    std::size_t done = 0;
    while (done < text.size()) {
      const ssize_t w =
          ::pwrite(fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        const int err = w < 0 ? errno : EIO;
        ::close(fd);
        return IoError("write", tmp, err);
      }
      done += static_cast<std::size_t>(w);
    }
    if (options.sync && ::fdatasync(fd) != 0) {
      const int err = errno;
      ::close(fd);
      return IoError("sync", tmp, err);
    }
    ::close(fd);
    if (::rename(tmp.c_str(), CommitPath().c_str()) != 0) return IoError("rename", tmp, errno);
    if (options.sync) SyncDir(options.dir);
    return Status::OK();
  }

  // Creates segment `seq` with its header and makes it the one appended to.
  Status NewSegment(std::uint64_t seq) {
    Segment seg;
    seg.path = SegmentPath(seq);
    seg.fd = ::open(seg.path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (seg.fd < 0) return IoError("create", seg.path, errno);
    if (::ftruncate(seg.fd, 0) != 0) {
      const int err = errno;
      ::close(seg.fd);
      return IoError("truncate", seg.path, err);
    }
    int err = 0;
    if (!WriteAll(seg.fd, kSegmentMagic, sizeof(kSegmentMagic), &err) ||
        (options.sync && ::fdatasync(seg.fd) != 0 && (err = errno) != 0)) {
      ::close(seg.fd);
      ::unlink(seg.path.c_str());
      return IoError("write", seg.path, err);
    }
    if (options.sync) SyncDir(options.dir);
    seg.size = kHeaderBytes;
    segments[seq] = std::move(seg);
    return Status::OK();
  }

  // Validates segment `seq` from `start` (the header always), counts its
  // records into `count`; a torn tail of the last segment is truncated.
  Status Recover(std::uint64_t seq, std::uint64_t start, bool last, std::size_t* count) {
    Segment& seg = segments[seq];
    std::string data;
    int err = 0;
    struct stat st {};
    if (::fstat(seg.fd, &st) != 0) return IoError("stat", seg.path, errno);
    if (!ReadAt(seg.fd, 0, static_cast<std::size_t>(st.st_size), &data, &err)) {
      return IoError("read", seg.path, err);
    }
    seg.size = data.size();
    const auto truncate_to = [&](std::uint64_t size, const std::string& why) -> Status {
      log::Warn(kLog, "spool: " + seg.path + ": offset " + std::to_string(size) + ": dropped " +
                          why + " (" + std::to_string(data.size() - size) +
                          " bytes; never acknowledged, the broker sends it again)");
      if (::ftruncate(seg.fd, static_cast<off_t>(size)) != 0) {
        return IoError("truncate", seg.path, errno);
      }
      seg.size = size;
      return Status::OK();
    };
    if (data.size() < kHeaderBytes) {
      if (!last || std::memcmp(data.data(), kSegmentMagic, data.size()) != 0) {
        return CorruptionAt(seg.path, 0, "not a spool segment (short header)");
      }
      // Created, header cut short by a crash: rewrite it.
      if (!data.empty()) MH_RETURN_IF_ERROR(truncate_to(0, "a torn segment header"));
      if (!WriteAll(seg.fd, kSegmentMagic, sizeof(kSegmentMagic), &err)) {
        return IoError("write", seg.path, err);
      }
      seg.size = kHeaderBytes;
      return Status::OK();
    }
    if (std::memcmp(data.data(), kSegmentMagic, sizeof(kSegmentMagic)) != 0) {
      return CorruptionAt(seg.path, 0, "not a spool segment (bad magic)");
    }
    if (start < kHeaderBytes) start = kHeaderBytes;
    if (start > data.size()) {
      // The commit file is ahead of the data (a power loss without
      // spool_sync): those records were committed anyway.
      log::Warn(kLog, "spool: " + CommitPath() + " points to offset " + std::to_string(start) +
                          " of " + seg.path + ", which has " + std::to_string(data.size()) +
                          " bytes; starting at its end");
      start = data.size();
    }
    std::uint64_t pos = start;
    while (pos < data.size()) {
      const std::uint64_t left = data.size() - pos;
      const char* p = data.data() + pos;
      if (last && AllZero(p, left)) return truncate_to(pos, "an all-zero tail");
      if (left < kRecordHeaderBytes) {
        if (last) return truncate_to(pos, "a torn record");
        return CorruptionAt(seg.path, pos, "truncated record header");
      }
      const std::uint32_t length = GetFixed32(p);
      if (GetFixed32(p + 4) != ~length || length < kMinBodyBytes || length > kMaxBodyBytes) {
        return CorruptionAt(seg.path, pos,
                            "bad record header (length " + std::to_string(length) + ")");
      }
      if (left < kRecordHeaderBytes + length) {
        if (last) return truncate_to(pos, "a torn record");
        return CorruptionAt(seg.path, pos,
                            "record of " + std::to_string(length) + " bytes runs past the end");
      }
      if (GetFixed32(p + 8) != Crc32(p + kRecordHeaderBytes, length)) {
        return CorruptionAt(seg.path, pos, "record checksum mismatch");
      }
      if (GetFixed32(p + kRecordHeaderBytes + 8) > length - kMinBodyBytes) {
        return CorruptionAt(seg.path, pos, "topic length exceeds the record");
      }
      ++*count;
      pos += kRecordHeaderBytes + length;
    }
    return Status::OK();
  }

  Status OpenAndRecover() {
    std::error_code ec;
    std::filesystem::create_directories(options.dir, ec);
    if (ec) {
      return Status::IOError("spool: cannot create directory '" + options.dir +
                             "': " + ec.message());
    }
    ::chmod(options.dir.c_str(), 0700);  // best effort: messages may be private
    MH_RETURN_IF_ERROR(Lock());

    // Segments of this stem: "<stem>.<20 digits>.log".
    const std::string stem = std::filesystem::path(prefix).filename().string();
    for (const auto& entry : std::filesystem::directory_iterator(options.dir, ec)) {
      const std::string file = entry.path().filename().string();
      if (file.size() != stem.size() + 25 || file.compare(0, stem.size(), stem) != 0 ||
          file[stem.size()] != '.' || file.compare(file.size() - 4, 4, ".log") != 0) {
        continue;
      }
      const std::string digits = file.substr(stem.size() + 1, 20);
      if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        continue;
      }
      Segment seg;
      seg.path = options.dir + "/" + file;
      segments[std::stoull(digits)] = std::move(seg);
    }
    if (ec) return Status::IOError("spool: cannot list '" + options.dir + "': " + ec.message());

    bool have_commit = false;
    MH_RETURN_IF_ERROR(ReadCommitFile(&have_commit));
    // Segments wholly before the committed position: left over from a crash
    // between writing the commit file and deleting them.
    for (auto it = segments.begin();
         have_commit && it != segments.end() && it->first < commit_seq;) {
      ::unlink(it->second.path.c_str());
      it = segments.erase(it);
    }
    for (auto& [seq, seg] : segments) {
      seg.fd = ::open(seg.path.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
      if (seg.fd < 0) return IoError("open", seg.path, errno);
    }
    if (segments.empty()) {
      MH_RETURN_IF_ERROR(NewSegment(have_commit ? std::max<std::uint64_t>(commit_seq, 1) : 1));
      read_seq = segments.begin()->first;
      read_offset = kHeaderBytes;
    } else {
      read_seq = segments.begin()->first;
      read_offset = have_commit && read_seq == commit_seq ? commit_offset : kHeaderBytes;
      const std::uint64_t last = segments.rbegin()->first;
      for (auto& [seq, seg] : segments) {
        MH_RETURN_IF_ERROR(
            Recover(seq, seq == read_seq ? read_offset : kHeaderBytes, seq == last, &unread));
      }
      Segment& first = segments.begin()->second;
      read_offset = std::clamp<std::uint64_t>(read_offset, kHeaderBytes, first.size);
    }
    commit_seq = read_seq;
    commit_offset = read_offset;
    recovered = unread;
    return Status::OK();
  }

  // Moves the read position past the end of finished segments.
  void SkipFinishedSegments() {
    while (true) {
      auto it = segments.find(read_seq);
      if (it == segments.end() || read_offset < it->second.size) return;
      auto next = std::next(it);
      if (next == segments.end()) return;
      read_seq = next->first;
      read_offset = kHeaderBytes;
    }
  }
};

MqttSpool::MqttSpool(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
MqttSpool::~MqttSpool() = default;

Result<std::unique_ptr<MqttSpool>> MqttSpool::Open(const SpoolOptions& options) {
  if (options.dir.empty()) return Status::InvalidArgument("spool: no directory given");
  if (options.name.empty()) return Status::InvalidArgument("spool: no name (client id) given");
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->options.segment_bytes = std::max<std::uint64_t>(options.segment_bytes, kHeaderBytes + 1);
  impl->prefix = options.dir + "/" + SpoolFileStem(options.name);
  MH_RETURN_IF_ERROR(impl->OpenAndRecover());
  return std::unique_ptr<MqttSpool>(new MqttSpool(std::move(impl)));
}

Status MqttSpool::Append(std::string_view topic, std::string_view payload,
                         std::int64_t receive_time_ns) {
  const std::size_t body = kMinBodyBytes + topic.size() + payload.size();
  if (body > kMaxBodyBytes) {
    return Status::InvalidArgument("spool: message of " + std::to_string(payload.size()) +
                                   " bytes is too large");
  }
  std::string record;
  record.reserve(kRecordHeaderBytes + body);
  PutFixed32(&record, static_cast<std::uint32_t>(body));
  PutFixed32(&record, ~static_cast<std::uint32_t>(body));
  PutFixed32(&record, 0);  // crc, below
  PutFixed64(&record, static_cast<std::uint64_t>(receive_time_ns));
  PutFixed32(&record, static_cast<std::uint32_t>(topic.size()));
  record.append(topic);
  record.append(payload);
  const std::uint32_t crc = Crc32(record.data() + kRecordHeaderBytes, body);
  for (int i = 0; i < 4; ++i) record[8 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);

  Impl& im = *impl_;
  std::lock_guard lock(im.mu);
  auto last = std::prev(im.segments.end());
  if (last->second.size >= im.options.segment_bytes) {
    MH_RETURN_IF_ERROR(im.NewSegment(last->first + 1));
    last = std::prev(im.segments.end());
  }
  Segment& seg = last->second;
  int err = 0;
  if (!WriteAll(seg.fd, record.data(), record.size(), &err)) {
    // Cut a partial write off again, so the next record starts clean.
    (void)::ftruncate(seg.fd, static_cast<off_t>(seg.size));
    return IoError("append to", seg.path, err);
  }
  if (im.options.sync && ::fdatasync(seg.fd) != 0) {
    err = errno;
    (void)::ftruncate(seg.fd, static_cast<off_t>(seg.size));
    return IoError("sync", seg.path, err);
  }
  seg.size += record.size();
  ++im.unread;
  return Status::OK();
}

Result<std::vector<SpoolRecord>> MqttSpool::Read(std::size_t max_records) {
  Impl& im = *impl_;
  std::lock_guard lock(im.mu);
  std::vector<SpoolRecord> out;
  while (out.size() < max_records && im.unread > 0) {
    im.SkipFinishedSegments();
    auto it = im.segments.find(im.read_seq);
    if (it == im.segments.end() || im.read_offset >= it->second.size) break;  // not reachable
    const Segment& seg = it->second;
    const std::size_t want = static_cast<std::size_t>(
        std::min<std::uint64_t>(kReadChunkBytes, seg.size - im.read_offset));
    int err = 0;
    if (!ReadAt(seg.fd, im.read_offset, want, &im.chunk, &err)) {
      return IoError("read", seg.path, err);
    }
    std::size_t pos = 0;
    bool progressed = false;
    while (out.size() < max_records && im.unread > 0) {
      const std::uint64_t at = im.read_offset;
      if (im.chunk.size() - pos < kRecordHeaderBytes) break;
      const char* p = im.chunk.data() + pos;
      const std::uint32_t length = GetFixed32(p);
      if (GetFixed32(p + 4) != ~length || length < kMinBodyBytes || length > kMaxBodyBytes ||
          at + kRecordHeaderBytes + length > seg.size) {
        return CorruptionAt(seg.path, at,
                            "bad record header (length " + std::to_string(length) + ")");
      }
      if (im.chunk.size() - pos < kRecordHeaderBytes + length) {
        if (!progressed) {
          // A record larger than the chunk: read it whole.
          if (!ReadAt(seg.fd, at, kRecordHeaderBytes + length, &im.chunk, &err)) {
            return IoError("read", seg.path, err);
          }
          pos = 0;
          p = im.chunk.data();
          if (im.chunk.size() < kRecordHeaderBytes + length) {
            return CorruptionAt(seg.path, at, "record runs past the end");
          }
        } else {
          break;
        }
      }
      const char* b = p + kRecordHeaderBytes;
      if (GetFixed32(p + 8) != Crc32(b, length)) {
        return CorruptionAt(seg.path, at, "record checksum mismatch");
      }
      const std::uint32_t topic_len = GetFixed32(b + 8);
      if (topic_len > length - kMinBodyBytes) {
        return CorruptionAt(seg.path, at, "topic length exceeds the record");
      }
      SpoolRecord r;
      r.receive_time_ns = static_cast<std::int64_t>(GetFixed64(b));
      r.topic.assign(b + kMinBodyBytes, topic_len);
      AssignPayload(r.payload, {b + kMinBodyBytes + topic_len, length - kMinBodyBytes - topic_len});
      out.push_back(std::move(r));
      pos += kRecordHeaderBytes + length;
      im.read_offset += kRecordHeaderBytes + length;
      --im.unread;
      progressed = true;
    }
    if (!progressed) {
      return CorruptionAt(seg.path, im.read_offset, "truncated record header");
    }
  }
  if (im.chunk.capacity() > 4 * kReadChunkBytes) std::string().swap(im.chunk);
  return out;
}

Status MqttSpool::Commit() {
  Impl& im = *impl_;
  std::lock_guard lock(im.mu);
  im.SkipFinishedSegments();
  if (im.read_seq == im.commit_seq && im.read_offset == im.commit_offset) return Status::OK();
  MH_RETURN_IF_ERROR(im.WriteCommitFile(im.read_seq, im.read_offset));
  im.commit_seq = im.read_seq;
  im.commit_offset = im.read_offset;
  for (auto it = im.segments.begin(); it != im.segments.end() && it->first < im.commit_seq;) {
    ::close(it->second.fd);
    if (::unlink(it->second.path.c_str()) != 0 && errno != ENOENT) {
      log::Warn(kLog, "spool: cannot delete '" + it->second.path + "': " + ErrnoText(errno));
    }
    it = im.segments.erase(it);
  }
  return Status::OK();
}

std::size_t MqttSpool::unread() const {
  std::lock_guard lock(impl_->mu);
  return impl_->unread;
}

std::size_t MqttSpool::recovered() const {
  std::lock_guard lock(impl_->mu);
  return impl_->recovered;
}

std::size_t MqttSpool::segment_count() const {
  std::lock_guard lock(impl_->mu);
  return impl_->segments.size();
}

std::string MqttSpool::path_prefix() const { return impl_->prefix; }

}  // namespace mh::transport::mqtt
