#include "sink/influxdb/gzip_body.h"

#include <cstdint>
#include <limits>
#include <vector>

#include <isa-l/igzip_lib.h>

namespace mh::sink::influxdb {

struct GzipBody::Impl {
  int level = 1;
  std::vector<std::uint8_t> level_buf;  // igzip's work area for levels 1..3
  std::string out;
};

GzipBody::GzipBody(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GzipBody::~GzipBody() = default;

Result<std::unique_ptr<GzipBody>> GzipBody::Create(int level) {
  std::size_t level_buf = 0;
  switch (level) {
    case 0:
      break;
    case 1:
      level_buf = ISAL_DEF_LVL1_DEFAULT;
      break;
    case 2:
      level_buf = ISAL_DEF_LVL2_DEFAULT;
      break;
    case 3:
      level_buf = ISAL_DEF_LVL3_DEFAULT;
      break;
    default:
      return Status::InvalidArgument("gzip level " + std::to_string(level) + " is not in 0..3");
  }
  auto impl = std::make_unique<Impl>();
  impl->level = level;
  impl->level_buf.resize(level_buf);
  return std::unique_ptr<GzipBody>(new GzipBody(std::move(impl)));
}

Result<std::string_view> GzipBody::Compress(std::string_view body) {
  if (body.size() >= std::numeric_limits<std::uint32_t>::max() / 2) {
    return Status::InvalidArgument("gzip: body of " + std::to_string(body.size()) +
                                   " bytes is too large");
  }
  // Room for the whole body stored uncompressed plus headers; grown and
  // tried again in the unlikely case igzip still wants more.
  std::size_t room = body.size() + body.size() / 16 + ISAL_DEF_MAX_HDR_SIZE + 64;
  for (int attempt = 0; attempt < 3; ++attempt, room *= 2) {
    if (impl_->out.size() < room) impl_->out.resize(room);
    isal_zstream s;
    isal_deflate_stateless_init(&s);
    s.gzip_flag = IGZIP_GZIP;
    s.level = static_cast<std::uint32_t>(impl_->level);
    s.level_buf = impl_->level_buf.empty() ? nullptr : impl_->level_buf.data();
    s.level_buf_size = static_cast<std::uint32_t>(impl_->level_buf.size());
    s.end_of_stream = 1;
    s.flush = NO_FLUSH;
    s.next_in = reinterpret_cast<std::uint8_t*>(const_cast<char*>(body.data()));
    s.avail_in = static_cast<std::uint32_t>(body.size());
    s.next_out = reinterpret_cast<std::uint8_t*>(impl_->out.data());
    s.avail_out = static_cast<std::uint32_t>(
        std::min<std::size_t>(impl_->out.size(), std::numeric_limits<std::uint32_t>::max()));
    const int rc = isal_deflate_stateless(&s);
    if (rc == COMP_OK) return std::string_view(impl_->out.data(), s.total_out);
    if (rc != STATELESS_OVERFLOW) {
      return Status::Internal("gzip: igzip failed with code " + std::to_string(rc));
    }
  }
  return Status::Internal("gzip: igzip output did not fit in " + std::to_string(room) + " bytes");
}

}  // namespace mh::sink::influxdb
