// mmoe train: read data, fit the feature pipeline on the training split, train, evaluate every split,
// save the model (pipeline included) and the metrics.
#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>

#include "commands.h"
#include "mmoe/error.h"
#include "mmoe/fs.h"
#include "mmoe/model_file.h"
#include "session.h"
#include "settings_setup.h"

namespace mmoe::cli {

namespace {

struct TrainArgs {
  CommonArgs common;
  DataArgs data;
  std::string out, metrics_out;
  std::string checkpoint, resume;
  long long checkpoint_every = 0;
};

nlohmann::json history_json(const TrainResult& r) {
  nlohmann::json h = nlohmann::json::array();
  for (const EpochRecord& e : r.history) {
    nlohmann::json rec = {{"epoch", e.epoch}, {"steps", e.steps}, {"train_loss", e.train_loss}, {"lr", e.lr},
                          {"seconds", e.seconds}};
    if (!std::isnan(e.valid_loss)) rec["valid_loss"] = e.valid_loss;
    if (!e.valid_metrics.empty()) rec["valid"] = e.valid_metrics;
    h.push_back(rec);
  }
  return h;
}

int run_train(const TrainArgs& a) {
  const auto t_start = std::chrono::steady_clock::now();
  ResolvedConfig rc = resolve_config("train", a.common);
  const Settings& s = rc.settings;
  const TrainConfig config = build_train_config(s);  // validates --threads before the data is read
  // Outputs are checked before the data is read and the model trained: a typo in a path must not cost a run.
  check_output_path(a.out, "--out");
  check_output_path(a.metrics_out, "--metrics-out");
  check_output_path(a.checkpoint, "--checkpoint");
  const auto t_load = std::chrono::steady_clock::now();
  Splits splits = load_splits(a.data, rc, a.common.quiet);
  const double load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
  const ModelSpec spec = build_spec(s, splits.pipeline);
  const nlohmann::json pipeline_json = splits.pipeline.to_json();
  std::unique_ptr<LoadedCheckpoint> resume;
  std::unique_ptr<Model> owned;
  if (!a.resume.empty()) {
    resume = std::make_unique<LoadedCheckpoint>(load_checkpoint(a.resume));
    if (spec_to_json(resume->model.model->spec()) != spec_to_json(spec))
      throw Error(ErrorKind::usage, "the model settings differ from the checkpoint's; resume with the same ones",
                  a.resume);
    if (resume->model.pipeline != pipeline_json)
      throw Error(ErrorKind::input, "the training data or schema differ from the checkpoint's", a.resume);
    owned = std::move(resume->model.model);
  } else {
    owned = std::make_unique<Model>(spec);
  }
  Model& model = *owned;
  std::ostream& log = std::cerr;
  if (!a.common.quiet) {
    log << "data: " << splits.describe << "\n";
    log << "data: rows train " << splits.train.rows << ", valid " << splits.valid.rows << ", test "
        << splits.test.rows << " (read and encoded in " << std::fixed << std::setprecision(2) << load_seconds
        << " s)\n";
    for (const auto& [path, n] : splits.bad_rows) log << "data: skipped " << n << " bad rows of " << path << "\n";
    log << "model: " << describe_spec(spec, model.n_params()) << "\n";
  }
  const Dataset* valid = splits.valid.rows > 0 ? &splits.valid : nullptr;
  CheckpointHooks hooks;
  hooks.resume = resume.get();
  if (a.checkpoint_every > 0) {
    if (a.checkpoint.empty())
      throw Error(ErrorKind::usage, "--checkpoint-every needs --checkpoint PATH", "--checkpoint-every");
    hooks.every_steps = a.checkpoint_every;
    hooks.save = [&](const Model& m, const Optimizer& opt, const nlohmann::json& state, std::span<const float> best) {
      save_checkpoint(a.checkpoint, m, opt, pipeline_json, state, {{"best_params", best}});
    };
  }
  const TrainResult result = train(model, splits.train, valid, config, progress_printer(a.common.quiet), hooks);

  nlohmann::json report;
  report["model"] = {{"arch", to_string(spec.arch)}, {"parameters", model.n_params()},
                     {"description", describe_spec(spec, model.n_params())}};
  report["training"] = {{"epochs_run", result.history.size()},
                        {"best_epoch", result.best_epoch},
                        {"watched", result.watched_task + " " + result.watched_metric},
                        {"stopped_early", result.stopped_early},
                        {"steps", result.steps},
                        {"train_seconds", result.train_seconds},
                        {"seconds_per_epoch", result.history.empty() ? 0.0 : result.train_seconds / result.history.size()},
                        {"load_seconds", load_seconds},
                        {"history", history_json(result)}};
  report["data"] = {{"train_rows", splits.train.rows}, {"valid_rows", splits.valid.rows},
                    {"test_rows", splits.test.rows}, {"source", splits.describe}};
  const int threads = config.threads;
  add_evaluation(report, "train", evaluate(model, splits.train, threads), spec);
  if (splits.valid.rows) add_evaluation(report, "valid", evaluate(model, splits.valid, threads), spec);
  if (splits.test.rows) add_evaluation(report, "test", evaluate(model, splits.test, threads), spec);
  report["wall_seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();

  if (!a.out.empty()) {
    nlohmann::json meta = {{"training", report["training"]}, {"model", report["model"]}, {"data", report["data"]}};
    meta["training"].erase("history");
    save_model(a.out, model, pipeline_json, meta);
  }
  if (!a.metrics_out.empty()) write_file_atomic(a.metrics_out, report.dump(2) + "\n");
  if (!a.common.quiet) {
    std::cout << "best epoch " << result.best_epoch << " of " << result.history.size() << " ("
              << result.watched_task << " " << result.watched_metric << "), " << std::fixed << std::setprecision(2)
              << result.train_seconds << " s training\n";
    std::cout << metrics_table(report);
    if (!a.out.empty()) std::cout << "model saved to " << a.out << "\n";
  }
  return 0;
}

}  // namespace

Action register_train(CLI::App& app) {
  auto a = std::make_shared<TrainArgs>();
  app.add_option("--config", a->common.config, "TOML config: [model], [train], [data], [schema] tables");
  app.add_option("--preset", a->common.preset, "a shipped config, e.g. census-income-1, census-income-2");
  app.add_option("--train", a->data.train, "training CSV (plain or .gz)");
  app.add_option("--valid", a->data.valid, "validation CSV");
  app.add_option("--test", a->data.test, "test CSV");
  app.add_option("--split", a->data.split, "split the training file at random: train,valid[,test] fractions");
  app.add_option("--label", a->data.labels, "a target column: NAME:binary|regression[:loss_weight] (repeatable)");
  app.add_option("--schema", a->data.schema_file, "TOML schema file (column kinds, separator, missing tokens)");
  app.add_option("--on-bad-row", a->data.on_bad_row, "error (default) or skip rows that fail to parse");
  app.add_option("--out,-o", a->out, "write the trained model here");
  app.add_option("--metrics-out", a->metrics_out, "write metrics JSON here");
  app.add_option("--checkpoint", a->checkpoint, "checkpoint file, rewritten atomically every --checkpoint-every steps");
  app.add_option("--checkpoint-every", a->checkpoint_every, "steps between checkpoints (0 = none)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--resume", a->resume, "continue from this checkpoint (same data and settings): the result is "
                                        "bit-identical to an uninterrupted run");
  app.add_flag("--quiet,-q", a->common.quiet, "print nothing but errors");
  add_flags(app, "train", a->common.raw, a->common.raw_lists);
  return [a]() { return run_train(*a); };
}

}  // namespace mmoe::cli
