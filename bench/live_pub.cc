// live-pub: publishes the waveform events of N sensors in real time, as
// sensors would (tools/live_bench.sh: `run --from mqtt://` with 100 sensors).
//
//   live-pub --to ADDRESS [--sensors 100] [--seconds 60] [--samples 2560]
//            [--channels 3] [--fs 25600] [--form json3|json|f64|f32|i16]
//            [--variants 8]
//
// Every samples/fs seconds (0.1 s by default) one event per sensor: 3 x 2560
// samples of bench::FillWaveform (a 50 Hz sine plus noise), stamped with the
// wall time of its first sample (the capture just ended, so the stamp is
// samples/fs in the past), so that each sensor's events follow each other
// without a gap. One Publish call per tick (QoS 1 returns once the broker
// acknowledged every message). Forms: json (full doubles, ~150 kB an event),
// json3 (rounded to 3 decimals, ~49 kB), f64 / f32 / i16 (the binary payload
// of codec/waveform_binary.h; i16 with scale 0.001 g, the precision of json3).
// The samples are drawn once, `variants` sets of them, and reused (only the
// sensor id and the time change), so the publisher needs little CPU.
//
// At the end one line: events published, bytes, ticks, how many ticks
// started late (the publisher fell behind) and the largest lateness.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "codec/waveform_binary.h"
#include "core/time_util.h"
#include "core/uri.h"
#include "replay/event_json.h"
#include "transport/mqtt/mqtt_transport.h"
#include "waveform_event.h"

namespace mh {
namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string to;
  int sensors = 100;
  double seconds = 60;
  int samples = 2560;
  int channels = 3;
  double fs = 25600;
  std::string form = "json3";
  int variants = 8;
};

[[noreturn]] void Usage(const std::string& why) {
  std::fprintf(stderr,
               "live-pub: %s\nusage: live-pub --to ADDRESS [--sensors N] [--seconds S] "
               "[--samples N] [--channels N] [--fs HZ] [--form json3|json|f64|f32|i16] "
               "[--variants N]\n",
               why.c_str());
  std::exit(2);
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (i + 1 >= argc) Usage("missing value of " + k);
    const std::string v = argv[++i];
    if (k == "--to") {
      a.to = v;
    } else if (k == "--sensors") {
      a.sensors = std::atoi(v.c_str());
    } else if (k == "--seconds") {
      a.seconds = std::atof(v.c_str());
    } else if (k == "--samples") {
      a.samples = std::atoi(v.c_str());
    } else if (k == "--channels") {
      a.channels = std::atoi(v.c_str());
    } else if (k == "--fs") {
      a.fs = std::atof(v.c_str());
    } else if (k == "--form") {
      a.form = v;
    } else if (k == "--variants") {
      a.variants = std::atoi(v.c_str());
    } else {
      Usage("unknown option " + k);
    }
  }
  if (a.to.empty()) Usage("--to is required");
  if (a.sensors < 1 || a.samples < 4 || a.channels < 1 || a.channels > 3 || a.fs <= 0 ||
      a.variants < 1 || a.seconds <= 0) {
    Usage("bad value");
  }
  if (a.form != "json" && a.form != "json3" && a.form != "f64" && a.form != "f32" &&
      a.form != "i16") {
    Usage("--form: expected json3, json, f64, f32 or i16");
  }
  return a;
}

// One set of samples, ready to be stamped: for JSON the text after the
// event's head (`,"fs":...,"ax":[...]}`), for binary the channels.
struct Variant {
  std::string json_tail;
  std::vector<std::vector<double>> samples;
};

class Publisher {
 public:
  explicit Publisher(Args a) : a_(std::move(a)) {
    const std::vector<std::string> all = {"ax", "ay", "az"};
    names_.assign(all.begin(), all.begin() + a_.channels);
    std::mt19937_64 rng(7);
    const bool json = a_.form == "json" || a_.form == "json3";
    for (int v = 0; v < a_.variants; ++v) {
      Variant var;
      var.samples.assign(a_.channels, std::vector<double>(a_.samples));
      bench::FillWaveform(rng, a_.form == "json" || a_.form == "f64" ? -1 : 3, var.samples);
      if (json) {
        std::string full;
        replay::AppendWaveformEventJson({"x", 0, a_.fs, names_, var.samples}, &full);
        var.json_tail = full.substr(full.find(",\"fs\":"));
      }
      variants_.push_back(std::move(var));
    }
  }

