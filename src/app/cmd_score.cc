// machine-health score: batch scoring of feature tables.
//
//   machine-health score --model MODEL|FILE.joblib --input FILE|FOLDER|GLOB|URL
//       --out FILE.csv|.tsv|.jsonl|.parquet|- [--format F] [--features a,b,...]
//       [--keep-going] [--threads N] [--timings]
//
// Input: a feature table, CSV (header line; dialect as docs/csv.md) or
// Parquet, or an http(s) URL of either, read by app/feature_table.h; or a
// folder or glob of them (replay/input_files.h: natural order). The model's
// features are matched by name (a model without names uses
// feature_1..feature_N); --features maps them instead: its i-th name is the
// input column for the model's i-th feature. Output (tableio, format by
// extension or --format): with several input files, source_file and
// source_offset (the 0-based data row in its file); the key columns of the
// first file (machine_id, sensor_id, timestamp, window_start, in input order)
// with their kinds (timestamp read by the one timestamp rule,
// csv/timestamp_column.h: date-times, ISO text, epoch s/ms/us/ns by the
// plausible range of their values; the choice is logged); then score (decision_function),
// score_samples and anomaly (1 where predict is -1, else 0). The output appears whole or not at
// all.
//
// Errors: an empty, non-numeric or non-finite feature cell names the file,
// the row (CSV: the line, for a cell that is not a number) and the column
// (exit 1); feature columns missing from the input are all listed (exit 1); a
// bad --features list is a usage error (exit 2). A file that fails stops the
// run (exit 1, no output) unless --keep-going: then the other files are
// scored and written, the failures listed, and the exit code is still 1.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>

#include "app/command.h"
#include "app/feature_table.h"
#include "app/output_options.h"
#include "app/score_stream.h"
#include "blob/model_source.h"
#include "core/strings.h"
#include "iforest/matrix.h"
#include "iforest/scorer.h"
#include "iforest/sklearn_import.h"
#include "replay/input_files.h"
#include "replay/table_file.h"

namespace mh::app {
namespace {

constexpr const char* kCommand = "score";

struct ScoreArgs {
  std::string model;
  std::string input;
  OutputArgs output;
  std::string features;
  bool keep_going = false;
  bool timings = false;
  int threads = 0;  // scoring threads, 0 = all cores
};

int DataError(CommandIo& io, const std::string& message) {
  PrintError(io, kCommand, message);
  return kExitFailure;
}

std::string JoinQuoted(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "'" : ", '") + n + "'";
  return s;
}

using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// Rows per chunk of the pipelined path (BatchScorer::ScoreFilePipelined).
constexpr std::size_t kChunkRows = 8192;

// Scores files one by one into one output, whose schema the first file
// read fixes.
//
// A file written to a text output (CSV, TSV, JSON Lines; not standard
// output, whose rows must appear whole or not at all) without a `timestamp`
// key (whose fraction digits depend on the whole column), and unless
// --keep-going goes over several files (a failing file then leaves no
// rows), is scored as a pipeline: each of `threads` workers reads the next chunk of kChunkRows rows
// (one at a time, in file order), scores it with a Scorer of its own and
// renders its rows; rendered chunks are written in file order. The bytes are
// those of the whole-file path, and the first bad row is the error, as there
// (chunks are read in order and reading stops at the first error). Other
// files are read whole, scored on `threads` threads, then written.
class BatchScorer {
 public:
  BatchScorer(const ScoreArgs& args, const iforest::Model& model, std::vector<std::string> wanted,
              bool multiple, tableio::TableFormat format, CommandIo& io)
      : args_(args),
        model_(model),
        wanted_(std::move(wanted)),
        multiple_(multiple),
        format_(format),
        io_(io),
        workers_(args.threads > 0 ? static_cast<std::size_t>(args.threads)
                                  : std::max(1u, std::thread::hardware_concurrency())) {}

