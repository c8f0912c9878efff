// The transport list (app/builtin_plugins.h) knows the dir: source.
#include "app/builtin_plugins.h"

#include <filesystem>
#include <fstream>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "pipeline/event_decoder.h"
#include "testing/test_paths.h"

namespace mh::app {
namespace {

using ::testing::HasSubstr;

TEST(BuiltinPlugins, DirSourceIsChosenByItsScheme) {
  const std::string dir = testing::MakeTempDir("plugins-dir");
  std::ofstream(dir + "/a.csv") << "x\n0.25\n";
  auto no_fs = OpenSubscriber(*ParseUri("dir:" + dir));
  EXPECT_TRUE(no_fs.status().IsInvalidArgument());
  EXPECT_THAT(no_fs.status().message(), HasSubstr("?fs=HZ"));
  auto src = OpenSubscriber(*ParseUri("dir:" + dir + "?fs=100&once=1&machine=m9"));
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  auto got = (*src)->Poll(10, std::chrono::milliseconds(1000));
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  pipeline::EventDecoder d;
  ASSERT_TRUE(d.Decode((*got)[0].payload).ok());
  EXPECT_EQ(d.event().sensor_id, "m9");
  EXPECT_EQ(d.event().channels[0], std::vector<double>{0.25});
  EXPECT_TRUE((*src)->AtEnd());
  EXPECT_THAT(OpenSubscriber(*ParseUri("nope:x")).status().message(), HasSubstr("dir"));
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

}  // namespace
}  // namespace mh::app
