#include "sim/recording.h"

#include <charconv>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "core/strings.h"
#include "core/time_util.h"

namespace mh::sim {
namespace {

constexpr std::size_t kChunkBytes = 1 << 20;
// Room for the longest row: timestamp, ids, three values, separators.
constexpr std::size_t kMaxValueChars = 28;

// Writes `value` (0 <= value < 10^digits) as exactly `digits` digits.
inline char* AppendFixedDigits(std::uint64_t value, int digits, char* p) {
  for (int i = digits - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  return p + digits;
}

// A growing text chunk flushed to a sink when nearly full.
class ChunkBuffer {
 public:
  explicit ChunkBuffer(const ChunkSink& sink) : sink_(sink), buf_(new char[kChunkBytes]) {}
  // Makes sure `bytes` can be appended; flushes if needed.
  Status Reserve(std::size_t bytes) {
    if (used_ + bytes <= kChunkBytes) return Status::OK();
    return Flush();
  }
  Status Flush() {
    if (used_ == 0) return Status::OK();
    Status s = sink_(std::string_view(buf_.get(), used_));
    used_ = 0;
    return s;
  }
  char* end() { return buf_.get() + used_; }
  void set_end(char* p) { used_ = static_cast<std::size_t>(p - buf_.get()); }
  void Append(std::string_view text) {
    std::memcpy(end(), text.data(), text.size());
    used_ += text.size();
  }

 private:
  const ChunkSink& sink_;
  std::unique_ptr<char[]> buf_;
  std::size_t used_ = 0;
};

}  // namespace

std::int64_t SampleTimeNs(std::int64_t start_ns, std::int64_t index, double sample_rate_hz) {
  if (sample_rate_hz == std::floor(sample_rate_hz) && sample_rate_hz <= 1e9 && index >= 0) {
    // Exact integer arithmetic: index = q * fs + r.
    const auto fs = static_cast<std::int64_t>(sample_rate_hz);
    const std::int64_t q = index / fs;
    const std::int64_t r = index % fs;
    return start_ns + q * 1000000000 + (r * 2000000000 + fs) / (2 * fs);
  }
  const long double offset =
      static_cast<long double>(index) * 1e9L / static_cast<long double>(sample_rate_hz);
  return start_ns + static_cast<std::int64_t>(std::llroundl(offset));
}

char* AppendMicroG(double g, char* p) {
  constexpr double kMagic = 6755399441055744.0;  // 1.5 * 2^52: round to integer
  const auto k = static_cast<std::int64_t>((g * 1e6 + kMagic) - kMagic);
  std::uint64_t mag;
  if (k < 0) {
    *p++ = '-';
    mag = static_cast<std::uint64_t>(-k);
  } else {
    mag = static_cast<std::uint64_t>(k);
  }
  auto [end, ec] = std::to_chars(p, p + 20, mag / 1000000);
  p = end;
  *p++ = '.';
  return AppendFixedDigits(mag % 1000000, 6, p);
}

char* TimestampFormatter::Append(std::int64_t ns, char* p) {
  std::int64_t second = ns / 1000000000;
  std::int64_t frac = ns % 1000000000;
  if (frac < 0) {
    frac += 1000000000;
    second -= 1;
  }
  if (second != cached_second_) {
    const std::string text = FormatRfc3339(second * 1000000000, 0);  // "...SSZ"
    std::memcpy(prefix_, text.data(), 19);
    cached_second_ = second;
  }
  std::memcpy(p, prefix_, 19);
  p[19] = '.';
  AppendFixedDigits(static_cast<std::uint64_t>(frac), 9, p + 20);
  p[29] = 'Z';
  return p + kLength;
}

namespace {

// The simulators of a plant's machines, generating kBlock samples of each
// axis of every machine at a time (the order both writers below need).
class BlockSource {
 public:
  static constexpr std::size_t kBlock = 4096;
  explicit BlockSource(const std::vector<MachineConfig>& machines)
      : samples_(machines.size() * 3 * kBlock) {
    for (const MachineConfig& config : machines) {
      sims_.push_back(std::make_unique<MachineSimulator>(config));
    }
  }
  // Generates samples [first, first + n) of every machine, n = min(kBlock,
  // total - first); returns n.
  std::size_t Generate(std::int64_t first, std::int64_t total) {
    const auto n = static_cast<std::size_t>(
        std::min<std::int64_t>(static_cast<std::int64_t>(kBlock), total - first));
    for (std::size_t m = 0; m < sims_.size(); ++m) {
      double* base = samples_.data() + m * 3 * kBlock;
      sims_[m]->Generate(n, base, base + kBlock, base + 2 * kBlock);
    }
    return n;
  }
  // The current block's samples of axis `axis` (0..2) of machine `m`.
  const double* Axis(std::size_t m, std::size_t axis) const {
    return samples_.data() + (m * 3 + axis) * kBlock;
  }