  void Message(int sensor, std::int64_t t_ns, int variant, transport::OutgoingMessage* m) const {
    m->key = SensorId(sensor);
    m->payload.clear();
    const Variant& var = variants_[variant];
    if (a_.form == "json" || a_.form == "json3") {
      // The head as the encoder writes it, then the prepared samples.
      std::string head;
      replay::AppendWaveformEventJson({m->key, static_cast<double>(t_ns) / 1e9, a_.fs, {}, {}},
                                      &head);
      m->payload.append(head, 0, head.find(",\"fs\":"));
      m->payload.append(var.json_tail);
      return;
    }
    codec::WaveformHeader h;
    h.sensor_id = m->key;
    h.has_timestamp = true;
    h.timestamp_ns = t_ns;
    h.fs_hz = a_.fs;
    h.type = a_.form == "f64"   ? codec::SampleType::kFloat64
             : a_.form == "f32" ? codec::SampleType::kFloat32
                                : codec::SampleType::kInt16;
    if (h.type == codec::SampleType::kInt16) h.scale = 0.001;
    const Status s = codec::AppendWaveformBinary(h, names_, var.samples, codec::kMaxWaveformSamples,
                                                 &m->payload);
    if (!s.ok()) {
      std::fprintf(stderr, "live-pub: encode: %s\n", s.ToString().c_str());
      std::exit(1);
    }
  }

  int Run() {
    auto uri = ParseUri(a_.to);
    if (!uri.ok()) Usage(uri.status().ToString());
    auto pub = transport::mqtt::NewMqttPublisher(*uri);
    if (!pub.ok()) {
      std::fprintf(stderr, "live-pub: %s\n", pub.status().ToString().c_str());
      return 1;
    }
    const double period_s = a_.samples / a_.fs;
    const auto period =
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(period_s));
    const long ticks = std::lround(a_.seconds / period_s);
    const std::int64_t period_ns = std::llround(period_s * 1e9);
    std::vector<transport::OutgoingMessage> batch(a_.sensors);
    const auto start = Clock::now();
    // Event time of tick 0's first sample: one period before now.
    const std::int64_t t0_ns = WallNowNs() - period_ns;
    long late = 0;
    double max_late_s = 0;
    std::size_t bytes = 0;
    for (long k = 0; k < ticks; ++k) {
      const auto due = start + k * period;
      std::this_thread::sleep_until(due);
      const double behind = std::chrono::duration<double>(Clock::now() - due).count();
      max_late_s = std::max(max_late_s, behind);
      if (behind > period_s) ++late;
      for (int s = 0; s < a_.sensors; ++s) {
        Message(s, t0_ns + k * period_ns, static_cast<int>((k + s) % a_.variants), &batch[s]);
        bytes += batch[s].payload.size();
      }
      const Status st = (*pub)->Publish(batch);
      if (!st.ok()) {
        std::fprintf(stderr, "live-pub: publish: %s\n", st.ToString().c_str());
        return 1;
      }
    }
    const double wall = std::chrono::duration<double>(Clock::now() - start).count();
    const Status c = (*pub)->Close();
    if (!c.ok()) std::fprintf(stderr, "live-pub: close: %s\n", c.ToString().c_str());
    std::printf(
        "live-pub: %ld events (%d sensors x %ld ticks of %.3f s, form %s, %d x %d samples, "
        "%.1f kB an event), %.1f MB in %.2f s wall; %ld ticks started more than a period late, "
        "largest lateness %.3f s\n",
        ticks * a_.sensors, a_.sensors, ticks, period_s, a_.form.c_str(), a_.channels, a_.samples,
        static_cast<double>(bytes) / static_cast<double>(ticks * a_.sensors) / 1e3,
        static_cast<double>(bytes) / 1e6, wall, late, max_late_s);
    return 0;
  }

 private:
  static std::string SensorId(int i) {
    char id[16];
    std::snprintf(id, sizeof id, "s%03d", i);
    return id;
  }

  Args a_;
  std::vector<std::string> names_;
  std::vector<Variant> variants_;
};

}  // namespace
}  // namespace mh

int main(int argc, char** argv) { return mh::Publisher(mh::ParseArgs(argc, argv)).Run(); }
