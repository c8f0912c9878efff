#include "csv/csv_reader.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <limits>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <sys/stat.h>

#include "core/strings.h"
#include "csv/datetime_parse.h"

namespace mh::csv {
namespace {

// One parsed record. Fields view either the input text or `owned` (fields
// whose doubled quotes had to be undone).
struct Record {
  std::vector<std::string_view> fields;
  std::deque<std::string> owned;
  std::int64_t line = 0;  // 1-based physical line where the record starts
};

// RFC 4180 record splitter over the whole text, or over a window of a
// streamed file (eof false: see Next and need_more).
class RecordParser {
 public:
  RecordParser(std::string_view text, char delimiter, const std::string* source, bool eof = true)
      : text_(text), delimiter_(delimiter), source_(source), eof_(eof) {}

  std::size_t pos() const { return pos_; }
  std::int64_t line() const { return line_; }
  void Reset(std::size_t pos, std::int64_t line) {
    pos_ = pos;
    line_ = line;
  }

  // Replaces the text (a window of the input that now starts at the byte the
  // old position `dropped` bytes further on); `eof` says the input ends with it.
  void Rebase(std::string_view text, std::size_t dropped, bool eof) {
    text_ = text;
    pos_ -= dropped;
    eof_ = eof;
    mask_block_ = std::string_view::npos;
  }
  // True when the last Next stopped because the text window ended before a
  // whole record (only when not at the end of the input); the position is
  // unchanged then: extend the window and call Next again.
  bool need_more() const { return need_more_; }

  // Reads the next non-blank record: true, or false at the end of the text
  // (or when need_more()). InvalidArgument for broken quoting (names line and
  // column).
  Result<bool> Next(Record* rec) {
    need_more_ = false;
    if (eof_) return Parse(rec);
    // Blank lines wholly inside the window are consumed for good, so a run
    // of them does not grow the window.
    while (pos_ < text_.size()) {
      if (text_[pos_] == '\n') {
        ++pos_;
      } else if (text_[pos_] == '\r' && pos_ + 1 < text_.size() && text_[pos_ + 1] == '\n') {
        pos_ += 2;
      } else {
        break;
      }
      ++line_;
    }
    const std::size_t start = pos_;
    const std::int64_t start_line = line_;
    auto got = Parse(rec);
    // A record is known whole only when it ended by consuming a newline:
    // anything that touched the end of the window may continue past it.
    if (got.ok() && *got && pos_ > start && pos_ <= text_.size() && text_[pos_ - 1] == '\n') {
      return got;
    }
    if (got.ok() || pending_quote_) {
      pos_ = start;
      line_ = start_line;
      need_more_ = true;
      return false;
    }
    return got;
  }

 private:
  Result<bool> Parse(Record* rec) {
    pending_quote_ = false;
    const std::size_t size = text_.size();
    while (pos_ < size) {  // skip blank lines
      if (text_[pos_] == '\n') {
        ++pos_;
        ++line_;
      } else if (text_[pos_] == '\r' && (pos_ + 1 == size || text_[pos_ + 1] == '\n')) {
        pos_ += (pos_ + 1 == size) ? 1 : 2;
        ++line_;
      } else {
        break;
      }
    }
    if (pos_ >= size) return false;
    rec->fields.clear();
    if (!rec->owned.empty()) rec->owned.clear();
    rec->line = line_;
    while (true) {
      if (pos_ < size && text_[pos_] == '"') {
        const std::int64_t field_line = line_;
        std::size_t seg = pos_ + 1;
        std::size_t p = seg;
        std::string* buf = nullptr;
        while (true) {
          const std::size_t q = text_.find('"', p);
          if (q == std::string_view::npos) {
            pending_quote_ = true;
            return Error(field_line, rec->fields.size() + 1,
                         "quoted field is not closed before the end of the file");
          }
          line_ += std::count(text_.begin() + static_cast<std::ptrdiff_t>(p),
                              text_.begin() + static_cast<std::ptrdiff_t>(q), '\n');
          if (q + 1 < size && text_[q + 1] == '"') {
            if (buf == nullptr) buf = &rec->owned.emplace_back();
            buf->append(text_.substr(seg, q + 1 - seg));
            p = q + 2;
            seg = p;
            continue;
          }
          if (buf != nullptr) {
            buf->append(text_.substr(seg, q - seg));
            rec->fields.push_back(*buf);
          } else {
            rec->fields.push_back(text_.substr(seg, q - seg));
          }
          pos_ = q + 1;
          break;
        }
        if (pos_ >= size) return true;
        const char c = text_[pos_];
        if (c == delimiter_) {
          ++pos_;
          continue;
        }
        if (c == '\n') {
          ++pos_;
          ++line_;
          return true;
        }
        if (c == '\r' && (pos_ + 1 == size || text_[pos_ + 1] == '\n')) {
          pos_ += (pos_ + 1 == size) ? 1 : 2;
          ++line_;
          return true;
        }
        return Error(line_, rec->fields.size(),
                     "unexpected character after the closing quote of a quoted field");
      }
      const std::size_t p = FindDelimiterOrNewline(pos_);
      if (p < size && text_[p] == delimiter_) {  // the common case: more fields follow
        rec->fields.emplace_back(text_.data() + pos_, p - pos_);
        pos_ = p + 1;
        continue;
      }
      std::size_t end = p;  // the record ends at '\n' (CRLF: before the '\r') or the text's end
      if (end > pos_ && text_[end - 1] == '\r') --end;
      rec->fields.emplace_back(text_.data() + pos_, end - pos_);
      if (p >= size) {
        pos_ = size;
        return true;
      }
      pos_ = p + 1;
      ++line_;
      return true;
    }
  }

