// Differentiable building blocks for losses, each with its exact backward pass.
//
// Loss authors combine these instead of re-deriving the same Jacobians: every function here
// is checked against central finite differences in the SDK's tests.
#pragma once

#include <cstddef>
#include <vector>

#include "ntkssl/export.hpp"
#include "ntkssl/tensor.hpp"

namespace ntkssl::ops {

// Checks the views a loss receives: `count` matrices (0: any number ≥ 1), all of the same
// shape N×K with N ≥ min_rows and K ≥ 1, every entry finite. Throws ShapeError or
// NumericError naming `loss` and what was found.
NTKSSL_SDK_API void require_views(const std::vector<Matrix>& views, std::size_t count, const char* loss,
                                  std::size_t min_rows = 1);

// u_i = z_i / max(‖z_i‖, eps), row by row (PyTorch's F.normalize). Keeps the norms for backward.
struct RowNormalized {
    Matrix u;
    Vector norm;  // ‖z_i‖
    double eps;
};
NTKSSL_SDK_API RowNormalized normalize_rows(const Matrix& z, double eps = 1e-12);
// ∂L/∂z from ∂L/∂u: (g_i − u_i ⟨u_i, g_i⟩) / ‖z_i‖, or g_i / eps where ‖z_i‖ ≤ eps.
NTKSSL_SDK_API Matrix normalize_rows_backward(const RowNormalized& n, const Matrix& grad_u);

// z̃_ij = (z_ij − mean_j) / √(var_j + eps), per column, var biased (÷N) or unbiased (÷(N−1)).
struct Standardized {
    Matrix z;        // z̃
    Vector inv_std;  // 1/√(var_j + eps)
    bool unbiased;
};
// Throws NumericError when a column has var + eps = 0.
NTKSSL_SDK_API Standardized standardize_columns(const Matrix& z, double eps, bool unbiased = false);
// ∂L/∂z from ∂L/∂z̃: per column, (g − mean(g) − z̃ · Σ(g ∘ z̃)/d) / √(var + eps), d = N or N−1.
NTKSSL_SDK_API Matrix standardize_columns_backward(const Standardized& s, const Matrix& grad_zt);

// z − column means.
NTKSSL_SDK_API Matrix center_columns(const Matrix& z);

}  // namespace ntkssl::ops
