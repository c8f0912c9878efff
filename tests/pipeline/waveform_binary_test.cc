// The binary waveform payload (codec/waveform_binary.h) through the one
// decoder the pipeline uses (pipeline::EventDecoder): round trips, equality
// with the JSON form of the same event, and every refusal naming its field
// and byte offset.
#include "codec/waveform_binary.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/strings.h"
#include "pipeline/event_decoder.h"

namespace mh::pipeline {
namespace {

using codec::SampleType;
using ::testing::HasSubstr;

struct Event {
  codec::WaveformHeader header;
  std::vector<std::string> names;
  std::vector<std::vector<double>> channels;
};

Event MakeEvent(SampleType type, std::size_t n = 257) {
  Event e;
  e.header.sensor_id = "pump-7 \xc3\xa9";  // UTF-8
  e.header.has_timestamp = true;
  e.header.timestamp_ns = 1761519890123456789;
  e.header.fs_hz = 25600;
  e.header.type = type;
  e.header.scale = type == SampleType::kInt16 ? 1.0 / 1024 : 1.0;
  e.names = {"ax", "ay", "az"};
  std::mt19937_64 rng(7);
  std::normal_distribution<double> noise(0, 3);
  e.channels.assign(3, std::vector<double>(n));
  for (auto& ch : e.channels) {
    for (double& v : ch) v = noise(rng);
  }
  return e;
}

std::string Encode(const Event& e) {
  std::string out;
  const Status s =
      codec::AppendWaveformBinary(e.header, e.names, e.channels, kMaxSamplesPerChannel, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

Status DecodeStatus(const std::string& payload) {
  EventDecoder d;
  return d.Decode(payload);
}

TEST(WaveformBinary, Float64RoundTripIsExact) {
  const Event e = MakeEvent(SampleType::kFloat64);
  const std::string p = Encode(e);
  EXPECT_TRUE(codec::IsWaveformBinary(p));
  // Header, id, names, samples: nothing else.
  EXPECT_EQ(p.size(), 40 + 2 + e.header.sensor_id.size() + 3 * 4 + 3 * 257 * 8);
  EventDecoder d;
  ASSERT_TRUE(d.Decode(p).ok()) << d.Decode(p).ToString();
  const DecodedEvent& ev = d.event();
  EXPECT_EQ(ev.kind, EventKind::kWaveform);
  EXPECT_EQ(ev.sensor_id, e.header.sensor_id);
  EXPECT_TRUE(ev.has_timestamp);
  EXPECT_EQ(ev.timestamp_ns, 1761519890123456789);
  EXPECT_EQ(ev.fs_hz, 25600);
  ASSERT_EQ(ev.channel_names.size(), 3u);
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_EQ(ev.channel_names[c], e.names[c]);
    EXPECT_EQ(ev.channels[c], e.channels[c]);
  }
  EXPECT_TRUE(ev.feature_keys.empty());
}

TEST(WaveformBinary, Float32RoundsToNearestFloat) {
  const Event e = MakeEvent(SampleType::kFloat32);
  EventDecoder d;
  ASSERT_TRUE(d.Decode(Encode(e)).ok());
  for (std::size_t c = 0; c < 3; ++c) {
    for (std::size_t k = 0; k < e.channels[c].size(); ++k) {
      ASSERT_EQ(d.event().channels[c][k],
                static_cast<double>(static_cast<float>(e.channels[c][k])));
    }
  }
}

TEST(WaveformBinary, Int16IsRawTimesScale) {
  Event e = MakeEvent(SampleType::kInt16);
  e.channels[0][0] = 31.99;  // 32758 / 1024 after rounding
  EventDecoder d;
  ASSERT_TRUE(d.Decode(Encode(e)).ok());
  for (std::size_t c = 0; c < 3; ++c) {
    for (std::size_t k = 0; k < e.channels[c].size(); ++k) {
      const double raw = std::nearbyint(e.channels[c][k] * 1024);
      ASSERT_EQ(d.event().channels[c][k], raw / 1024) << c << " " << k;
    }
  }
  EXPECT_EQ(d.event().channels[0][0], 32758.0 / 1024);
  // Outside int16: the encoder refuses, naming the sample.
  e.channels[1][5] = 40;
  std::string out = "keep";
  const Status s = codec::AppendWaveformBinary(e.header, e.names, e.channels, 1000, &out);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_THAT(s.message(), HasSubstr("channel 'ay': sample 5"));
  EXPECT_EQ(out, "keep");
}

TEST(WaveformBinary, NoTimestampAndNamesOutliveThePayload) {
  Event e = MakeEvent(SampleType::kFloat64, 4);
  e.header.has_timestamp = false;
  e.header.timestamp_ns = 99;  // not written without the flag
  EventDecoder d;
  {
    const std::string p = Encode(e);
    ASSERT_TRUE(d.Decode(p).ok());
  }
  EXPECT_FALSE(d.event().has_timestamp);
  EXPECT_EQ(d.event().timestamp_ns, 0);
  EXPECT_EQ(d.event().channel_names[2], "az");
}

// The same event as JSON (17 significant digits, as replay writes it) and as
// binary float64 decodes to the same DecodedEvent waveform fields.
TEST(WaveformBinary, EqualsTheJsonFormOfTheSameEvent) {
  Event e = MakeEvent(SampleType::kFloat64, 2560);
  e.header.timestamp_ns = 1761519890250000000;  // JSON seconds keep microseconds
  std::string json = "{\"sensor_id\":";
  AppendJsonString(e.header.sensor_id, &json);
  json += ",\"timestamp\":1761519890.25,\"fs\":25600";
  for (std::size_t c = 0; c < 3; ++c) {
    json += ",";
    AppendJsonString(e.names[c], &json);
    json += ":[";
    for (std::size_t k = 0; k < e.channels[c].size(); ++k) {
      if (k) json += ",";
      AppendJsonNumber(e.channels[c][k], &json);
    }
    json += "]";
  }
  json += "}";
  EventDecoder from_json;
  EventDecoder from_binary;
  ASSERT_TRUE(from_json.Decode(json).ok());
  ASSERT_TRUE(from_binary.Decode(Encode(e)).ok());
  const DecodedEvent& a = from_json.event();
  const DecodedEvent& b = from_binary.event();
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.sensor_id, b.sensor_id);
  EXPECT_EQ(a.has_timestamp, b.has_timestamp);
  EXPECT_EQ(a.timestamp_ns, b.timestamp_ns);
  EXPECT_EQ(a.fs_hz, b.fs_hz);
  ASSERT_EQ(a.channel_names.size(), b.channel_names.size());
  for (std::size_t c = 0; c < 3; ++c) {
    EXPECT_EQ(a.channel_names[c], b.channel_names[c]);
    EXPECT_EQ(a.channels[c], b.channels[c]);
  }
  // A decoder alternates between the forms without leftovers.
  ASSERT_TRUE(from_json.Decode(Encode(MakeEvent(SampleType::kFloat32, 3))).ok());
  EXPECT_EQ(from_json.event().channels[0].size(), 3u);
  ASSERT_TRUE(from_binary.Decode(json).ok());
  EXPECT_EQ(from_binary.event().channels[0], e.channels[0]);
}

TEST(WaveformBinary, LongOrInvalidErrorReasonsStayBoundedAndValid) {
  std::string p;
  codec::AppendWaveformError(std::string(10000, 'r') + "\xff", &p);
  EXPECT_LE(p.size(), 4u + 4096u);
  const Status s = DecodeStatus(p);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_THAT(s.message(), HasSubstr("source error: 'rrrr"));
  EXPECT_THAT(s.message(), HasSubstr("...' (8987 more bytes)"));
  EXPECT_EQ(FindInvalidUtf8(s.message()), -1);
}

TEST(WaveformBinary, ErrorRecordCarriesTheSourceReason) {
  std::string p;
  codec::AppendWaveformError("dir: /data/m1/acc_3.csv: row 7: column 'x' is null", &p);
  EXPECT_TRUE(codec::IsWaveformBinary(p));
  const Status s = DecodeStatus(p);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(s.message(), "source error: dir: /data/m1/acc_3.csv: row 7: column 'x' is null");
}

// Byte offsets of the fixed header (docs/transports.md).
template <typename T>
void Patch(std::string& p, std::size_t offset, T value) {
  std::memcpy(p.data() + offset, &value, sizeof(T));
}

struct BadCase {
  const char* name;
  void (*mutate)(std::string&);
  const char* expected;  // substring of the message
};

// Offsets below: id "pump-7 \xc3\xa9" is 9 bytes at 42..50, channel 0's name
// length at 51, its text at 53.
const BadCase kBadCases[] = {
    {"truncated header", [](std::string& p) { p.resize(20); }, "byte 20: header: truncated"},
    {"empty after magic", [](std::string& p) { p.resize(4); }, "header: truncated"},
    {"version", [](std::string& p) { Patch<std::uint8_t>(p, 4, 2); }, "byte 4: version: 2"},
    {"sample type", [](std::string& p) { Patch<std::uint8_t>(p, 5, 9); }, "byte 5: sample type: 9"},
    {"flags", [](std::string& p) { Patch<std::uint8_t>(p, 6, 3); }, "byte 6: flags"},
    {"reserved", [](std::string& p) { Patch<std::uint8_t>(p, 7, 1); }, "byte 7: reserved"},
    {"no channel", [](std::string& p) { Patch<std::uint32_t>(p, 8, 0); },
     "byte 8: channel count: 0"},
    {"too many channels", [](std::string& p) { Patch<std::uint32_t>(p, 8, 0xffffffffu); },
     "byte 8: channel count: 4294967295"},
    {"no sample", [](std::string& p) { Patch<std::uint32_t>(p, 12, 0); },
     "byte 12: samples per channel: 0"},
    {"samples over the limit", [](std::string& p) { Patch<std::uint32_t>(p, 12, (1u << 22) + 1); },
     "byte 12: samples per channel: 4194305, expected 1..4194304"},
    // The size is computed in 64 bits from the counts before any sample is
    // read (a 32-bit product of 3 x 2^22 x 8 would still fit; 256 channels
    // would wrap, but 256 names cannot fit in this payload).
    {"samples at the limit but not in the payload",
     [](std::string& p) { Patch<std::uint32_t>(p, 12, 1u << 22); },
     "byte 63: samples: 3 x 4194304 samples need 100663296 bytes, 240 left (truncated)"},
    {"names beyond the payload", [](std::string& p) { Patch<std::uint32_t>(p, 8, 256); },
     "byte 63: channel 3 name: length"},
    {"fs zero", [](std::string& p) { Patch<double>(p, 16, 0.0); }, "byte 16: fs: 0"},
    {"fs negative", [](std::string& p) { Patch<double>(p, 16, -5.0); }, "byte 16: fs: -5"},
    {"fs nan", [](std::string& p) { Patch<double>(p, 16, std::nan("")); }, "byte 16: fs"},
    {"fs inf",
     [](std::string& p) { Patch<double>(p, 16, std::numeric_limits<double>::infinity()); },
     "byte 16: fs"},
    {"time without flag", [](std::string& p) { Patch<std::uint8_t>(p, 6, 0); },
     "byte 24: event time"},
    {"scale for floats", [](std::string& p) { Patch<double>(p, 32, 2.0); },
     "byte 32: scale: 2, expected 1 for float samples"},
    {"empty id", [](std::string& p) { Patch<std::uint16_t>(p, 40, 0); },
     "byte 40: sensor id: empty"},
    {"id past the end", [](std::string& p) { Patch<std::uint16_t>(p, 40, 0xffff); },
     "byte 40: sensor id: length 65535 runs past the end"},
    {"id not utf-8", [](std::string& p) { p[49] = '\xff'; }, "byte 49: sensor id: not valid UTF-8"},
    {"name not utf-8", [](std::string& p) { p[53] = '\xc3'; },
     "byte 53: channel 0 name: not valid UTF-8"},
    {"duplicate name", [](std::string& p) { p[58] = 'x'; },  // "ay" -> "ax"
     "byte 55: channel 1 name: duplicate 'ax'"},
    {"empty name", [](std::string& p) { Patch<std::uint16_t>(p, 51, 0); },
     "byte 51: channel 0 name: empty"},
    {"truncated samples", [](std::string& p) { p.pop_back(); }, "left (truncated)"},
    {"trailing bytes", [](std::string& p) { p.push_back('\0'); }, "left (trailing bytes)"},
    {"truncated in the names", [](std::string& p) { p.resize(52); },
     "byte 51: channel 0 name: truncated length"},
    {"nan sample", [](std::string& p) { Patch<double>(p, 63 + 8 * 3, std::nan("")); },
     "byte 87: channel 'ax' sample 3: not a finite number"},
    {"inf sample in the last channel",
     [](std::string& p) {
       Patch<double>(p, p.size() - 8, -std::numeric_limits<double>::infinity());
     },
     "channel 'az' sample 9: not a finite number"},
    {"bad magic", [](std::string& p) { p[3] = 'Q'; }, "not valid JSON"},
};

TEST(WaveformBinary, EveryMalformedInputIsAnInvalidArgumentNamingFieldAndOffset) {
  const std::string good = Encode(MakeEvent(SampleType::kFloat64, 10));
  ASSERT_EQ(good.substr(51, 4), std::string("\x02\x00"
                                            "ax",
                                            4));
  ASSERT_TRUE(DecodeStatus(good).ok());
  for (const BadCase& c : kBadCases) {
    std::string p = good;
    c.mutate(p);
    const Status s = DecodeStatus(p);
    EXPECT_TRUE(s.IsInvalidArgument()) << c.name << ": " << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr(c.expected)) << c.name;
  }
}

// Every truncation and every single-byte change of a small payload decodes
// or is an InvalidArgument with a reason; a decoded event keeps its
// promises (equal channel lengths, finite samples, fs > 0).
TEST(WaveformBinary, EveryTruncationAndByteFlipIsDecodedOrRefused) {
  for (SampleType type : {SampleType::kInt16, SampleType::kFloat32, SampleType::kFloat64}) {
    const std::string good = Encode(MakeEvent(type, 3));
    EventDecoder d;
    auto check = [&](const std::string& p) {
      const Status s = d.Decode(p);
      if (!s.ok()) {
        ASSERT_TRUE(s.IsInvalidArgument()) << s.ToString();
        ASSERT_FALSE(s.message().empty());
        return;
      }
      const DecodedEvent& e = d.event();
      ASSERT_EQ(e.kind, EventKind::kWaveform);
      ASSERT_GT(e.fs_hz, 0);
      ASSERT_FALSE(e.sensor_id.empty());
      for (std::size_t c = 0; c < e.channel_names.size(); ++c) {
        ASSERT_EQ(e.channels[c].size(), e.channels[0].size());
        for (double v : e.channels[c]) ASSERT_TRUE(std::isfinite(v));
      }
    };
    for (std::size_t n = 0; n < good.size(); ++n) {
      check(good.substr(0, n));
      if (n >= 4) {
        EXPECT_FALSE(d.Decode(good.substr(0, n)).ok()) << n;  // too short
      }
    }
    for (std::size_t i = 0; i < good.size(); ++i) {
      for (const unsigned char x : {0x01, 0x80, 0xff}) {
        std::string p = good;
        p[i] = static_cast<char>(static_cast<unsigned char>(p[i]) ^ x);
        check(p);
      }
    }
  }
}

TEST(WaveformBinary, Float32NonFiniteAndInt16ScaleAreRefused) {
  std::string f32 = Encode(MakeEvent(SampleType::kFloat32, 10));
  Patch<float>(f32, 63 + 4 * 12, std::numeric_limits<float>::quiet_NaN());  // ay[2]
  EXPECT_THAT(DecodeStatus(f32).message(),
              HasSubstr("byte 111: channel 'ay' sample 2: not a finite number"));
  std::string i16 = Encode(MakeEvent(SampleType::kInt16, 10));
  Patch<double>(i16, 32, 0.0);
  EXPECT_THAT(DecodeStatus(i16).message(), HasSubstr("byte 32: scale: 0"));
  Patch<double>(i16, 32, 1e306);  // raw * scale would overflow
  EXPECT_THAT(DecodeStatus(i16).message(), HasSubstr("byte 32: scale"));
}

TEST(WaveformBinary, SizeLimitIsChecked) {
  const std::string p = Encode(MakeEvent(SampleType::kFloat64, 10));
  codec::WaveformRecord r;
  const Status s = codec::ParseWaveformBinary(p, kMaxSamplesPerChannel, 100, &r);
  EXPECT_THAT(s.message(), HasSubstr("byte 0: size: " + std::to_string(p.size()) +
                                     " bytes, more than the limit of 100"));
  EXPECT_TRUE(codec::ParseWaveformBinary(p, 9, kMaxEventBytes, &r).IsInvalidArgument());
}

TEST(WaveformBinary, EncoderRefusesWhatTheDecoderWould) {
  Event e = MakeEvent(SampleType::kFloat64, 4);
  std::string out;
  auto encode = [&] {
    out.clear();
    return codec::AppendWaveformBinary(e.header, e.names, e.channels, 100, &out);
  };
  e.channels[2][1] = std::nan("");
  EXPECT_THAT(encode().message(), HasSubstr("channel 'az': sample 1"));
  EXPECT_TRUE(out.empty());
  e = MakeEvent(SampleType::kFloat64, 4);
  e.channels[1].pop_back();
  EXPECT_THAT(encode().message(), HasSubstr("channel 'ay' has 3 samples"));
  e = MakeEvent(SampleType::kFloat64, 4);
  e.header.sensor_id = "bad\xff";
  EXPECT_THAT(encode().message(), HasSubstr("sensor id"));
  e = MakeEvent(SampleType::kFloat64, 4);
  e.names[2] = "ax";
  EXPECT_THAT(encode().message(), HasSubstr("duplicate channel 'ax'"));
  e = MakeEvent(SampleType::kFloat64, 4);
  e.header.fs_hz = 0;
  EXPECT_THAT(encode().message(), HasSubstr("fs 0"));
  e = MakeEvent(SampleType::kFloat32, 4);
  e.channels[0][0] = 1e300;
  EXPECT_THAT(encode().message(), HasSubstr("float32 range"));
  e = MakeEvent(SampleType::kFloat64, 101);
  EXPECT_THAT(encode().message(), HasSubstr("101 samples per channel"));
  // Two channels of the most samples as float64 exceed the 64 MiB payload
  // limit; as float32 they fit.
  Event big;
  big.header = MakeEvent(SampleType::kFloat64, 1).header;
  big.names = {"a", "b"};
  big.channels.assign(2, std::vector<double>(kMaxSamplesPerChannel, 0.5));
  out.clear();
  EXPECT_THAT(
      codec::AppendWaveformBinary(big.header, big.names, big.channels, kMaxSamplesPerChannel, &out)
          .message(),
      HasSubstr("more than the limit of 67108864"));
  EXPECT_TRUE(out.empty());
  big.header.type = SampleType::kFloat32;
  EXPECT_TRUE(
      codec::AppendWaveformBinary(big.header, big.names, big.channels, kMaxSamplesPerChannel, &out)
          .ok());
  EventDecoder d;
  ASSERT_TRUE(d.Decode(out).ok());
  EXPECT_EQ(d.event().channels[1].size(), kMaxSamplesPerChannel);
}

}  // namespace
}  // namespace mh::pipeline