  // The first delimiter or '\n' at or after p, or the text's size. The text
  // is scanned in 64-byte blocks into a bit mask of those bytes (SSE2 on
  // x86-64: four 16-byte compares; else eight bytes at a time), kept for the
  // block, so that each field of a record costs one count of trailing zeros.
  std::size_t FindDelimiterOrNewline(std::size_t p) {
    const std::size_t size = text_.size();
    while (p < size) {
      const std::size_t block = p & ~std::size_t{63};
      if (block != mask_block_) {
        mask_ = BlockMask(block);
        mask_block_ = block;
      }
      const std::uint64_t m = mask_ & (~std::uint64_t{0} << (p - block));
      if (m != 0) return block + static_cast<std::size_t>(std::countr_zero(m));
      p = block + 64;
    }
    return size;
  }

  // Bit i set when text_[block + i] is the delimiter or '\n'.
  std::uint64_t BlockMask(std::size_t block) const {
    const char* s = text_.data() + block;
    const std::size_t n = std::min<std::size_t>(64, text_.size() - block);
    std::uint64_t mask = 0;
    std::size_t i = 0;
#if defined(__SSE2__)
    if (n == 64) {
      const __m128i delim = _mm_set1_epi8(delimiter_);
      const __m128i newline = _mm_set1_epi8('\n');
      for (; i < 64; i += 16) {
        const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + i));
        const __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, delim), _mm_cmpeq_epi8(v, newline));
        mask |= static_cast<std::uint64_t>(static_cast<std::uint16_t>(_mm_movemask_epi8(hit))) << i;
      }
      return mask;
    }
#endif
    for (; i < n; ++i) {
      if (s[i] == delimiter_ || s[i] == '\n') mask |= std::uint64_t{1} << i;
    }
    return mask;
  }

  Status Error(std::int64_t line, std::size_t column, const std::string& what) const {
    return Status::InvalidArgument(*source_ + ": line " + std::to_string(line) + ", column " +
                                   std::to_string(column) + ": " + what);
  }

  std::string_view text_;
  // Cache of BlockMask for the block at text_[mask_block_] (none: npos).
  std::size_t mask_block_ = std::string_view::npos;
  std::uint64_t mask_ = 0;
  char delimiter_;
  const std::string* source_;
  bool eof_ = true;
  bool need_more_ = false;
  bool pending_quote_ = false;
  std::size_t pos_ = 0;
  std::int64_t line_ = 1;
};

inline std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Matches [+-]digits<mark>digits[(e|E)[+-]digits] (mark required).
bool LooksLikeDecimal(std::string_view s, char mark) {
  std::size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  std::size_t d0 = i;
  while (i < s.size() && IsDigit(s[i])) ++i;
  const bool int_digits = i > d0;
  if (i >= s.size() || s[i] != mark) return false;
  ++i;
  d0 = i;
  while (i < s.size() && IsDigit(s[i])) ++i;
  if (!int_digits && i == d0) return false;
  if (mark == ',' && (!int_digits || i == d0)) return false;  // "1," is not 1.0
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    d0 = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    if (i == d0) return false;
  }
  return i == s.size();
}

bool ParseIntCell(std::string_view s, std::int64_t* out) {
  if (!s.empty() && s.front() == '+') {
    s.remove_prefix(1);
    if (!s.empty() && s.front() == '-') return false;  // "+-1"
  }
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// A cell as a double with the file's decimal mark (see ParseDoubleExact:
// exact, 1e-400 is 0, 1e400 is kOverflow). With a decimal comma a cell
// holding a '.' is not a number; the comma becomes a point in a copy.
DoubleParse ParseDoubleCell(std::string_view s, char mark, double* out) {
  if (mark != ',') return ParseDoubleExact(s, out);  // a ',' in the cell: kInvalid
  if (s.find('.') != std::string_view::npos) return DoubleParse::kInvalid;
  char small[64];
  std::string large;
  char* buf = small;
  if (s.size() > sizeof(small)) {
    large.resize(s.size());
    buf = large.data();
  }
  for (std::size_t i = 0; i < s.size(); ++i) buf[i] = s[i] == ',' ? '.' : s[i];
  return ParseDoubleExact(std::string_view(buf, s.size()), out);
}

bool ParseBoolCell(std::string_view s, std::int64_t* out) {
  auto eq = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const char c = (a[i] >= 'A' && a[i] <= 'Z') ? static_cast<char>(a[i] + 32) : a[i];
      if (c != b[i]) return false;
    }
    return true;
  };
  if (eq(s, "true")) {
    *out = 1;
    return true;
  }
  if (eq(s, "false")) {
    *out = 0;
    return true;
  }
  return false;
}

