#include "mmoe/spec.h"

#include <numeric>

#include "mmoe/error.h"

namespace mmoe {

int ModelSpec::bank_size() const {
  switch (arch) {
    case Arch::mmoe:
    case Arch::omoe: return n_expert;
    case Arch::shared_bottom: return 1;
    case Arch::single_task: return n_task();
  }
  return 0;
}

int ModelSpec::n_gate() const {
  switch (arch) {
    case Arch::mmoe: return n_task();
    case Arch::omoe: return 1;
    default: return 0;
  }
}

int ModelSpec::route(int task) const {
  switch (arch) {
    case Arch::mmoe: return task;           // gate k
    case Arch::omoe: return 0;              // the one gate
    case Arch::shared_bottom: return 0;     // the bottom
    case Arch::single_task: return task;    // expert k
  }
  return 0;
}

int64_t ModelSpec::total_categories() const {
  return std::accumulate(cat_cardinality.begin(), cat_cardinality.end(), int64_t{0});
}

int64_t ModelSpec::gemm_input_width() const {
  int64_t width = n_dense;
  if (cat_encoding == CatEncoding::embedding) width += static_cast<int64_t>(cat_cardinality.size()) * embedding_dim;
  return width;
}

static void require(bool ok, const std::string& key, const std::string& message) {
  if (!ok) throw Error(ErrorKind::usage, message, "key '" + key + "'");
}

void ModelSpec::validate() const {
  require(!tasks.empty(), "tasks", "a model needs at least one task (give a --label)");
  require(!(arch == Arch::omoe || arch == Arch::mmoe) || (n_expert >= 1 && n_expert <= 4096), "model.experts",
          "the number of experts must be in [1, 4096], got " + std::to_string(n_expert));
  require(!expert_units.empty(), "model.expert_units", "experts (or the shared bottom) need at least one layer");
  for (int units : expert_units)
    require(units >= 1 && units <= 65536, "model.expert_units", "layer widths must be in [1, 65536], got " +
                                                                    std::to_string(units));
  for (int units : tower_units)
    require(units >= 1 && units <= 65536, "model.tower_units", "layer widths must be in [1, 65536], got " +
                                                                   std::to_string(units));
  require(n_dense >= 0, "n_dense", "negative input width");
  require(n_dense + static_cast<int64_t>(cat_cardinality.size()) > 0, "features",
          "the model has no input features: every column is a label or ignored");
  for (int64_t card : cat_cardinality) require(card >= 1, "cat_cardinality", "a categorical column has no values");
  require(cat_encoding != CatEncoding::embedding || (embedding_dim >= 1 && embedding_dim <= 4096),
          "model.embedding_dim", "embedding_dim must be in [1, 4096], got " + std::to_string(embedding_dim));
  for (const TaskSpec& task : tasks)
    require(task.loss_weight >= 0.0f, "tasks." + task.name + ".loss_weight", "a loss weight must be >= 0");
}

const char* to_string(Arch arch) {
  switch (arch) {
    case Arch::mmoe: return "mmoe";
    case Arch::omoe: return "omoe";
    case Arch::shared_bottom: return "shared-bottom";
    case Arch::single_task: return "single-task";
  }
  return "?";
}
const char* to_string(TaskKind kind) { return kind == TaskKind::binary ? "binary" : "regression"; }
const char* to_string(CatEncoding enc) { return enc == CatEncoding::onehot ? "onehot" : "embedding"; }
const char* to_string(Init init) {
  switch (init) {
    case Init::torch_default: return "torch";
    case Init::xavier_uniform: return "xavier";
    case Init::he_uniform: return "he";
  }
  return "?";
}

Arch parse_arch(const std::string& text) {
  if (text == "mmoe") return Arch::mmoe;
  if (text == "omoe" || text == "moe") return Arch::omoe;
  if (text == "shared-bottom" || text == "shared_bottom" || text == "sb") return Arch::shared_bottom;
  if (text == "single-task" || text == "single_task") return Arch::single_task;
  throw Error(ErrorKind::usage, "unknown model '" + text + "' (expected mmoe, omoe, shared-bottom or single-task)",
              "model");
}
TaskKind parse_task_kind(const std::string& text) {
  if (text == "binary") return TaskKind::binary;
  if (text == "regression") return TaskKind::regression;
  throw Error(ErrorKind::usage, "unknown task kind '" + text + "' (expected binary or regression)", "label");
}
CatEncoding parse_cat_encoding(const std::string& text) {
  if (text == "onehot" || text == "one-hot") return CatEncoding::onehot;
  if (text == "embedding") return CatEncoding::embedding;
  throw Error(ErrorKind::usage, "unknown categorical encoding '" + text + "' (expected onehot or embedding)",
              "cat_encoding");
}
Init parse_init(const std::string& text) {
  if (text == "torch" || text == "default") return Init::torch_default;
  if (text == "xavier") return Init::xavier_uniform;
  if (text == "he") return Init::he_uniform;
  throw Error(ErrorKind::usage, "unknown init '" + text + "' (expected torch, xavier or he)", "init");
}

}  // namespace mmoe