  // Reads, scores and writes `file`. Errors name the file.
  Status ScoreFile(const std::string& path) {
    const Clock::time_point t0 = Clock::now();
    MH_ASSIGN_OR_RETURN(FeatureTableFile file, FeatureTableFile::Open(path));
    open_ += Clock::now() - t0;
    std::vector<std::string> missing;
    for (const std::string& w : wanted_) {
      if (file.Find(w) < 0) missing.push_back(w);
    }
    if (!missing.empty()) {
      std::vector<std::string> columns;
      for (const TableColumnInfo& c : file.columns()) columns.push_back(c.name);
      return Status::Corruption(file.name() + ": missing feature column(s) " + JoinQuoted(missing) +
                                " (model features: " + JoinQuoted(model_.feature_names) +
                                "; input columns: " + JoinQuoted(columns) + ")");
    }
    std::vector<std::string> key_names;
    bool timestamp_key = false;
    for (const TableColumnInfo& c : file.columns()) {
      if (IsKeyColumn(c.name) && !(multiple_ && c.name.rfind("source_", 0) == 0)) {
        key_names.push_back(c.name);
        timestamp_key = timestamp_key || c.name == "timestamp";
      }
    }
    const bool text = format_ != tableio::TableFormat::kParquet;
    // With --keep-going over several files, a file that fails must leave no
    // rows: it is read whole before anything of it is written.
    const bool keep_going = multiple_ && args_.keep_going;
    if (text && args_.output.out != "-" && !timestamp_key && !keep_going) {
      read_ += Clock::now() - t0;
      return ScoreFilePipelined(path, file, key_names);
    }
    MH_ASSIGN_OR_RETURN(FeatureTable table, file.Read(wanted_, key_names, args_.threads));
    if (!table.timestamp_rule.empty() && !timestamp_logged_) {
      io_.err << "machine-health score: " << file.name() << ": timestamps: " << table.timestamp_rule
              << "\n";
      timestamp_logged_ = true;
    }
    const Clock::time_point t1 = Clock::now();
    const iforest::Matrix& x = table.x;
    std::vector<double> scores(x.rows);
    if (scorer_ == nullptr)
      scorer_ = std::make_unique<iforest::ParallelScorer>(model_, args_.threads);
    if (x.rows > 0) scorer_->ScoreSamplesBatch(x, scores);
    const Clock::time_point t2 = Clock::now();
    TableBatch batch;
    MakeBatch(path, 0, scores, &table.keys, &batch);
    MH_RETURN_IF_ERROR(CheckOrOpen(path, batch));
    MH_RETURN_IF_ERROR(out_->Write(batch));
    const Clock::time_point t3 = Clock::now();
    read_ += t1 - t0;
    reader_ += table.reader_seconds;
    score_ += t2 - t1;
    write_ += t3 - t2;
    rows_ += x.rows;
    return Status::OK();
  }

  // Closes the output (after at least one file was scored).
  Status Close() {
    const Clock::time_point t0 = Clock::now();
    Status s = out_ == nullptr ? Status::OK() : out_->Close();
    write_ += Clock::now() - t0;
    return s;
  }
  bool opened() const { return out_ != nullptr; }
  std::size_t rows() const { return rows_; }
  // "timings: model 0.0041 s, read 0.0612 s (open 0.0011 s, file reader 0.0482 s), score
  // 0.0608 s, write 0.0363 s (200000 rows)"; pipelined files add their
  // workers' times (", pipelined on 2 threads: times summed over them").
  void PrintTimings(double model_seconds, std::ostream& err) const {
    auto s = [](double seconds) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%.4f s", seconds);
      return std::string(buf);
    };
    err << "timings: model " << s(model_seconds) << ", read " << s(Seconds(read_)) << " (open "
        << s(Seconds(open_)) << ", file reader " << s(reader_) << "), score " << s(Seconds(score_))
        << ", write " << s(Seconds(write_)) << " (" << rows_ << " rows";
    if (pipelined_) err << ", pipelined on " << workers_ << " threads: times summed over them";
    err << ")\n";
  }