const char* KindWord(ValueKind kind) {
  switch (kind) {
    case ValueKind::kBool:
      return "a boolean (true/false)";
    case ValueKind::kInt:
      return "an integer";
    case ValueKind::kDouble:
      return "a number";
    case ValueKind::kTimestamp:
      return "a timestamp";
    case ValueKind::kDate:
      return "a date";
    case ValueKind::kTime:
      return "a time of day";
    default:
      return "a value of the column's type";
  }
}

// Picks the delimiter whose first records have the most consistent field
// count (at least two fields), preferring more fields, then ',' ';' tab.
char DetectDelimiter(std::string_view text, bool eof, const std::string& source) {
  char best = ',';
  std::size_t best_consistent = 0, best_fields = 0;
  for (char d : {',', ';', '\t'}) {
    RecordParser parser(text, d, &source, eof);
    Record rec;
    std::size_t first = 0, consistent = 0;
    for (int i = 0; i < 30; ++i) {
      auto got = parser.Next(&rec);
      if (!got.ok() || !*got) break;
      if (i == 0) first = rec.fields.size();
      if (rec.fields.size() == first) ++consistent;
    }
    if (first < 2) continue;
    if (consistent > best_consistent || (consistent == best_consistent && first > best_fields)) {
      best = d;
      best_consistent = consistent;
      best_fields = first;
    }
  }
  return best;
}

// The trimmed cells of the inference sample, row-major, in one buffer.
class Sample {
 public:
  explicit Sample(std::size_t columns) : columns_(columns) {}
  void Add(std::string_view cell) {
    bytes_.append(cell);
    ends_.push_back(bytes_.size());
  }
  std::size_t cells() const { return ends_.size(); }
  std::size_t rows() const { return columns_ == 0 ? 0 : ends_.size() / columns_; }
  // Cell `c` in row-major order (row * columns + column).
  std::string_view cell(std::size_t c) const {
    const std::size_t begin = c == 0 ? 0 : ends_[c - 1];
    return std::string_view(bytes_).substr(begin, ends_[c] - begin);
  }

 private:
  std::size_t columns_;
  std::string bytes_;
  std::vector<std::size_t> ends_;
};

struct ColumnPlan {
  ValueKind kind = ValueKind::kString;
  int source = -1;       // field index; -1 for the combined date-time column
  int date_source = -1;  // combined: field of the date
  int time_source = -1;  // combined: field of the time
  bool given = false;    // kind given by the caller (epoch numbers allowed)
};

class CsvReader final : public TableReader {
 public:
  // Over bytes in memory.
  CsvReader(std::string text, const CsvOptions& options)
      : text_(std::move(text)), options_(options) {
    source_ = options.source_name.empty() ? "<buffer>" : options.source_name;
  }
  // Over an open file, read chunk by chunk (the reader closes it).
  CsvReader(std::FILE* file, const CsvOptions& options)
      : file_(file), eof_(false), options_(options) {
    source_ = options.source_name.empty() ? "<buffer>" : options.source_name;
  }
  ~CsvReader() override {
    if (file_ != nullptr) std::fclose(file_);
  }
  CsvReader(const CsvReader&) = delete;
  CsvReader& operator=(const CsvReader&) = delete;

  Status Open();
  const std::vector<TableColumnInfo>& columns() const override { return infos_; }
  Result<bool> Next(TableBatch* batch) override;
  std::int64_t bad_cells() const { return bad_cells_; }
  const std::vector<CsvNumericSuspect>& numeric_suspects() const { return suspects_; }

