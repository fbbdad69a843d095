#include "train/divergence.h"

#include <cmath>

#include "kernels/elementwise.h"

namespace mmoe::detail {

namespace {

std::string task_name(const Model& model, int64_t task) {
  return "task '" + model.spec().tasks[static_cast<size_t>(task)].name + "'";
}

// The member of the bank: an expert of a MoE, the bottom of Shared-Bottom, or a task's own network.
std::string bank_member(const Model& model, int64_t member) {
  const ModelSpec& spec = model.spec();
  switch (spec.arch) {
    case Arch::shared_bottom: return "the shared bottom";
    case Arch::single_task: return "the network of " + task_name(model, member);
    default: return "expert " + std::to_string(member) + ", shared by all tasks";
  }
}

// Who owns column `column` of the first layer's fused output: an expert (or the shared bottom, or a task's
// own network for single-task), or a gate.
std::string first_layer_owner(const Model& model, int64_t column) {
  const ModelSpec& spec = model.spec();
  const int64_t bank = spec.bank_size();
  const int64_t expert_columns = bank * spec.expert_units[0];
  if (column < expert_columns) return bank_member(model, column / spec.expert_units[0]);
  const int64_t gate = (column - expert_columns) / bank;
  if (spec.n_gate() == 1) return "the gate shared by all tasks";
  return "the gate of " + task_name(model, gate);
}

// Scans `tensor` (only the touched rows when it is row-sparse) in `values` for the first non-finite element.
std::string first_bad(const Model& model, const float* values, std::span<const int32_t> touched) {
  for (const ParamTensor& t : model.tensors()) {
    if (t.row_sparse) {
      const size_t width = static_cast<size_t>(t.shape[1]);
      for (int32_t r : touched) {
        const size_t row = t.offset + static_cast<size_t>(r) * width;
        if (kernels::all_finite(values + row, width)) continue;
        for (size_t c = 0; c < width; ++c)
          if (!std::isfinite(values[row + c])) return describe_element(model, t, static_cast<size_t>(r) * width + c);
      }
      continue;
    }
    if (kernels::all_finite(values + t.offset, t.size)) continue;
    for (size_t i = 0; i < t.size; ++i)
      if (!std::isfinite(values[t.offset + i])) return describe_element(model, t, i);
  }
  return {};
}

}  // namespace

std::string describe_element(const Model& model, const ParamTensor& t, size_t index) {
  std::string owner;
  const auto i = static_cast<int64_t>(index);
  if (t.name == "first.w" || t.name == "first.onehot") {
    owner = first_layer_owner(model, i % t.shape[1]);
  } else if (t.name == "first.b") {
    owner = first_layer_owner(model, i);
  } else if (t.name.starts_with("expert.")) {
    owner = bank_member(model, i / (static_cast<int64_t>(t.size) / t.shape[0]));
  } else if (t.name.starts_with("tower.")) {
    owner = task_name(model, i / (static_cast<int64_t>(t.size) / t.shape[0]));
  } else if (t.name == "embed.table") {
    owner = "category row " + std::to_string(i / t.shape[1]) + ", shared by all tasks";
  }
  return "layer '" + t.name + "'" + (owner.empty() ? "" : " (" + owner + ")");
}

std::string first_bad_gradient(const Model& model, std::span<const int32_t> touched) {
  // Fast path first: one vectorised pass over the dense block, then the touched sparse rows.
  bool finite = kernels::all_finite(model.grads().data(), model.dense_floats());
  for (const ParamTensor& t : model.tensors()) {
    if (!finite || !t.row_sparse) continue;
    const size_t width = static_cast<size_t>(t.shape[1]);
    for (int32_t r : touched)
      finite = finite && kernels::all_finite(model.grads().data() + t.offset + static_cast<size_t>(r) * width, width);
  }
  if (finite) return {};
  return first_bad(model, model.grads().data(), touched);
}

std::string first_bad_parameter(const Model& model, std::span<const int32_t> touched) {
  return first_bad(model, model.params().data(), touched);
}

}  // namespace mmoe::detail
