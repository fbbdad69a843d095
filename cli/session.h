// cli/session.h: what train, eval and predict share: reading data through the feature pipeline, the model
// spec from settings, progress display and the metrics report.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mmoe/dataset.h"
#include "mmoe/features.h"
#include "mmoe/spec.h"
#include "mmoe/train.h"
#include "params.h"

namespace mmoe::cli {

// The three splits of a training run, encoded by a pipeline fitted on the training split only.
struct Splits {
  FeaturePipeline pipeline;
  Dataset train, valid, test;
  std::vector<std::pair<std::string, size_t>> bad_rows;  // file -> skipped rows
  std::string describe;                                  // one line: where each split came from
};

struct DataArgs {
  std::string train, valid, test, split, schema_file;
  std::vector<std::string> labels;  // "name:kind[:loss_weight]"
  std::string on_bad_row;
};

// Reads the data, fits the pipeline on the training rows and encodes every split. Unless quiet, the first few
// rows skipped under --on-bad-row skip are listed on stderr with their locations.
Splits load_splits(const DataArgs& args, const struct ResolvedConfig& rc, bool quiet);

// The rows a read skipped, for stderr: one "<prefix>path:line:col: why" line for each of the first few, then
// the line numbers of some more. Empty when nothing was skipped.
std::string describe_bad_rows(const RawTable& table, const std::string& prefix);

// Model spec from settings and the fitted pipeline (tasks, inputs). Shared-bottom without --bottom-units
// gets one layer whose width matches the MoE's parameter count.
ModelSpec build_spec(const Settings& s, const FeaturePipeline& pipeline);

TrainConfig build_train_config(const Settings& s);

// Progress line on stderr when it is a terminal; nothing otherwise.
ProgressFn progress_printer(bool quiet);

// {"tasks": {task: {split: {metric: value}}}} merged into `report`, and the gate statistics per split.
void add_evaluation(nlohmann::json& report, const std::string& split, const Evaluation& ev, const ModelSpec& spec);
// A fixed-width table of the per-task metrics of each split, for humans.
std::string metrics_table(const nlohmann::json& report);

std::string describe_spec(const ModelSpec& spec, size_t n_params);

}  // namespace mmoe::cli
