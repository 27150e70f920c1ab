// The SDK's one BLAS user. <cblas.h> must not meet xtensor-blas in a translation unit
// (duplicate enums), so this file talks to CBLAS directly on contiguous row-major buffers.
#include "ntkssl/linalg.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include <xtensor/xmanipulation.hpp>

#include "ntkssl/errors.hpp"

extern "C" {
// LAPACK (shipped inside OpenBLAS), column-major Fortran interface.
void dsyevd_(const char* jobz, const char* uplo, const int* n, double* a, const int* lda, double* w, double* work,
             const int* lwork, int* iwork, const int* liwork, int* info);
}

namespace ntkssl::linalg {

namespace {
CBLAS_TRANSPOSE cblas_op(Op op) { return op == Op::none ? CblasNoTrans : CblasTrans; }
std::size_t rows(const Matrix& a, Op op) { return op == Op::none ? a.shape(0) : a.shape(1); }
std::size_t cols(const Matrix& a, Op op) { return op == Op::none ? a.shape(1) : a.shape(0); }
}  // namespace

void gemm(const Matrix& a, Op op_a, const Matrix& b, Op op_b, Matrix& c, double alpha, double beta) {
    const std::size_t m = rows(a, op_a), k = cols(a, op_a), n = cols(b, op_b);
    NTKSSL_CHECK(rows(b, op_b) == k, ShapeError,
                 "gemm: inner dimensions differ: op(A) is " << m << "×" << k << ", op(B) is "
                                                            << rows(b, op_b) << "×" << n);
    if (beta == 0.0) {
        if (c.shape(0) != m || c.shape(1) != n) c = Matrix::from_shape({m, n});
    } else {
        NTKSSL_CHECK(c.shape(0) == m && c.shape(1) == n, ShapeError,
                     "gemm: C is " << c.shape(0) << "×" << c.shape(1) << ", expected " << m << "×" << n);
    }
    if (m == 0 || n == 0) return;
    if (k == 0) {
        if (beta == 0.0) c.fill(0.0); else c *= beta;
        return;
    }
    cblas_dgemm(CblasRowMajor, cblas_op(op_a), cblas_op(op_b), static_cast<int>(m), static_cast<int>(n),
                static_cast<int>(k), alpha, a.data(), static_cast<int>(a.shape(1)), b.data(),
                static_cast<int>(b.shape(1)), beta, c.data(), static_cast<int>(n));
}

ConstView view(const Vector& v, std::size_t offset, std::size_t rows, std::size_t cols) {
    NTKSSL_CHECK(offset + rows * cols <= v.size(), ShapeError,
                 "view: " << rows << "×" << cols << " at offset " << offset << " exceeds a vector of " << v.size());
    return {v.data() + offset, rows, cols};
}

MutableView view(Vector& v, std::size_t offset, std::size_t rows, std::size_t cols) {
    NTKSSL_CHECK(offset + rows * cols <= v.size(), ShapeError,
                 "view: " << rows << "×" << cols << " at offset " << offset << " exceeds a vector of " << v.size());
    return {v.data() + offset, rows, cols};
}

void gemm(ConstView a, Op op_a, ConstView b, Op op_b, MutableView c, double alpha, double beta) {
    const std::size_t m = op_a == Op::none ? a.rows : a.cols, k = op_a == Op::none ? a.cols : a.rows;
    const std::size_t kb = op_b == Op::none ? b.rows : b.cols, n = op_b == Op::none ? b.cols : b.rows;
    NTKSSL_CHECK(kb == k, ShapeError, "gemm: inner dimensions differ: op(A) is " << m << "×" << k << ", op(B) is " << kb << "×" << n);
    NTKSSL_CHECK(c.rows == m && c.cols == n, ShapeError, "gemm: C is " << c.rows << "×" << c.cols << ", expected " << m << "×" << n);
    if (m == 0 || n == 0) return;
    if (k == 0) {
        for (std::size_t i = 0; i < m * n; ++i) c.data[i] = beta == 0.0 ? 0.0 : beta * c.data[i];
        return;
    }
    cblas_dgemm(CblasRowMajor, cblas_op(op_a), cblas_op(op_b), static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha,
                a.data, static_cast<int>(a.cols), b.data, static_cast<int>(b.cols), beta, c.data, static_cast<int>(n));
}

Matrix matmul(const Matrix& a, const Matrix& b, Op op_a, Op op_b) {
    Matrix c = Matrix::from_shape({rows(a, op_a), cols(b, op_b)});
    gemm(a, op_a, b, op_b, c);
    return c;
}

void syrk(const Matrix& a, Op op, Matrix& c, double alpha, double beta) {
    const std::size_t n = rows(a, op), k = cols(a, op);
    NTKSSL_CHECK(c.shape(0) == n && c.shape(1) == n, ShapeError,
                 "syrk: C is " << c.shape(0) << "×" << c.shape(1) << ", expected " << n << "×" << n);
    if (n == 0 || k == 0) {
        if (beta != 1.0) c *= beta;
        return;
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, cblas_op(op), static_cast<int>(n), static_cast<int>(k), alpha, a.data(),
                static_cast<int>(a.shape(1)), beta, c.data(), static_cast<int>(n));
}

void mirror_upper(Matrix& c) noexcept {
    const std::size_t n = c.shape(0);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < i; ++j) c(i, j) = c(j, i);
}

Matrix gram(const Matrix& a, Op op, double alpha) {
    const std::size_t n = rows(a, op);
    Matrix c = xt::zeros<double>({n, n});
    syrk(a, op, c, alpha, 0.0);
    mirror_upper(c);
    return c;
}

Eigen eigh(const Matrix& a) {
    NTKSSL_CHECK(a.shape(0) == a.shape(1), ShapeError, "eigh: the matrix is " << a.shape(0) << "×" << a.shape(1) << ", not square");
    const int n = static_cast<int>(a.shape(0));
    Eigen out;
    out.values = Vector::from_shape({a.shape(0)});
    if (n == 0) {
        out.vectors = Matrix::from_shape({0, 0});
        return out;
    }
    for (double v : a) NTKSSL_CHECK(std::isfinite(v), NumericError, "eigh: the matrix has non-finite entries");
    // Row-major A read as column-major is Aᵀ: the same symmetric matrix, with its upper triangle
    // seen as the lower one. The eigenvectors come back as the columns of a column-major
    // matrix, i.e. the rows of the row-major buffer, and are transposed at the end.
    Matrix work_a = a;
    const char jobz = 'V', uplo = 'L';
    int lwork = -1, liwork = -1, info = 0, iwork_query = 0;
    double work_query = 0;
    dsyevd_(&jobz, &uplo, &n, work_a.data(), &n, out.values.data(), &work_query, &lwork, &iwork_query, &liwork, &info);
    lwork = static_cast<int>(work_query);
    liwork = iwork_query;
    std::vector<double> work(static_cast<std::size_t>(std::max(1, lwork)));
    std::vector<int> iwork(static_cast<std::size_t>(std::max(1, liwork)));
    dsyevd_(&jobz, &uplo, &n, work_a.data(), &n, out.values.data(), work.data(), &lwork, iwork.data(), &liwork, &info);
    NTKSSL_CHECK(info == 0, NumericError, "eigh: LAPACK dsyevd failed (info = " << info << ") on a " << n << "×" << n << " matrix");
    out.vectors = xt::transpose(work_a);
    return out;
}

double frobenius_norm(const Matrix& a) noexcept {
    double s = 0.0;
    for (double v : a) s += v * v;
    return std::sqrt(s);
}

}  // namespace ntkssl::linalg
