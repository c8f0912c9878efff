#include "transport/jsonl_transport.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "testing/process.h"
#include "testing/test_paths.h"

namespace mh::transport {
namespace {

using std::chrono::milliseconds;

TEST(JsonLinesTransport, StreamPublisherWritesOneLinePerMessage) {
  std::ostringstream out;
  auto pub = NewStreamPublisher(out);
  std::vector<OutgoingMessage> batch = {{"a", R"({"x":1})"}, {"b", R"({"x":2})"}};
  ASSERT_TRUE(pub->Publish(batch).ok());
  ASSERT_TRUE(pub->Close().ok());
  EXPECT_EQ(out.str(), "{\"x\":1}\n{\"x\":2}\n");
}

TEST(JsonLinesTransport, FilePublisherAppendsAndSubscriberReadsBack) {
  const std::string dir = testing::MakeTempDir("jsonl");
  const std::string path = dir + "/events.jsonl";
  for (int round = 0; round < 2; ++round) {
    auto pub = NewJsonLinesFilePublisher(path, /*sync=*/true);
    ASSERT_TRUE(pub.ok()) << pub.status().ToString();
    std::vector<OutgoingMessage> batch;
    for (int i = 0; i < 3; ++i) batch.push_back({"", "e" + std::to_string(round * 3 + i)});
    ASSERT_TRUE(pub.value()->Publish(batch).ok());
    ASSERT_TRUE(pub.value()->Close().ok());
  }
  auto sub = NewJsonLinesFileSubscriber(path);
  ASSERT_TRUE(sub.ok());
  auto first = sub.value()->Poll(4, milliseconds(0));
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first.value().size(), 4u);
  EXPECT_EQ(first.value()[3].payload, "e3");
  EXPECT_EQ(first.value()[3].origin, path + ":4");
  EXPECT_FALSE(sub.value()->AtEnd());
  auto rest = sub.value()->Poll(100, milliseconds(0));
  ASSERT_EQ(rest.value().size(), 2u);
  EXPECT_EQ(rest.value()[1].payload, "e5");
  EXPECT_TRUE(sub.value()->AtEnd());
}

TEST(JsonLinesTransport, SubscriberSkipsBlankLinesAndHandlesCrlfAndNoFinalNewline) {
  const std::string path = testing::MakeTempDir("jsonl") + "/in.jsonl";
  std::ofstream(path) << "a\r\n\n\nb\r\nc";
  auto sub = NewJsonLinesFileSubscriber(path);
  ASSERT_TRUE(sub.ok());
  auto got = sub.value()->Poll(100, milliseconds(0)).value();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].payload, "a");
  EXPECT_EQ(got[1].payload, "b");
  EXPECT_EQ(got[1].origin, path + ":4");
  EXPECT_EQ(got[2].payload, "c");
}

TEST(JsonLinesTransport, MissingFileAndUnwritablePathAreErrorsNamingThePath) {
  auto sub = NewJsonLinesFileSubscriber("/nonexistent/x.jsonl");
  ASSERT_FALSE(sub.ok());
  EXPECT_NE(sub.status().message().find("/nonexistent/x.jsonl"), std::string::npos);
  auto pub = NewJsonLinesFilePublisher("/nonexistent/y.jsonl", false);
  ASSERT_FALSE(pub.ok());
  EXPECT_NE(pub.status().message().find("/nonexistent/y.jsonl"), std::string::npos);
}

}  // namespace
}  // namespace mh::transport