 private:
  // "SOURCE: line L, column C ('NAME')", the start of messages about a cell.
  std::string CellContext(std::int64_t line, int field) const {
    const std::string_view name = field >= 0 && static_cast<std::size_t>(field) < names_.size()
                                      ? std::string_view(names_[static_cast<std::size_t>(field)])
                                      : std::string_view();
    return source_ + ": line " + std::to_string(line) + ", column " + std::to_string(field + 1) +
           " (" + QuoteForMessage(name) + ")";
  }
  Status CellError(std::int64_t line, int field, std::string_view cell, ValueKind kind) const {
    return Status::InvalidArgument(CellContext(line, field) + ": " + QuoteForMessage(cell) +
                                   " is not " + KindWord(kind));
  }
  Status FieldCountError() const {
    return Status::InvalidArgument(source_ + ": line " + std::to_string(rec_.line) + ": " +
                                   std::to_string(rec_.fields.size()) + " fields, expected " +
                                   std::to_string(names_.size()));
  }
  bool IsNull(std::string_view trimmed) const {
    if (trimmed.empty()) return true;
    if (options_.null_values.empty()) [[likely]]
      return false;
    for (const std::string& n : options_.null_values) {
      if (trimmed == n) return true;
    }
    return false;
  }
  // Local civil ns -> UTC ns in the configured zone.
  Result<std::int64_t> LocalNsToUtc(std::int64_t local_ns) const {
    std::int64_t sec = local_ns / kNanosPerSecond;
    std::int64_t sub = local_ns % kNanosPerSecond;
    if (sub < 0) {
      sub += kNanosPerSecond;
      --sec;
    }
    MH_ASSIGN_OR_RETURN(std::int64_t utc,
                        zone_.LocalToUtc(sec, options_.ambiguous, options_.nonexistent));
    return utc * kNanosPerSecond + sub;
  }
  // Converts one trimmed, non-null cell; false if it does not parse.
  Result<bool> Convert(const ColumnPlan& plan, std::string_view cell, TableColumn* out);
  Status ValidateOptions() const;
  // Drops the bytes before the parser's position (unless pinned_) and reads
  // the next chunk of the file after the rest; sets eof_ at the end.
  Status Fill();
  // The parser's Next, extending the window as needed.
  Result<bool> NextRecord() {
    while (true) {
      MH_ASSIGN_OR_RETURN(bool got, parser_->Next(&rec_));
      if (got || !parser_->need_more()) return got;
      MH_RETURN_IF_ERROR(Fill());
    }
  }

  // Whole input (buffer) or the current window of the file.
  std::string text_;
  std::FILE* file_ = nullptr;
  bool eof_ = true;
  bool pinned_ = false;  // Open rewinds to the first data row: keep the bytes
  CsvOptions options_;
  std::string source_;
  TimeZone zone_;
  char delimiter_ = ',';
  char decimal_ = '.';
  std::vector<std::string> names_;  // one per field
  std::vector<ColumnPlan> plans_;
  std::vector<TableColumnInfo> infos_;
  std::unique_ptr<RecordParser> parser_;
  Record rec_;
  std::int64_t rows_read_ = 0;
  std::int64_t bad_cells_ = 0;
  // Epoch numbers in given kTimestamp columns: one decoder per field.
  std::vector<EpochColumnDecoder> epoch_;
  Status DecideEpochUnits(const Sample& sample);
  // Text columns that look numeric (see CsvNumericSuspects).
  std::vector<CsvNumericSuspect> suspects_;
  void FindNumericSuspects(const Sample& sample, const std::vector<std::int64_t>& lines);
};

// Inferred text columns whose sample is numbers but for a few cells: at
// least two numbers, and at most max(1, non-null cells / 100) others.
void CsvReader::FindNumericSuspects(const Sample& sample, const std::vector<std::int64_t>& lines) {
  const std::size_t nfields = names_.size();
  for (std::size_t j = 0; j < nfields; ++j) {
    if (plans_[j].given || plans_[j].kind != ValueKind::kString) continue;
    CsvNumericSuspect s;
    s.column = j;
    s.sample_rows = static_cast<std::int64_t>(sample.rows());
    std::int64_t numbers = 0, cells = 0;
    for (std::size_t r = 0; r < sample.rows(); ++r) {
      const std::string_view cell = sample.cell(r * nfields + j);
      if (IsNull(cell)) continue;
      ++cells;
      std::int64_t iv = 0;
      double dv = 0;
      if (ParseIntCell(cell, &iv) ||
          ParseDoubleCell(cell, decimal_, &dv) != DoubleParse::kInvalid) {
        ++numbers;
        continue;
      }
      if (s.bad_cells++ == 0) {
        s.line = lines[r];
        s.cell = std::string(cell);
      }
    }
    if (LooksNumericText(static_cast<std::size_t>(numbers),
                         static_cast<std::size_t>(s.bad_cells))) {
      suspects_.push_back(std::move(s));
    }
  }
}

// The unit of epoch numbers in each given kTimestamp column, decided on the
// inference sample (core/epoch_time.h): the sample is the "first batch".
Status CsvReader::DecideEpochUnits(const Sample& sample) {
  epoch_.assign(plans_.size(), EpochColumnDecoder(options_.epoch_unit));
  if (options_.epoch_unit != EpochUnit::kAuto) return Status::OK();
  std::vector<double> values;
  std::vector<std::int64_t> rows;
  for (std::size_t j = 0; j < plans_.size(); ++j) {
    if (!plans_[j].given || plans_[j].kind != ValueKind::kTimestamp) continue;
    values.clear();
    rows.clear();
    for (std::size_t r = 0; r < sample.rows(); ++r) {
      const std::string_view cell = sample.cell(r * names_.size() + j);
      std::int64_t iv = 0;
      double v = 0;
      if (IsNull(cell) || ParseDateTime(cell) || ParseDate(cell)) continue;
      if (ParseIntCell(cell, &iv)) {
        v = static_cast<double>(iv);
      } else if (ParseDoubleCell(cell, decimal_, &v) != DoubleParse::kOk) {
        continue;  // reported as not a timestamp when converted
      }
      values.push_back(v);
      rows.push_back(static_cast<std::int64_t>(r) + 1);
    }
    Status s = epoch_[j].Decide(values, rows, names_[j]);
    if (!s.ok()) return s.WithContext(source_);
  }
  return Status::OK();
}

