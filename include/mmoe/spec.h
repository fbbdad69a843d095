// mmoe/spec.h: what a model is, as plain data.
//
// One ModelSpec describes all four architectures, because they share one skeleton:
//
//   input (dense x, categorical codes) -> fused first layer -> expert bank -> routing -> towers -> outputs
//
//   arch            experts            routing to task k
//   mmoe            n_expert MLPs      softmax gate k (its own gate per task)
//   omoe            n_expert MLPs      softmax gate 0 (one gate shared by all tasks)
//   shared_bottom   1 MLP (bottom)     the bottom, unmixed
//   single_task     n_task MLPs        expert k only (one independent network per task)
//
// Every expert is the same MLP: `expert_units` hidden widths with ReLU after each layer. Every tower is
// `tower_units` hidden widths with ReLU, then a linear output of one unit. Gates are linear + bias + softmax
// over the input. The first layer of all experts and all gates read the same input, so they are one GEMM.
//
//   mmoe::ModelSpec spec;
//   spec.arch = mmoe::Arch::mmoe;
//   spec.n_expert = 8; spec.expert_units = {16}; spec.tower_units = {8};
//   spec.tasks = {{"y1", mmoe::TaskKind::regression}, {"y2", mmoe::TaskKind::regression}};
//   spec.n_dense = 100;
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace mmoe {

enum class Arch { mmoe, omoe, shared_bottom, single_task };
enum class TaskKind { binary, regression };
// How categorical columns enter the first layer. onehot: each code selects a row of first-layer weights
// (the one-hot matrix is never built). embedding: each code selects an embedding vector that joins x.
enum class CatEncoding { onehot, embedding };
enum class Init { torch_default, xavier_uniform, he_uniform };

struct TaskSpec {
  std::string name;
  TaskKind kind = TaskKind::binary;
  float loss_weight = 1.0f;
};

struct ModelSpec {
  Arch arch = Arch::mmoe;
  int n_expert = 8;                      // mmoe/omoe only
  std::vector<int> expert_units = {16};  // hidden widths of each expert (the bottom, for shared_bottom)
  std::vector<int> tower_units = {8};    // hidden widths of each tower, before its 1-unit output
  std::vector<TaskSpec> tasks;

  int64_t n_dense = 0;                      // dense input width
  std::vector<int64_t> cat_cardinality;     // one entry per categorical column
  CatEncoding cat_encoding = CatEncoding::onehot;
  int embedding_dim = 8;                    // CatEncoding::embedding only

  Init init = Init::torch_default;

  int n_task() const { return static_cast<int>(tasks.size()); }
  // Experts in the bank: n_expert (mmoe/omoe), 1 (shared_bottom), n_task (single_task).
  int bank_size() const;
  // Gates: n_task (mmoe), 1 (omoe), 0 otherwise.
  int n_gate() const;
  // Which gate (or, without gates, which expert) feeds task k.
  int route(int task) const;
  // Total categorical vocabulary (sum of cardinalities).
  int64_t total_categories() const;
  // Width of the input the first layer's dense GEMM sees: n_dense (+ n_cat * embedding_dim).
  int64_t gemm_input_width() const;

  // Throws ErrorKind::usage naming the field at fault.
  void validate() const;
};

const char* to_string(Arch arch);
const char* to_string(TaskKind kind);
const char* to_string(CatEncoding enc);
const char* to_string(Init init);
// Parsers throw ErrorKind::usage with the accepted spellings in the message.
Arch parse_arch(const std::string& text);
TaskKind parse_task_kind(const std::string& text);
CatEncoding parse_cat_encoding(const std::string& text);
Init parse_init(const std::string& text);

}  // namespace mmoe
