// GzipBody against zlib as the independent decoder: every body, from empty to
// larger than one deflate block, comes back byte for byte, with a valid gzip
// header and trailer (CRC-32 and length checked by zlib's inflate).
#include <random>
#include <string>

#include <gtest/gtest.h>
#include <zlib.h>

#include "sink/influxdb/gzip_body.h"

namespace mh::sink::influxdb {
namespace {

// Inflates a gzip member with zlib (15 + 16: gzip wrapper only).
std::string Gunzip(std::string_view gz) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 15 + 16), Z_OK);
  std::string out;
  char buf[1 << 16];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END) << "zlib could not read the gzip member";
  EXPECT_EQ(z.avail_in, 0u) << "bytes after the gzip member";
  inflateEnd(&z);
  return out;
}

std::string LineProtocol(int lines) {
  std::string body;
  for (int i = 0; i < lines; ++i) {
    body += "anomaly_score,sensor_id=sim-" + std::to_string(i % 7) +
            " score=" + std::to_string(0.001 * (i % 977) - 0.3) + " " +
            std::to_string(1761559200000000000LL + 1000000LL * i) + "\n";
  }
  return body;
}

TEST(GzipBodyTest, RoundTripsThroughZlib) {
  auto gzip = GzipBody::Create(1);
  ASSERT_TRUE(gzip.ok()) << gzip.status().ToString();
  std::mt19937_64 rng(7);
  std::string random_bytes(200000, '\0');
  for (char& c : random_bytes) c = static_cast<char>(rng());
  for (const std::string& body :
       {std::string(), std::string("x"), LineProtocol(1), LineProtocol(20000), random_bytes}) {
    auto gz = (*gzip)->Compress(body);
    ASSERT_TRUE(gz.ok()) << gz.status().ToString();
    ASSERT_GE(gz->size(), 18u);  // 10-byte header + 8-byte trailer at least
    EXPECT_EQ(static_cast<unsigned char>((*gz)[0]), 0x1f);
    EXPECT_EQ(static_cast<unsigned char>((*gz)[1]), 0x8b);
    EXPECT_EQ(Gunzip(*gz), body) << "body of " << body.size() << " bytes";
  }
}

TEST(GzipBodyTest, ShrinksLineProtocolAndReusesItsBuffer) {
  auto gzip = GzipBody::Create(1);
  ASSERT_TRUE(gzip.ok());
  const std::string big = LineProtocol(20000);
  auto first = (*gzip)->Compress(big);
  ASSERT_TRUE(first.ok());
  EXPECT_LT(first->size() * 3, big.size()) << "line protocol should shrink more than 3x";
  const char* where = first->data();
  auto second = (*gzip)->Compress(LineProtocol(100));
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->data(), where) << "a smaller body reuses the buffer";
  EXPECT_EQ(Gunzip(*second), LineProtocol(100));
}

TEST(GzipBodyTest, EveryLevelRoundTrips) {
  const std::string body = LineProtocol(3000);
  for (int level = 0; level <= 3; ++level) {
    auto gzip = GzipBody::Create(level);
    ASSERT_TRUE(gzip.ok()) << level;
    auto gz = (*gzip)->Compress(body);
    ASSERT_TRUE(gz.ok()) << gz.status().ToString();
    EXPECT_LT(gz->size(), body.size()) << "level " << level;
    EXPECT_EQ(Gunzip(*gz), body) << "level " << level;
  }
}

TEST(GzipBodyTest, RejectsLevelsOutsideZeroToThree) {
  for (int level : {4, 12, -1}) {
    auto gzip = GzipBody::Create(level);
    ASSERT_FALSE(gzip.ok());
    EXPECT_TRUE(gzip.status().IsInvalidArgument());
    EXPECT_NE(gzip.status().message().find(std::to_string(level)), std::string::npos);
  }
}

}  // namespace
}  // namespace mh::sink::influxdb