 private:
  // The output rows of `keys` (whose columns are swapped into `batch`, to be
  // swapped back by ReturnKeys) and their `scores` (score_samples), the
  // first being the 0-based data row `first_row` of file `path`.
  void MakeBatch(const std::string& path, std::int64_t first_row, std::span<const double> scores,
                 TableBatch* keys, TableBatch* batch) const {
    const std::size_t n = scores.size();
    const std::size_t columns = (multiple_ ? 2 : 0) + keys->columns.size() + 3;
    batch->rows = n;
    batch->columns.resize(columns);
    std::size_t j = 0;
    auto column = [&](const char* name, ValueKind kind) -> TableColumn& {
      TableColumn& c = batch->columns[j++];
      c.info = TableColumnInfo{name, kind, 9};
      c.valid.assign(n, 1);
      return c;
    };
    if (multiple_) {
      column("source_file", ValueKind::kString).strings.assign(n, path);
      TableColumn& offset = column("source_offset", ValueKind::kInt);
      offset.ints.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        offset.ints[i] = first_row + static_cast<std::int64_t>(i);
      }
    }
    for (TableColumn& c : keys->columns) std::swap(c, batch->columns[j++]);
    TableColumn& score = column("score", ValueKind::kDouble);
    score.doubles.resize(n);
    TableColumn& samples = column("score_samples", ValueKind::kDouble);
    samples.doubles.assign(scores.begin(), scores.end());
    TableColumn& anomaly = column("anomaly", ValueKind::kInt);
    anomaly.ints.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double decision = scores[i] - model_.offset;
      score.doubles[i] = decision;
      anomaly.ints[i] = decision < 0.0 ? 1 : 0;
    }
  }

  // Swaps the key columns MakeBatch took from `keys` back (their buffers are
  // reused for the next chunk).
  void ReturnKeys(TableBatch* batch, TableBatch* keys) const {
    std::size_t j = multiple_ ? 2 : 0;
    for (TableColumn& c : keys->columns) std::swap(c, batch->columns[j++]);
  }

  // Opens the output with the schema of `batch` (the first file), or checks
  // that `batch` has the schema of the first file.
  Status CheckOrOpen(const std::string& path, const TableBatch& batch) {
    std::vector<TableColumnInfo> schema;
    for (const TableColumn& c : batch.columns) schema.push_back(c.info);
    if (out_ == nullptr) {
      tableio::TableOutputOptions options;
      options.threads = args_.threads;
      MH_ASSIGN_OR_RETURN(out_, OpenOutput(args_.output, schema, io_.out, options));
      return Status::OK();
    }
    const std::vector<TableColumnInfo>& want = out_->schema();
    bool same = want.size() == schema.size();
    for (std::size_t j = 0; same && j < want.size(); ++j) {
      same = want[j].name == schema[j].name && want[j].kind == schema[j].kind;
    }
    if (!same) {
      auto describe = [](const std::vector<TableColumnInfo>& cols) {
        std::string s;
        for (const TableColumnInfo& c : cols) {
          s += (s.empty() ? "" : ", ") + c.name + " " + ValueKindName(c.kind);
        }
        return s;
      };
      return Status::Corruption(path + ": key columns differ from the first file's (" +
                                describe(schema) + " instead of " + describe(want) + ")");
    }
    // Each file's timestamps keep their own fraction digits in text.
    return Status::OK();
  }

  // See the class comment.
  Status ScoreFilePipelined(const std::string& path, const FeatureTableFile& file,
                            const std::vector<std::string>& key_names) {
    MH_ASSIGN_OR_RETURN(FeatureTableStream stream,
                        file.Stream(wanted_, key_names, /*threads=*/1, kChunkRows));
    {
      // The schema, from the stream's key columns.
      FeatureChunk empty;
      stream.StartChunk(&empty);
      TableBatch batch;
      MakeBatch(path, 0, {}, &empty.keys, &batch);
      MH_RETURN_IF_ERROR(CheckOrOpen(path, batch));
    }
    pipelined_ = true;
    // Chunks are numbered in file order; a worker reads chunk i only when
    // fewer than 2 x workers chunks wait to be written (bounded memory).
    std::mutex read_mu;  // stream, next_read, done; taken before out_mu
    std::size_t next_read = 0;
    bool done = false;
    std::mutex out_mu;  // everything below
    std::condition_variable written;
    std::size_t next_write = 0;
    std::map<std::size_t, std::string> pending;  // rendered, waiting for their turn
    std::vector<std::string> spare;              // rendered texts' buffers, for reuse
    Status error = Status::OK();
    std::size_t error_chunk = SIZE_MAX;  // the chunk of `error`
    std::size_t rows = 0;
    Clock::duration read{}, score{}, write{};
    const std::size_t ahead = 2 * workers_;

    auto fail = [&](std::size_t chunk, Status s) {  // out_mu held
      if (chunk < error_chunk) {
        error_chunk = chunk;
        error = std::move(s);
      }
    };
    auto worker = [&] {
      FeatureChunk chunk;
      TableBatch batch;
      std::vector<double> scores;
      std::string text;
      std::unique_ptr<iforest::Scorer> scorer;
      Clock::duration my_read{}, my_score{}, my_write{};
      while (true) {
        std::size_t index = 0;
        {
          std::unique_lock<std::mutex> lock(read_mu);
          if (done) break;
          index = next_read;
          {
            std::unique_lock<std::mutex> out_lock(out_mu);
            written.wait(out_lock,
                         [&] { return index < next_write + ahead || error_chunk != SIZE_MAX; });
            if (error_chunk != SIZE_MAX) {
              done = true;
              break;
            }
          }
          const Clock::time_point t0 = Clock::now();
          stream.StartChunk(&chunk);
          Result<std::size_t> got = stream.Next(&chunk);
          my_read += Clock::now() - t0;
          if (!got.ok() || *got == 0) {
            done = true;
            if (!got.ok()) {
              std::lock_guard<std::mutex> out_lock(out_mu);
              fail(index, got.status());
              written.notify_all();
            }
            break;
          }
          ++next_read;
        }
        const Clock::time_point t1 = Clock::now();
        if (scorer == nullptr) scorer = std::make_unique<iforest::Scorer>(model_);
        scores.resize(chunk.x.rows);
        scorer->ScoreSamplesBatch(chunk.x, scores);
        const Clock::time_point t2 = Clock::now();
        MakeBatch(path, chunk.first_row, scores, &chunk.keys, &batch);
        text.clear();
        Status rendered = out_->Render(batch, &text);
        ReturnKeys(&batch, &chunk.keys);
        const Clock::time_point t3 = Clock::now();
        {
          std::lock_guard<std::mutex> out_lock(out_mu);
          if (!rendered.ok()) {
            fail(index, std::move(rendered));
          } else {
            rows += chunk.x.rows;
            pending.emplace(index, std::move(text));
          }
          // Whoever holds the next chunk in order writes what is ready.
          for (auto it = pending.begin(); it != pending.end() && it->first == next_write;
               it = pending.begin()) {
            if (error_chunk > next_write) {
              Status s = out_->WriteRendered(it->second);
              if (!s.ok()) fail(next_write, std::move(s));
            }
            spare.push_back(std::move(it->second));
            pending.erase(it);
            ++next_write;
          }
          if (!spare.empty()) {
            text = std::move(spare.back());
            spare.pop_back();
          }
          written.notify_all();
        }
        my_write += Clock::now() - t3 + (t3 - t2);
        my_score += t2 - t1;
      }
      std::lock_guard<std::mutex> out_lock(out_mu);
      read += my_read;
      score += my_score;
      write += my_write;
    };
    {
      std::vector<std::jthread> pool;
      for (std::size_t t = 1; t < workers_; ++t) pool.emplace_back(worker);
      worker();
    }
    reader_ += stream.reader_seconds();
    read_ += read;
    score_ += score;
    write_ += write;
    if (!error.ok()) return error;
    rows_ += rows;
    return Status::OK();
  }

  const ScoreArgs& args_;
  const iforest::Model& model_;
  const std::vector<std::string> wanted_;
  const bool multiple_;
  const tableio::TableFormat format_;
  CommandIo& io_;
  const std::size_t workers_;                        // threads of the pipeline
  std::unique_ptr<iforest::ParallelScorer> scorer_;  // whole files, made on first use
  std::unique_ptr<tableio::TableOutput> out_;
  std::size_t rows_ = 0;
  bool timestamp_logged_ = false;
  bool pipelined_ = false;
  double reader_ = 0;  // seconds inside the file readers' Next
  Clock::duration open_{}, read_{}, score_{}, write_{};
};

