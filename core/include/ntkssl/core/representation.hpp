// Comparing representations and reading them out: what the kernel-model and probe metrics
// compute, as plain functions of N×K matrices (rows are samples).
#pragma once

#include <cstdint>
#include <vector>

#include <ntkssl/tensor.hpp>

namespace ntkssl::core {

// ‖F Fᵀ − G Gᵀ‖_F / ‖G Gᵀ‖_F: zero exactly when F = G R for an orthogonal R (the rotation
// freedom of SSL solutions), computed as ‖FᵀF‖² + ‖GᵀG‖² − 2‖FᵀG‖² in K×K products.
double relative_gram_distance(const Matrix& f, const Matrix& g);

// Linear CKA (Kornblith et al. 2019) of column-centred F̃, G̃: ‖F̃ᵀG̃‖²_F / (‖F̃ᵀF̃‖_F ‖G̃ᵀG̃‖_F),
// in [0, 1], 1 for F = G R·c (rotation and scale); 0 when either has no variance.
double linear_cka(const Matrix& f, const Matrix& g);

// Ridge linear probe: fit W on [F_train, 1] to the one-hot labels with ridge
// λ = ridge · tr(F̂ᵀF̂)/(K+1), predict argmax on [F_test, 1]; the fraction of test samples whose
// label is predicted. Labels of the test set that never occur in training count as errors.
double linear_probe_accuracy(const Matrix& f_train, const Labels& y_train, const Matrix& f_test, const Labels& y_test,
                             double ridge);

// The steps at which a run of `steps` steps is measured: 0, then every `every` steps, or
// (every = 0) `count` steps spaced linearly or geometrically up to `steps`; always `steps`.
std::vector<std::int64_t> measurement_steps(std::int64_t steps, std::int64_t every, std::int64_t count, bool log_spacing);

}  // namespace ntkssl::core
