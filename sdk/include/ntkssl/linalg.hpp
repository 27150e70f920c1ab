// Dense linear algebra for plugins, backed by the BLAS the SDK was built with (OpenBLAS).
//
// Plugins depend on the SDK only, so the SDK library carries the few BLAS calls that the hot
// loops of architectures and losses need, on the boundary's own types. All matrices are
// row-major and contiguous (an ntkssl::Matrix always is).
#pragma once

#include "ntkssl/export.hpp"
#include "ntkssl/tensor.hpp"

namespace ntkssl::linalg {

enum class Op { none, transpose };

// C = alpha · op(A) · op(B) + beta · C. C must already have the result's shape when beta != 0;
// otherwise it is resized. Throws ShapeError on mismatched inner dimensions.
NTKSSL_SDK_API void gemm(const Matrix& a, Op op_a, const Matrix& b, Op op_b, Matrix& c,
                         double alpha = 1.0, double beta = 0.0);

// Row-major contiguous blocks of memory owned elsewhere (e.g. a weight block inside θ), so that
// hot loops multiply in place instead of copying.
struct ConstView {
    const double* data;
    std::size_t rows, cols;
};
struct MutableView {
    double* data;
    std::size_t rows, cols;
    operator ConstView() const noexcept { return {data, rows, cols}; }
};
inline ConstView view(const Matrix& m) { return {m.data(), m.shape(0), m.shape(1)}; }
inline MutableView view(Matrix& m) { return {m.data(), m.shape(0), m.shape(1)}; }
// rows×cols starting at v[offset]; throws ShapeError when it does not fit in v.
NTKSSL_SDK_API ConstView view(const Vector& v, std::size_t offset, std::size_t rows, std::size_t cols);
NTKSSL_SDK_API MutableView view(Vector& v, std::size_t offset, std::size_t rows, std::size_t cols);

// C = alpha · op(A) · op(B) + beta · C on views; C must have the result's shape.
NTKSSL_SDK_API void gemm(ConstView a, Op op_a, ConstView b, Op op_b, MutableView c, double alpha = 1.0, double beta = 0.0);

// Convenience: returns op(A) · op(B).
NTKSSL_SDK_API Matrix matmul(const Matrix& a, const Matrix& b, Op op_a = Op::none,
                             Op op_b = Op::none);

// C = alpha · A · Aᵀ (op = none) or alpha · Aᵀ · A (op = transpose); both triangles filled.
NTKSSL_SDK_API Matrix gram(const Matrix& a, Op op = Op::none, double alpha = 1.0);

// Symmetric rank-k update of the upper triangle only: C_upper = alpha · A·Aᵀ (op = none) or
// alpha · Aᵀ·A (op = transpose) + beta · C_upper. C must be square of the result's size. Half
// the flops of the equivalent gemm; call mirror_upper() once when the accumulation is done.
NTKSSL_SDK_API void syrk(const Matrix& a, Op op, Matrix& c, double alpha = 1.0, double beta = 1.0);
// Copies the upper triangle of a square matrix into its lower triangle.
NTKSSL_SDK_API void mirror_upper(Matrix& c) noexcept;

// Symmetric eigendecomposition A = U diag(λ) Uᵀ (LAPACK dsyevd; only the upper triangle of A is
// read). Eigenvalues ascending; column j of U is the unit eigenvector of λ_j. Throws ShapeError
// for a non-square A and NumericError when A has non-finite entries or LAPACK fails.
struct Eigen {
    Vector values;
    Matrix vectors;
};
NTKSSL_SDK_API Eigen eigh(const Matrix& a);

// Frobenius norm.
NTKSSL_SDK_API double frobenius_norm(const Matrix& a) noexcept;

}  // namespace ntkssl::linalg