Status CsvReader::ValidateOptions() const {
  const CsvOptions& o = options_;
  if (o.delimiter != '\0' && o.delimiter != ',' && o.delimiter != ';' && o.delimiter != '\t') {
    return Status::InvalidArgument("csv delimiter: expected ',', ';' or tab");
  }
  if (o.decimal_mark != '\0' && o.decimal_mark != '.' && o.decimal_mark != ',') {
    return Status::InvalidArgument("csv decimal mark: expected '.' or ','");
  }
  if (o.decimal_mark == ',' && o.delimiter == ',') {
    return Status::InvalidArgument("csv decimal mark ',' needs a delimiter other than ','");
  }
  if (o.batch_rows == 0) return Status::InvalidArgument("csv batch rows: expected >= 1");
  if (o.infer_rows == 0) return Status::InvalidArgument("csv infer rows: expected >= 1");
  for (const auto& [name, kind] : o.column_types) {
    switch (kind) {
      case ValueKind::kBool:
      case ValueKind::kInt:
      case ValueKind::kDouble:
      case ValueKind::kString:
      case ValueKind::kTimestamp:
      case ValueKind::kDate:
      case ValueKind::kTime:
        break;
      default:
        return Status::InvalidArgument("csv column type for " + QuoteForMessage(name) +
                                       ": csv supports bool, int, double, string, timestamp, "
                                       "date and time");
    }
  }
  return Status::OK();
}

// Bytes read from a file at a time; a record longer than the window doubles
// the read, so the window holds about max(kChunkBytes, longest record) * 2.
constexpr std::size_t kChunkBytes = std::size_t{1} << 20;

Status CsvReader::Fill() {
  if (eof_) return Status::OK();
  std::size_t drop = 0;
  if (parser_ != nullptr && !pinned_) drop = parser_->pos();
  text_.erase(0, drop);
  const std::size_t keep = text_.size();
  const std::size_t want = std::max(kChunkBytes, keep);
  text_.resize(keep + want);
  const std::size_t got = std::fread(text_.data() + keep, 1, want, file_);
  text_.resize(keep + got);
  if (got < want) {
    if (std::ferror(file_) != 0) return Status::IOError(source_ + ": read failed");
    eof_ = true;
  }
  if (parser_ != nullptr) parser_->Rebase(text_, drop, eof_);
  return Status::OK();
}

