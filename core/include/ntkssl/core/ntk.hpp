// The empirical NTK of an architecture at parameters θ.
//
//   Θ(X1, X2)[n·K + k, n'·K + l] = Σ_p ∂f_k(x_n)/∂θ_p · ∂f_l(x'_n')/∂θ_p   (trainable p only)
//
// Two exact paths: the architecture's structured formula (when it offers one), or the generic
// contraction of per-example Jacobians, chunk by chunk so that at most `memory_budget_bytes`
// of Jacobian rows are alive at once (never the whole (N·K)×P Jacobian for large N·P).
#pragma once

#include <cstddef>

#include <ntkssl/architecture.hpp>

#include "ntkssl/core/registry.hpp"

namespace ntkssl::core {

enum class NtkMethod { automatic, generic, structured };
NtkMethod parse_ntk_method(const std::string& name);

Matrix empirical_ntk(const Component<Architecture>& arch, const Vector& theta, const Matrix& x1, const Matrix& x2,
                     NtkMethod method, std::size_t memory_budget_bytes, NtkOutput output = NtkOutput::full);

// The weighted NTK J1 diag(w) J2ᵀ (w ≥ 0 per parameter, e.g. learning-rate multipliers), by
// the generic path: the structured formulas know no per-parameter weights.
Matrix weighted_empirical_ntk(const Component<Architecture>& arch, const Vector& theta, const Matrix& x1, const Matrix& x2,
                              const Vector& weights, std::size_t memory_budget_bytes);

// The reduction of a full (N1·K)×(N2·K) NTK to the given output (see NtkOutput).
Matrix reduce_ntk(const Matrix& full, std::size_t k, NtkOutput output);

// Rows [begin, end) of x as a new contiguous matrix.
Matrix take_rows(const Matrix& x, std::size_t begin, std::size_t end);

}  // namespace ntkssl::core
