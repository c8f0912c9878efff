#include "transport/inproc_transport.h"

#include <thread>

#include <gtest/gtest.h>

namespace mh::transport {
namespace {

using std::chrono::milliseconds;

std::vector<OutgoingMessage> Batch(int from, int to) {
  std::vector<OutgoingMessage> out;
  for (int i = from; i < to; ++i) out.push_back({"k" + std::to_string(i % 3), std::to_string(i)});
  return out;
}

TEST(InprocTransport, DeliversInOrderWithKeysAndOrigins) {
  auto pub = NewInprocPublisher("order");
  auto sub = NewInprocSubscriber("order");
  ASSERT_TRUE(pub->Publish(Batch(0, 10)).ok());
  auto got = sub->Poll(100, milliseconds(100));
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got.value().size(), 10u);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(got.value()[i].payload, std::to_string(i));
    EXPECT_EQ(got.value()[i].key, "k" + std::to_string(i % 3));
    EXPECT_EQ(got.value()[i].origin, "inproc:order@" + std::to_string(i));
  }
  EXPECT_TRUE(sub->Commit().ok());
  EXPECT_FALSE(sub->AtEnd());
}

TEST(InprocTransport, PollRespectsMaxAndTimesOutEmpty) {
  auto pub = NewInprocPublisher("max");
  auto sub = NewInprocSubscriber("max");
  ASSERT_TRUE(pub->Publish(Batch(0, 5)).ok());
  EXPECT_EQ(sub->Poll(2, milliseconds(0)).value().size(), 2u);
  EXPECT_EQ(sub->Poll(10, milliseconds(0)).value().size(), 3u);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(sub->Poll(10, milliseconds(30)).value().empty());
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(25));
}

TEST(InprocTransport, FullQueueMakesPublishWaitThenFailUnavailable) {
  InprocOptions o;
  o.capacity = 4;
  o.publish_timeout = milliseconds(50);
  auto pub = NewInprocPublisher("full", o);
  auto sub = NewInprocSubscriber("full", o);
  Status s = pub->Publish(Batch(0, 6));
  EXPECT_TRUE(s.IsUnavailable()) << s.ToString();
  // A consumer making room lets a waiting publisher go on.
  std::thread consumer([&] {
    std::this_thread::sleep_for(milliseconds(20));
    (void)sub->Poll(100, milliseconds(0));
  });
  o.publish_timeout = milliseconds(5000);
  EXPECT_TRUE(pub->Publish(Batch(0, 2)).ok());
  consumer.join();
}

TEST(InprocTransport, ProducerAndConsumerThreadsLoseNothing) {
  auto pub = NewInprocPublisher("threads", {.capacity = 64, .publish_timeout = milliseconds(5000)});
  auto sub = NewInprocSubscriber("threads");
  std::thread producer([&] {
    for (int i = 0; i < 100; ++i) ASSERT_TRUE(pub->Publish(Batch(i * 50, i * 50 + 50)).ok());
  });
  std::vector<int> seen;
  while (seen.size() < 5000) {
    auto got = sub->Poll(1000, milliseconds(2000));
    ASSERT_TRUE(got.ok());
    ASSERT_FALSE(got.value().empty()) << "stalled at " << seen.size();
    for (const Message& m : got.value()) seen.push_back(std::stoi(m.payload));
  }
  producer.join();
  for (int i = 0; i < 5000; ++i) ASSERT_EQ(seen[i], i);
}

}  // namespace
}  // namespace mh::transport