Status CsvReader::Open() {
  MH_RETURN_IF_ERROR(ValidateOptions());
  if (text_.size() > options_.max_bytes) {
    return Status::InvalidArgument(source_ + ": larger than the limit of " +
                                   std::to_string(options_.max_bytes) + " bytes");
  }
  {
    auto zone = TimeZone::Load(options_.time_zone);
    if (!zone.ok()) return zone.status();
    zone_ = std::move(zone).value();
  }
  // The dialect is detected from the first chunk.
  pinned_ = true;
  while (!eof_ && text_.size() < kChunkBytes) MH_RETURN_IF_ERROR(Fill());
  std::size_t start = 0;
  if (text_.size() >= 3 && text_.compare(0, 3, "\xEF\xBB\xBF") == 0) start = 3;
  const std::string_view body = std::string_view(text_).substr(start);
  delimiter_ =
      options_.delimiter != '\0' ? options_.delimiter : DetectDelimiter(body, eof_, source_);
  parser_ = std::make_unique<RecordParser>(std::string_view(text_), delimiter_, &source_, eof_);
  parser_->Reset(start, 1);

  // Header (or the first record's width).
  MH_ASSIGN_OR_RETURN(bool got, NextRecord());
  if (!got) {
    if (options_.header) return Status::InvalidArgument(source_ + ": empty file (no header)");
    return Status::OK();  // no columns, no rows
  }
  const std::size_t nfields = rec_.fields.size();
  std::size_t data_pos = parser_->pos();
  std::int64_t data_line = parser_->line();
  // Duplicate names get ".1", ".2"... (as pandas does): a name already
  // taken by an earlier column gets the first "name.k" not taken yet. Names
  // are only ever added, so a k found taken stays taken: the search for a
  // name resumes where it stopped (next_k), which keeps the whole header
  // linear (a real "x.1" among repeated "x" costs one more probe, once).
  names_.reserve(nfields);
  std::unordered_set<std::string> taken;
  std::unordered_map<std::string, std::size_t> next_k;
  taken.reserve(nfields * 2);
  for (std::size_t i = 0; i < nfields; ++i) {
    std::string name =
        options_.header ? std::string(Trim(rec_.fields[i])) : "column_" + std::to_string(i + 1);
    if (name.empty()) name = "column_" + std::to_string(i + 1);
    if (taken.insert(name).second) {
      names_.push_back(std::move(name));
      continue;
    }
    std::size_t& k = next_k[name];
    std::string unique;
    do {
      unique = name + "." + std::to_string(++k);
    } while (!taken.insert(unique).second);
    names_.push_back(std::move(unique));
  }
  if (!options_.header) {
    data_pos = start;
    data_line = 1;
    parser_->Reset(start, 1);
  }

  // Sample for inference: the trimmed cells, row by row, in one buffer
  // (a string per cell would cost 32 bytes each on a wide table).
  Sample sample(nfields);
  std::vector<std::int64_t> sample_lines;  // line of each sample row
  while (sample.rows() < options_.infer_rows) {
    MH_ASSIGN_OR_RETURN(bool more, NextRecord());
    if (!more) break;
    if (rec_.fields.size() != nfields) return FieldCountError();
    for (std::string_view f : rec_.fields) sample.Add(Trim(f));
    sample_lines.push_back(rec_.line);
  }
  parser_->Reset(data_pos, data_line);
  pinned_ = false;

  // Decimal mark.
  decimal_ = options_.decimal_mark;
  if (decimal_ == '\0') {
    decimal_ = '.';
    if (delimiter_ != ',') {
      std::size_t commas = 0, points = 0;
      for (std::size_t c = 0; c < sample.cells(); ++c) {
        const std::string_view cell = sample.cell(c);
        if (LooksLikeDecimal(cell, ',')) ++commas;
        if (LooksLikeDecimal(cell, '.')) ++points;
      }
      if (commas > 0 && points == 0) decimal_ = ',';
    }
  }

  // Kinds: given (the first entry for a name wins), else inferred.
  std::unordered_map<std::string_view, ValueKind> given_kinds;
  for (const auto& [name, kind] : options_.column_types) {
    if (taken.count(name) == 0) {
      return Status::InvalidArgument(source_ + ": column type given for " + QuoteForMessage(name) +
                                     ", which is not a column");
    }
    given_kinds.emplace(name, kind);
  }
  plans_.resize(nfields);
  std::vector<int> fraction_digits(nfields, 0);
  for (std::size_t j = 0; j < nfields; ++j) {
    ColumnPlan& plan = plans_[j];
    plan.source = static_cast<int>(j);
    if (const auto given = given_kinds.find(names_[j]); given != given_kinds.end()) {
      plan.kind = given->second;
      plan.given = true;
      continue;
    }
    bool b = true, i = true, d = true, ts = true, date = true, tod = true, any = false;
    for (std::size_t r = 0; r < sample.rows(); ++r) {
      const std::string_view cell = sample.cell(r * nfields + j);
      if (IsNull(cell)) continue;
      any = true;
      std::int64_t iv = 0;
      double dv = 0;
      if (b && !ParseBoolCell(cell, &iv)) b = false;
      if (i && !ParseIntCell(cell, &iv)) i = false;
      // A number too large for a double still makes a number column: the
      // read then reports it at its line, rather than the column turning
      // into text.
      if (d && ParseDoubleCell(cell, decimal_, &dv) == DoubleParse::kInvalid) d = false;
      if (ts) {
        auto p = ParseDateTime(cell);
        if (!p) {
          ts = false;
        } else {
          fraction_digits[j] = std::max(fraction_digits[j], p->fraction_digits);
        }
      }
      if (date && !ParseDate(cell)) date = false;
      if (tod) {
        int digits = 0;
        if (!ParseTimeOfDay(cell, &digits)) {
          tod = false;
        } else {
          fraction_digits[j] = std::max(fraction_digits[j], digits);
        }
      }
      if (!(b || i || d || ts || date || tod)) break;
    }
    if (!any) {
      plan.kind = ValueKind::kString;
    } else if (b) {
      plan.kind = ValueKind::kBool;
    } else if (i) {
      plan.kind = ValueKind::kInt;
    } else if (d) {
      plan.kind = ValueKind::kDouble;
    } else if (ts) {
      plan.kind = ValueKind::kTimestamp;
    } else if (date) {
      plan.kind = ValueKind::kDate;
    } else if (tod) {
      plan.kind = ValueKind::kTime;
    } else {
      plan.kind = ValueKind::kString;
    }
  }
  MH_RETURN_IF_ERROR(DecideEpochUnits(sample));
  FindNumericSuspects(sample, sample_lines);
  auto digits_for = [](int d) { return d <= 3 ? 3 : (d <= 6 ? 6 : 9); };
  for (std::size_t j = 0; j < nfields; ++j) {
    TableColumnInfo info;
    info.name = names_[j];
    info.kind = plans_[j].kind;
    info.fraction_digits = digits_for(fraction_digits[j]);
    if (plans_[j].given && info.kind == ValueKind::kTimestamp) {
      switch (epoch_[j].chosen()) {
        case EpochUnit::kSeconds:
        case EpochUnit::kMillis:
          info.fraction_digits = 3;
          break;
        case EpochUnit::kMicros:
          info.fraction_digits = 6;
          break;
        default:
          info.fraction_digits = 9;
      }
    }
    infos_.push_back(info);
  }
  if (options_.combine_date_time) {
    int date_col = -1, time_col = -1, dates = 0, times = 0;
    for (std::size_t j = 0; j < nfields; ++j) {
      if (plans_[j].kind == ValueKind::kDate) {
        ++dates;
        date_col = static_cast<int>(j);
      } else if (plans_[j].kind == ValueKind::kTime) {
        ++times;
        time_col = static_cast<int>(j);
      }
    }
    if (dates == 1 && times == 1) {
      ColumnPlan plan;
      plan.kind = ValueKind::kTimestamp;
      plan.date_source = date_col;
      plan.time_source = time_col;
      std::string name = options_.date_time_column;
      for (int k = 2; taken.count(name) != 0; ++k) {
        name = options_.date_time_column + "_" + std::to_string(k);
      }
      TableColumnInfo info;
      info.name = name;
      info.kind = ValueKind::kTimestamp;
      info.fraction_digits = digits_for(fraction_digits[static_cast<std::size_t>(time_col)]);
      plans_.push_back(plan);
      infos_.push_back(info);
    }
  }
  return Status::OK();
}

