// Gram matrices of kernels that are functions of inner products and norms, computed blockwise:
// rows of X1 are taken in blocks, the block's inner products X1_b X2ᵀ come from one BLAS gemm,
// and the kernel maps them entry by entry. Working memory: a few blocks of block_rows × N2.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <functional>

#include <ntkssl/errors.hpp>
#include <ntkssl/linalg.hpp>

namespace ntkssl::plugins {

// Squared row norms.
inline Vector squared_norms(const Matrix& x) {
    Vector out = xt::zeros<double>({x.shape(0)});
    for (std::size_t i = 0; i < x.shape(0); ++i)
        for (std::size_t j = 0; j < x.shape(1); ++j) out(i) += x(i, j) * x(i, j);
    return out;
}

// map(row0, dots, out_block): dots is (rows × N2) with dots(i, j) = ⟨x1_{row0+i}, x2_j⟩; out_block
// (same shape) receives the kernel's values. Returns the N1×N2 Gram matrix.
inline Matrix inner_product_gram(const Matrix& x1, const Matrix& x2, const char* kernel,
                                 const std::function<void(std::size_t, const Matrix&, Matrix&)>& map,
                                 std::size_t budget_bytes = std::size_t{64} << 20) {
    NTKSSL_CHECK(x1.shape(1) == x2.shape(1), ShapeError,
                 kernel << ": the two sets have " << x1.shape(1) << " and " << x2.shape(1) << " features");
    const std::size_t n1 = x1.shape(0), n2 = x2.shape(0), d = x1.shape(1);
    Matrix out = Matrix::from_shape({n1, n2});
    if (n1 == 0 || n2 == 0) return out;
    const std::size_t rows = std::clamp<std::size_t>(budget_bytes / (8 * std::max<std::size_t>(n2, 1) * 4), 1, n1);
    Matrix block = Matrix::from_shape({rows, d}), dots, values;
    for (std::size_t r0 = 0; r0 < n1; r0 += rows) {
        const std::size_t r = std::min(rows, n1 - r0);
        if (block.shape(0) != r) block = Matrix::from_shape({r, d});
        std::memcpy(block.data(), &x1(r0, 0), r * d * sizeof(double));
        linalg::gemm(block, linalg::Op::none, x2, linalg::Op::transpose, dots);
        values = Matrix::from_shape({r, n2});
        map(r0, dots, values);
        std::memcpy(&out(r0, 0), values.data(), r * n2 * sizeof(double));
    }
    return out;
}

}  // namespace ntkssl::plugins