int RunScore(const ScoreArgs& args, CommandIo& io) {
  auto format = ResolveOutputFormat(args.output);
  if (!format.ok()) return UsageError(io, kCommand, format.status().message());
  if (args.threads < 0) return UsageError(io, kCommand, "--threads must be >= 0 (0 = all cores)");
  const Clock::time_point load_start = Clock::now();
  Result<iforest::Model> model = blob::LoadModelSource(args.model);
  const double load_seconds = Seconds(Clock::now() - load_start);
  if (!model.ok()) return DataError(io, model.status().message());
  const std::size_t d = model->feature_names.size();

  // The input column name for each model feature.
  std::vector<std::string> wanted = model->feature_names;
  if (!args.features.empty()) {
    Result<std::vector<std::string>> list = ParseFeatureList(args.features);
    if (!list.ok()) return UsageError(io, kCommand, list.status().message());
    wanted = std::move(*list);
    if (wanted.size() != d) {
      return UsageError(io, kCommand,
                        "--features lists " + std::to_string(wanted.size()) +
                            " columns but the model has " + std::to_string(d) + " features (" +
                            JoinQuoted(model->feature_names) + ")");
    }
  }

  Result<replay::InputFiles> inputs = replay::ExpandInputs(args.input);
  if (!inputs.ok()) return DataError(io, "--input: " + inputs.status().message());
  const std::vector<std::string>& files = inputs->files;

  BatchScorer scorer(args, *model, std::move(wanted), inputs->multiple, *format, io);
  std::vector<std::string> failed;
  for (const std::string& file : files) {
    Status s = scorer.ScoreFile(file);
    if (s.ok()) continue;
    // Messages name the file (the readers' do); add it when they do not.
    std::string message = s.message();
    if (message.find(file) == std::string::npos &&
        message.find(replay::RedactUrl(file)) == std::string::npos) {
      message = file + ": " + message;
    }
    if (!args.keep_going) {
      if (files.size() > 1) message += " (--keep-going scores the other files)";
      return DataError(io, message);
    }
    DataError(io, message);
    failed.push_back(file);
  }
  if (!scorer.opened()) {
    if (!failed.empty()) {
      return DataError(io, "all " + std::to_string(files.size()) + " files failed, no output");
    }
  }
  Status closed = scorer.Close();
  if (!closed.ok()) return DataError(io, closed.message());
  if (args.timings) scorer.PrintTimings(load_seconds, io.err);
  if (args.output.out != "-") {
    io.err << "scored " << scorer.rows() << " rows";
    if (inputs->multiple) io.err << " from " << files.size() - failed.size() << " files";
    io.err << " -> " << args.output.out << "\n";
  }
  if (!failed.empty()) {
    return DataError(io, std::to_string(failed.size()) + " of " + std::to_string(files.size()) +
                             " files failed: " + JoinQuoted(failed));
  }
  return kExitOk;
}

}  // namespace

