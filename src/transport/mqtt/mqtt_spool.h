// MqttSpool: the MQTT subscriber's durable local log of received messages,
// so that nothing the subscriber acknowledged to the broker is lost when the
// process crashes or is killed (kill -9). No libmosquitto here: unit-tested
// on plain files (tests/transport/mqtt_spool_test.cc).
//
// Contract. Append() returns once the record is written to the segment file
// with write(2) (and fdatasync(2) when `sync`): from then on it survives a
// crash of the process (page cache), and with `sync` a power loss too. Read()
// hands out records in append order, starting after the committed position;
// Commit() durably records that everything Read so far is processed: it is
// never handed out again. After a restart (Open of the same dir and name),
// Read() first returns every record after the committed position (possibly
// some that were already read but not committed: duplicates, never loss).
//
// Files, in `dir`, for name N (escaped, see SpoolFileStem):
//   N.lock                 flock()ed while open: one spool user at a time
//   N.commit               the committed position (written to N.commit.tmp,
//                          then renamed)
//   N.<20-digit seq>.log   segments: an 8-byte magic "MHSPOOL1", then
//                          records: fixed32 body length, fixed32 its bitwise
//                          complement, fixed32 CRC-32 (zlib) of the body,
//                          body = fixed64 receive time (ns since
//                          the Unix epoch), fixed32 topic length, topic,
//                          payload (little-endian)
// A segment is closed once it holds at least segment_bytes; segments wholly
// before the committed position are deleted by Commit(), so the disk holds
// about the uncommitted records plus one segment.
//
// Recovery (Open): an incomplete record at the end of the last segment (a
// write cut short by a crash: it was never acknowledged, the broker sends the
// message again) is dropped and the file truncated; so is an all-zero tail.
// Any other damage (bad magic, bad length, CRC mismatch, a torn record in an
// older segment, an unreadable commit file) is Corruption naming the file
// and byte offset; nothing is deleted then.
//
// Thread safety: all methods may be called from any thread; an internal
// mutex serializes them. The subscriber appends from the network thread and
// reads and commits from the user thread.
#ifndef MH_TRANSPORT_MQTT_MQTT_SPOOL_H_
#define MH_TRANSPORT_MQTT_MQTT_SPOOL_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace mh::transport::mqtt {

struct SpoolOptions {
  // Directory of the spool; created (mode 0700, with parents) if missing.
  std::string dir;
  // Whose spool: the MQTT client id. Part of every file name (escaped).
  std::string name;
  // fdatasync after every Append: survives power loss, costs a disk flush
  // per message. false: survives a crash of the process, not of the OS.
  bool sync = false;
  // A segment is closed and a new one started once it holds this many bytes.
  std::uint64_t segment_bytes = 16 << 20;
};

// One spooled message.
struct SpoolRecord {
  std::string topic;
  std::string payload;
  std::int64_t receive_time_ns = 0;  // wall clock at Append, ns since the epoch
};

class MqttSpool {
 public:
  // Opens (or creates) the spool and recovers it (see above). Unavailable
  // when another MqttSpool, in this or another process, holds the lock
  // (the message names the lock file and the holder's pid); Corruption
  // naming file and offset for damaged files; IOError for file system
  // errors (naming the path).
  static Result<std::unique_ptr<MqttSpool>> Open(const SpoolOptions& options);
  ~MqttSpool();
  MqttSpool(const MqttSpool&) = delete;
  MqttSpool& operator=(const MqttSpool&) = delete;

  // Appends one record (see the contract above). IOError (naming the file)
  // when it cannot be written; the spool is then unchanged and usable.
  Status Append(std::string_view topic, std::string_view payload, std::int64_t receive_time_ns);

  // Up to `max_records` records after the last one read (none when all are
  // read). Corruption (file and offset) if a record no longer checks out.
  Result<std::vector<SpoolRecord>> Read(std::size_t max_records);

  // Records that everything Read so far is processed, and deletes segments
  // that hold nothing newer. IOError when the commit file cannot be
  // written: the previous commit stays in force.
  Status Commit();

  // Records appended (or recovered) and not yet Read.
  std::size_t unread() const;
  // Records after the committed position found by Open.
  std::size_t recovered() const;
  // Segment files on disk now.
  std::size_t segment_count() const;
  // "<dir>/<stem>": the common prefix of this spool's files.
  std::string path_prefix() const;

 private:
  struct Impl;
  explicit MqttSpool(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The file-name stem for a client id: letters, digits, '-' and '_' kept,
// every other byte as "%XX" (so no '/', no "..", no leading '.'); ids whose
// stem would exceed 160 bytes are cut and get "~" + 16 hex digits of a hash
// of the whole id, so distinct ids keep distinct stems.
std::string SpoolFileStem(std::string_view client_id);

}  // namespace mh::transport::mqtt

#endif  // MH_TRANSPORT_MQTT_MQTT_SPOOL_H_