Result<bool> CsvReader::Convert(const ColumnPlan& plan, std::string_view cell, TableColumn* out) {
  std::int64_t iv = 0;
  double dv = 0;
  switch (plan.kind) {
    case ValueKind::kBool:
      if (!ParseBoolCell(cell, &iv)) return false;
      out->ints.push_back(iv);
      return true;
    case ValueKind::kInt:
      if (!ParseIntCell(cell, &iv)) return false;
      out->ints.push_back(iv);
      return true;
    case ValueKind::kDouble:
      switch (ParseDoubleCell(cell, decimal_, &dv)) {
        case DoubleParse::kOk:
          out->doubles.push_back(dv);
          return true;
        case DoubleParse::kOverflow:
          return Status::InvalidArgument(QuoteForMessage(cell) + " is too large for a double");
        case DoubleParse::kInvalid:
          break;
      }
      return false;
    case ValueKind::kDate: {
      auto days = ParseDate(cell);
      if (!days) return false;
      out->ints.push_back(*days);
      return true;
    }
    case ValueKind::kTime: {
      auto t = ParseTimeOfDay(cell);
      if (!t) return false;
      out->ints.push_back(*t);
      return true;
    }
    case ValueKind::kTimestamp: {
      if (auto p = ParseDateTime(cell)) {
        if (p->has_zone) {
          out->ints.push_back(p->ns);
        } else {
          MH_ASSIGN_OR_RETURN(std::int64_t utc, LocalNsToUtc(p->ns));
          out->ints.push_back(utc);
        }
        return true;
      }
      if (!plan.given) return false;
      if (auto days = ParseDate(cell)) {
        auto local = DateTimeNs(*days, 0);
        if (!local) return false;
        MH_ASSIGN_OR_RETURN(std::int64_t utc, LocalNsToUtc(*local));
        out->ints.push_back(utc);
        return true;
      }
      // Epoch numbers.
      double v = 0;
      const bool is_int = ParseIntCell(cell, &iv);
      if (is_int) {
        v = static_cast<double>(iv);
      } else if (ParseDoubleCell(cell, decimal_, &v) != DoubleParse::kOk || !std::isfinite(v)) {
        return false;
      }
      // The unit rule of core/epoch_time.h; its errors (no unit fits, mixed
      // units, overflow) get the line and column from Next.
      EpochColumnDecoder& epoch = epoch_[static_cast<std::size_t>(plan.source)];
      MH_ASSIGN_OR_RETURN(std::int64_t ns, is_int ? epoch.ToNs(iv, 0, {}) : epoch.ToNs(v, 0, {}));
      out->ints.push_back(ns);
      return true;
    }
    default:
      out->strings.emplace_back(cell);
      return true;
  }
}