void AddScoreCommand(CLI::App& root, CommandIo& io, Action& action) {
  auto args = std::make_shared<ScoreArgs>();
  auto stream = std::make_shared<ScoreStreamArgs>();
  CLI::App* sub = root.add_subcommand(
      "score",
      "Score a feature table (--input/--out) or a stream of events (--from/--to) with a model "
      "file or a scikit-learn .joblib");
  sub->add_option("--model", args->model,
                  "model: a file (machine-health or scikit-learn .joblib/.pkl), an https:// URL "
                  "(a SAS in its query), or az://ACCOUNT/CONTAINER/PATH; default: the "
                  "prototype's STORAGE_ACCOUNT_NAME/MODEL_CONTAINER_NAME/MODEL_FILE_PATH");
  CLI::Option* input = sub->add_option(
      "--input", args->input,
      "feature table: CSV with a header line, Parquet, an http(s) URL, or a folder or glob of "
      "CSV/Parquet files (read in natural order)");
  CLI::Option* out = AddOutputOptions(*sub, args->output, "scores", /*required=*/false);
  sub->add_option("--features", args->features,
                  "comma-separated input columns (or event keys) for the model's features, in "
                  "model order");
  sub->add_flag("--keep-going", args->keep_going,
                "with several input files, score the others when one fails (exit 1 all the same)");
  sub->add_option("--threads", args->threads,
                  "threads scoring a batch (0 = all cores; batches under 8192 rows per thread use "
                  "fewer); the scores do not depend on it");
  sub->add_flag("--timings", args->timings,
                "print the time spent reading, scoring and writing to standard error");
  AddScoreStreamOptions(*sub, *stream);
  sub->callback([&io, &action, args, stream, input, out] {
    action = [&io, args, stream, input, out] {
      Result<std::string> source = blob::ResolveModelSource(args->model, ProcessEnvironment());
      if (!source.ok()) return UsageError(io, kCommand, source.status().message());
      if (source->empty()) {
        return UsageError(io, kCommand,
                          "--model is required (or STORAGE_ACCOUNT_NAME, MODEL_CONTAINER_NAME and "
                          "MODEL_FILE_PATH)");
      }
      args->model = *source;
      if (!args->features.empty()) {
        Result<std::vector<std::string>> list = ParseFeatureList(args->features);
        if (!list.ok()) return UsageError(io, kCommand, list.status().message());
      }
      if (!stream->from.empty()) {
        if (input->count() > 0 || out->count() > 0) {
          return UsageError(io, kCommand, "--from (streaming) excludes --input/--out (batch)");
        }
        return RunScoreStream(args->model, args->features, *stream, io);
      }
      if (input->count() == 0 || out->count() == 0) {
        return UsageError(io, kCommand,
                          "--input and --out are required (or --from to score a stream)");
      }
      // A batch run loads its model once and exits: polling or pinning it
      // would be silently ignored.
      if (!stream->model_poll.empty() || !stream->model_sha256.empty()) {
        return UsageError(
            io, kCommand,
            std::string(stream->model_poll.empty() ? "--model-sha256" : "--model-poll") +
                " is for scoring a stream (--from); a batch run (--input) loads "
                "the model once");
      }
      return RunScore(*args, io);
    };
  });
}

}  // namespace mh::app