 private:
  std::vector<std::unique_ptr<MachineSimulator>> sims_;
  std::vector<double> samples_;
};

}  // namespace

Status WriteDataCsv(const std::vector<MachineConfig>& machines, std::int64_t start_ns,
                    std::int64_t samples_per_machine, const ChunkSink& sink) {
  ChunkBuffer out(sink);
  out.Append("timestamp,machine_id,sensor_id,ax,ay,az\n");
  if (machines.empty() || samples_per_machine <= 0) {
    return out.Flush().WithContext("writing data");
  }
  const double fs = machines.front().sample_rate_hz;
  const std::size_t count = machines.size();
  BlockSource source(machines);
  std::vector<std::string> prefixes;  // ",m1,m1-de,"
  std::size_t max_prefix = 0;
  for (const MachineConfig& config : machines) {
    prefixes.push_back("," + config.machine_id + "," + config.sensor_id + ",");
    max_prefix = std::max(max_prefix, prefixes.back().size());
  }
  const std::size_t max_row = TimestampFormatter::kLength + max_prefix + 3 * kMaxValueChars + 3;
  TimestampFormatter timestamps;
  char stamp[TimestampFormatter::kLength];
  for (std::int64_t first = 0; first < samples_per_machine;
       first += static_cast<std::int64_t>(BlockSource::kBlock)) {
    const std::size_t n = source.Generate(first, samples_per_machine);
    for (std::size_t i = 0; i < n; ++i) {
      timestamps.Append(SampleTimeNs(start_ns, first + static_cast<std::int64_t>(i), fs), stamp);
      for (std::size_t m = 0; m < count; ++m) {
        Status s = out.Reserve(max_row);
        if (!s.ok()) return s.WithContext("writing data");
        char* p = out.end();
        std::memcpy(p, stamp, sizeof(stamp));
        p += sizeof(stamp);
        std::memcpy(p, prefixes[m].data(), prefixes[m].size());
        p += prefixes[m].size();
        p = AppendMicroG(source.Axis(m, 0)[i], p);
        *p++ = ',';
        p = AppendMicroG(source.Axis(m, 1)[i], p);
        *p++ = ',';
        p = AppendMicroG(source.Axis(m, 2)[i], p);
        *p++ = '\n';
        out.set_end(p);
      }
    }
  }
  return out.Flush().WithContext("writing data");
}

Status GenerateData(const std::vector<MachineConfig>& machines, std::int64_t start_ns,
                    std::int64_t samples_per_machine, const BatchSink& sink) {
  if (machines.empty() || samples_per_machine <= 0) return Status::OK();
  const double fs = machines.front().sample_rate_hz;
  const std::size_t count = machines.size();
  BlockSource source(machines);
  const std::vector<TableColumnInfo> schema = {
      {"timestamp", ValueKind::kTimestamp, 9}, {"machine_id", ValueKind::kString, 9},
      {"sensor_id", ValueKind::kString, 9},    {"ax", ValueKind::kDouble, 9},
      {"ay", ValueKind::kDouble, 9},           {"az", ValueKind::kDouble, 9}};
  TableBatch batch;
  for (std::int64_t first = 0; first < samples_per_machine;
       first += static_cast<std::int64_t>(BlockSource::kBlock)) {
    const std::size_t n = source.Generate(first, samples_per_machine);
    batch.Reset(first * static_cast<std::int64_t>(count), schema);
    batch.rows = n * count;
    for (TableColumn& c : batch.columns) c.valid.assign(batch.rows, 1);
    for (std::size_t i = 0; i < n; ++i) {
      const std::int64_t t = SampleTimeNs(start_ns, first + static_cast<std::int64_t>(i), fs);
      for (std::size_t m = 0; m < count; ++m) {
        batch.columns[0].ints.push_back(t);
        batch.columns[1].strings.push_back(machines[m].machine_id);
        batch.columns[2].strings.push_back(machines[m].sensor_id);
        // Samples are on the kLsbG grid: the CSV's 6-decimal text reads
        // back to these very doubles.
        for (std::size_t axis = 0; axis < 3; ++axis) {
          batch.columns[3 + axis].doubles.push_back(source.Axis(m, axis)[i]);
        }
      }
    }
    MH_RETURN_IF_ERROR(sink(batch).WithContext("writing data"));
  }
  return Status::OK();
}

Status WriteLabelsCsv(const std::vector<MachineConfig>& machines, std::int64_t start_ns,
                      double duration_s, const ChunkSink& sink) {
  ChunkBuffer out(sink);
  out.Append("timestamp,machine_id,fault,severity\n");
  TimestampFormatter timestamps;
  for (std::int64_t k = 0;; ++k) {
    // k / 10 rather than k * 0.1: exact decimal instants (2.7, not 2.7000000000000002).
    const double t_s = static_cast<double>(k) / (1.0 / kLabelIntervalS);
    if (!(t_s < duration_s)) break;
    char stamp[TimestampFormatter::kLength];
    timestamps.Append(start_ns + k * static_cast<std::int64_t>(kLabelIntervalS * 1e9), stamp);
    for (const MachineConfig& config : machines) {
      const double severity = FaultSeverity(config.fault, t_s);
      std::string row(stamp, sizeof(stamp));
      row += ',';
      row += config.machine_id;
      row += ',';
      row += severity > 0 ? FaultKindName(config.fault.kind) : "none";
      row += ',';
      row += FormatDouble(severity);
      row += '\n';
      Status s = out.Reserve(row.size());
      if (!s.ok()) return s.WithContext("writing labels");
      out.Append(row);
    }
  }
  return out.Flush().WithContext("writing labels");
}

}  // namespace mh::sim