Result<bool> CsvReader::Next(TableBatch* batch) {
  batch->Reset(rows_read_, infos_);
  if (!parser_) return true;
  const std::size_t nfields = names_.size();
  while (batch->rows < options_.batch_rows) {
    MH_ASSIGN_OR_RETURN(bool got, NextRecord());
    if (!got) break;
    if (rec_.fields.size() != nfields) return FieldCountError();
    for (std::size_t j = 0; j < plans_.size(); ++j) {
      const ColumnPlan& plan = plans_[j];
      TableColumn& col = batch->columns[j];
      auto push_null = [&] {
        col.valid.push_back(0);
        switch (plan.kind) {
          case ValueKind::kDouble:
            col.doubles.push_back(std::numeric_limits<double>::quiet_NaN());
            break;
          case ValueKind::kString:
            col.strings.emplace_back();
            break;
          default:
            col.ints.push_back(0);
        }
      };
      if (plan.source < 0) {  // combined date + time
        const auto ds = static_cast<std::size_t>(plan.date_source);
        const auto ts = static_cast<std::size_t>(plan.time_source);
        const std::string_view dcell = Trim(rec_.fields[ds]);
        const std::string_view tcell = Trim(rec_.fields[ts]);
        if (IsNull(dcell) || IsNull(tcell)) {
          push_null();
          continue;
        }
        auto days = ParseDate(dcell);
        auto tod = ParseTimeOfDay(tcell);
        if (!days || !tod) {
          push_null();  // the date or time column itself reports the cell
          continue;
        }
        auto local = DateTimeNs(*days, *tod);
        if (!local) {
          if (options_.bad_cells_as_null) {
            ++bad_cells_;
            push_null();
            continue;
          }
          return Status::InvalidArgument(source_ + ": line " + std::to_string(rec_.line) +
                                         ", columns " + QuoteForMessage(names_[ds]) + " and " +
                                         QuoteForMessage(names_[ts]) +
                                         ": date-time out of range (years 1680 to 2260)");
        }
        auto utc = LocalNsToUtc(*local);
        if (!utc.ok()) {
          return utc.status().WithContext(source_ + ": line " + std::to_string(rec_.line) +
                                          ", columns " + QuoteForMessage(names_[ds]) + " and " +
                                          QuoteForMessage(names_[ts]));
        }
        col.valid.push_back(1);
        col.ints.push_back(*utc);
        continue;
      }
      const std::string_view raw = rec_.fields[static_cast<std::size_t>(plan.source)];
      const std::string_view trimmed = Trim(raw);
      if (IsNull(trimmed)) {
        push_null();
        continue;
      }
      // Fast paths for numbers (the common case of feature tables); a cell
      // they refuse goes through Convert, which reports it.
      if (plan.kind == ValueKind::kDouble) {
        double dv = 0;
        if (ParseDoubleCell(trimmed, decimal_, &dv) == DoubleParse::kOk) {
          col.doubles.push_back(dv);
          col.valid.push_back(1);
          continue;
        }
      } else if (plan.kind == ValueKind::kInt) {
        std::int64_t iv = 0;
        if (ParseIntCell(trimmed, &iv)) {
          col.ints.push_back(iv);
          col.valid.push_back(1);
          continue;
        }
      }
      const std::string_view cell = plan.kind == ValueKind::kString ? raw : trimmed;
      auto ok = Convert(plan, cell, &col);
      if (!ok.ok()) {
        if (options_.bad_cells_as_null) {
          ++bad_cells_;
          push_null();
          continue;
        }
        return ok.status().WithContext(CellContext(rec_.line, plan.source));
      }
      if (!*ok) {
        if (options_.bad_cells_as_null) {
          ++bad_cells_;
          push_null();
          continue;
        }
        return CellError(rec_.line, plan.source, cell, plan.kind);
      }
      col.valid.push_back(1);
    }
    ++batch->rows;
  }
  rows_read_ += static_cast<std::int64_t>(batch->rows);
  return true;
}

}  // namespace

Result<std::unique_ptr<TableReader>> OpenCsvTableFromBuffer(std::string bytes,
                                                            const CsvOptions& options) {
  auto reader = std::make_unique<CsvReader>(std::move(bytes), options);
  MH_RETURN_IF_ERROR(reader->Open());
  return std::unique_ptr<TableReader>(std::move(reader));
}

Result<std::unique_ptr<TableReader>> OpenCsvTable(const std::string& path,
                                                  const CsvOptions& options) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return Status::NotFound(path + ": cannot open file");
  CsvOptions named = options;
  if (named.source_name.empty()) named.source_name = path;
  auto reader = std::make_unique<CsvReader>(file, named);  // owns the file now
  // A directory opens for reading on Linux (reads then fail with EISDIR);
  // its "size" is meaningless.
  struct stat st {};
  if (fstat(fileno(file), &st) != 0) return Status::IOError(path + ": cannot read file");
  if (S_ISDIR(st.st_mode)) return Status::InvalidArgument(path + ": is a directory");
  if (!S_ISREG(st.st_mode)) {
    return Status::InvalidArgument(path + ": not a regular file (a pipe or device cannot be read)");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > options.max_bytes) {
    return Status::InvalidArgument(path + ": " + std::to_string(size) +
                                   " bytes is larger than the limit of " +
                                   std::to_string(options.max_bytes));
  }
  MH_RETURN_IF_ERROR(reader->Open());
  return std::unique_ptr<TableReader>(std::move(reader));
}

std::int64_t CsvBadCells(const TableReader& reader) {
  const auto* csv = dynamic_cast<const CsvReader*>(&reader);
  return csv != nullptr ? csv->bad_cells() : 0;
}

std::vector<CsvNumericSuspect> CsvNumericSuspects(const TableReader& reader) {
  const auto* csv = dynamic_cast<const CsvReader*>(&reader);
  return csv != nullptr ? csv->numeric_suspects() : std::vector<CsvNumericSuspect>{};
}

}  // namespace mh::csv
