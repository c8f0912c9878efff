#include "core/status.h"

#include <gtest/gtest.h>

#include "core/result.h"

namespace mh {
namespace {

TEST(StatusTest, OkIsCheapAndEmpty) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
  EXPECT_EQ(s.message(), "");
}

TEST(StatusTest, ErrorsCarryCodeAndMessage) {
  Status s = Status::InvalidArgument("--machines: expected a positive integer");
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_FALSE(s.IsIOError());
  EXPECT_EQ(s.ToString(), "invalid argument: --machines: expected a positive integer");
  Status copy = s;
  EXPECT_EQ(copy.message(), s.message());
  EXPECT_EQ(s.WithContext("run").message(), "run: --machines: expected a positive integer");
  EXPECT_TRUE(Status::OK().WithContext("x").ok());
}

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  MH_ASSIGN_OR_RETURN(int h, Half(x));
  MH_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(ResultTest, PropagatesErrors) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_TRUE(Quarter(6).status().IsInvalidArgument());
  EXPECT_FALSE(Quarter(7).ok());
}

}  // namespace
}  // namespace mh
