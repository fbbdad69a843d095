// Divergence checks for the training loop: is every gradient finite, and if not, which parameter went bad,
// said in a user's words (the layer, and the task or expert that owns the element).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "mmoe/model.h"

namespace mmoe::detail {

// Empty when every gradient is finite (dense tensors, and the touched rows of row-sparse ones); otherwise
// describes the first non-finite element, e.g. "layer 'tower.0.w' (task 'income')".
std::string first_bad_gradient(const Model& model, std::span<const int32_t> touched);

// The same for the parameters themselves (a previous update may have overflowed them).
std::string first_bad_parameter(const Model& model, std::span<const int32_t> touched);

// "layer 'first.w' (expert 3, shared by all tasks)", "layer 'first.w' (the gate of task 'y')", ... for the
// element `index` (counted from the tensor's start) of `tensor`.
std::string describe_element(const Model& model, const ParamTensor& tensor, size_t index);

}  // namespace mmoe::detail
