// mmoe predict: one output row per input record, in input order. A record that could not be parsed (with
// --on-bad-row skip) keeps its place, marked "skipped" in the status column, so nothing shifts silently.
#include <CLI/CLI.hpp>
#include <charconv>
#include <iostream>

#include "commands.h"
#include "mmoe/error.h"
#include "mmoe/fs.h"
#include "mmoe/model_file.h"
#include "mmoe/train.h"
#include "session.h"
#include "settings_setup.h"

namespace mmoe::cli {

namespace {

struct PredictArgs {
  CommonArgs common;
  std::string model, data, out, on_bad_row;
};

void append_float(std::string& out, float v) {
  char buf[32];
  const auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, ec == std::errc() ? ptr : buf);
}

int run_predict(const PredictArgs& a) {
  ResolvedConfig rc = resolve_config("predict", a.common);
  const int threads = checked_threads(rc.settings);
  const bool to_stdout = a.out.empty() || a.out == "-";
  if (!to_stdout) check_output_path(a.out, "--out");
  LoadedModel loaded = load_model(a.model);
  const FeaturePipeline pipeline = FeaturePipeline::from_json(loaded.pipeline);
  ReadOptions options;
  options.threads = threads;
  if (!a.on_bad_row.empty()) options.on_bad_row = parse_bad_row_policy(a.on_bad_row, "--on-bad-row");
  const RawTable table = pipeline.read(a.data, options);
  const Dataset data = pipeline.transform(table, threads);
  const std::vector<float> pred = predict(*loaded.model, data, threads);
  const ModelSpec& spec = loaded.model->spec();
  const size_t T = static_cast<size_t>(spec.n_task());
  const bool with_status = options.on_bad_row == BadRowPolicy::skip;

  std::string out;
  out.reserve(table.record_rows.size() * (T * 12 + 8) + 64);
  for (size_t k = 0; k < T; ++k) out += (k ? "," : "") + spec.tasks[k].name;
  if (with_status) out += ",status";
  out += "\n";
  for (const int64_t row : table.record_rows) {
    for (size_t k = 0; k < T; ++k) {
      if (k) out += ",";
      if (row >= 0) append_float(out, pred[static_cast<size_t>(row) * T + k]);
    }
    if (with_status) out += row >= 0 ? ",ok" : ",skipped";
    out += "\n";
  }
  if (to_stdout) std::cout << out;
  else write_file_atomic(a.out, out);
  // The report goes to stderr, so it is given with predictions on stdout too.
  if (!a.common.quiet && (!to_stdout || table.n_bad_rows() > 0)) {
    std::cerr << "wrote " << table.record_rows.size() << " predictions to " << (to_stdout ? "standard output" : a.out);
    if (table.n_bad_rows()) std::cerr << " (" << table.n_bad_rows() << " input rows skipped, marked)";
    std::cerr << "\n" << describe_bad_rows(table, "  skipped ");
  }
  return 0;
}

}  // namespace

Action register_predict(CLI::App& app) {
  auto a = std::make_shared<PredictArgs>();
  app.add_option("--model,-m", a->model, "model file written by mmoe train")->required();
  app.add_option("--data,-d", a->data, "CSV in the training file's format; label columns may be absent")->required();
  app.add_option("--out,-o", a->out, "output CSV (default: standard output)");
  app.add_option("--on-bad-row", a->on_bad_row, "error (default) or skip: a bad row gets an empty, 'skipped' line");
  app.add_option("--config", a->common.config, "TOML config ([train] threads)");
  app.add_flag("--quiet,-q", a->common.quiet, "print nothing but errors");
  add_flags(app, "predict", a->common.raw, a->common.raw_lists);
  return [a]() { return run_predict(*a); };
}

}  // namespace mmoe::cli
