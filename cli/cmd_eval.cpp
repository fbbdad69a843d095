// mmoe eval: score a saved model on labelled data (raw rows; the model's pipeline encodes them).
#include <CLI/CLI.hpp>
#include <iostream>

#include "commands.h"
#include "mmoe/error.h"
#include "mmoe/fs.h"
#include "mmoe/model_file.h"
#include "session.h"
#include "settings_setup.h"

namespace mmoe::cli {

namespace {

struct EvalArgs {
  CommonArgs common;
  std::string model, data, metrics_out, split_name = "test", on_bad_row;
};

int run_eval(const EvalArgs& a) {
  ResolvedConfig rc = resolve_config("eval", a.common);
  const int threads = checked_threads(rc.settings);
  check_output_path(a.metrics_out, "--metrics-out");
  LoadedModel loaded = load_model(a.model);
  const FeaturePipeline pipeline = FeaturePipeline::from_json(loaded.pipeline);
  ReadOptions options;
  options.threads = threads;
  if (!a.on_bad_row.empty()) options.on_bad_row = parse_bad_row_policy(a.on_bad_row, "--on-bad-row");
  const RawTable table = pipeline.read(a.data, options);
  // The pipeline reads label columns as optional (predict has none); scoring without them would be empty.
  for (const TaskSpec& task : pipeline.tasks())
    if (!table.find(task.name))
      throw Error(ErrorKind::input, "label column '" + task.name + "' is not in this file; eval needs the labels",
                  a.data, "use mmoe predict for rows without labels");
  const Dataset data = pipeline.transform(table, threads);
  const ModelSpec& spec = loaded.model->spec();
  nlohmann::json report;
  add_evaluation(report, a.split_name, evaluate(*loaded.model, data, threads), spec);
  report["data"] = {{"path", a.data}, {"rows", data.rows}, {"skipped_rows", table.n_bad_rows()}};
  if (!a.metrics_out.empty()) write_file_atomic(a.metrics_out, report.dump(2) + "\n");
  if (!a.common.quiet && table.n_bad_rows() > 0)
    std::cerr << "data: skipped " << table.n_bad_rows() << " bad rows of " << a.data << ", scored "
              << data.rows << "\n"
              << describe_bad_rows(table, "data: skipped ");
  if (!a.common.quiet) std::cout << metrics_table(report);
  return 0;
}

}  // namespace

Action register_eval(CLI::App& app) {
  auto a = std::make_shared<EvalArgs>();
  app.add_option("--model,-m", a->model, "model file written by mmoe train")->required();
  app.add_option("--data,-d", a->data, "labelled CSV in the training file's format")->required();
  app.add_option("--metrics-out", a->metrics_out, "write metrics JSON here");
  app.add_option("--split-name", a->split_name, "split name in the metrics JSON (default: test)");
  app.add_option("--on-bad-row", a->on_bad_row, "error (default) or skip rows that fail to parse");
  app.add_option("--config", a->common.config, "TOML config ([train] threads)");
  app.add_flag("--quiet,-q", a->common.quiet, "print nothing but errors");
  add_flags(app, "eval", a->common.raw, a->common.raw_lists);
  return [a]() { return run_eval(*a); };
}

}  // namespace mmoe::cli
