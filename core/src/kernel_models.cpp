#include "ntkssl/core/kernel_models.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <ntkssl/errors.hpp>
#include <ntkssl/linalg.hpp>

namespace ntkssl::core {

using linalg::Op;

namespace {

// y = S f for the S of the header: block v of y is y_v = (1/(V(V−1)N)) Σ_{w≠v} f_w.
Matrix apply_s(const Matrix& f, std::size_t views) {
    const std::size_t m = f.shape(0), k = f.shape(1), n = m / views;
    const double c = 1.0 / (static_cast<double>(views) * static_cast<double>(views - 1) * static_cast<double>(n));
    Matrix total = xt::zeros<double>({n, k});
    for (std::size_t v = 0; v < views; ++v)
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < k; ++j) total(i, j) += f(v * n + i, j);
    Matrix y = Matrix::from_shape({m, k});
    for (std::size_t v = 0; v < views; ++v)
        for (std::size_t i = 0; i < n; ++i)
            for (std::size_t j = 0; j < k; ++j) y(v * n + i, j) = c * (total(i, j) - f(v * n + i, j));
    return y;
}

void check_views(std::size_t m, std::size_t views, const char* what) {
    NTKSSL_CHECK(views >= 2, ShapeError, what << ": a cross-correlation needs at least 2 views, got " << views);
    NTKSSL_CHECK(m % views == 0 && m > 0, ShapeError, what << ": " << m << " training inputs are not " << views << " views of the same samples");
}

}  // namespace

Matrix symmetric_cross_correlation(const Matrix& f, std::size_t views) {
    check_views(f.shape(0), views, "symmetric_cross_correlation");
    return linalg::matmul(f, apply_s(f, views), Op::transpose, Op::none);
}

KernelBarlowTwins fit_kernel_barlow_twins(const Matrix& gram, std::size_t views, std::size_t k, double ridge) {
    const std::size_t m = gram.shape(0);
    NTKSSL_CHECK(gram.shape(1) == m, ShapeError, "kernelized Barlow Twins: the Gram matrix is " << m << "×" << gram.shape(1));
    check_views(m, views, "kernelized Barlow Twins");
    NTKSSL_CHECK(k >= 1, ShapeError, "kernelized Barlow Twins: K must be at least 1");
    NTKSSL_CHECK(ridge >= 0 && std::isfinite(ridge), NumericError, "kernelized Barlow Twins: ridge must be >= 0, got " << ridge);

    // 𝐊 = Q diag(λ) Qᵀ. Directions with λ ≤ tol (rounding noise of a PSD matrix) are outside
    // the span of the data in feature space: the minimum-norm solution has no component there.
    const linalg::Eigen ek = linalg::eigh(gram);
    const double top = std::max(std::fabs(ek.values(m - 1)), 1e-300);
    const double tol = 1e-12 * static_cast<double>(m) * top;
    double mean_diag = 0;
    for (std::size_t i = 0; i < m; ++i) mean_diag += gram(i, i);
    mean_diag /= static_cast<double>(m);
    const double r = ridge * mean_diag;

    // A = Q diag(λ/√(λ + r)) Qᵀ and 𝐊_r^{−1/2} = Q diag(1/√(λ + r)) Qᵀ on the kept directions.
    Matrix qa = ek.vectors, qi = ek.vectors;  // columns scaled
    for (std::size_t j = 0; j < m; ++j) {
        const double lam = ek.values(j);
        const bool keep = lam > tol;
        const double sa = keep ? lam / std::sqrt(lam + r) : 0.0, si = keep ? 1.0 / std::sqrt(lam + r) : 0.0;
        for (std::size_t i = 0; i < m; ++i) {
            qa(i, j) *= sa;
            qi(i, j) *= si;
        }
    }
    const Matrix a = linalg::matmul(qa, ek.vectors, Op::none, Op::transpose);
    const Matrix kr_inv_sqrt = linalg::matmul(qi, ek.vectors, Op::none, Op::transpose);

    // A S Aᵀ, symmetrized against rounding.
    Matrix ms = linalg::matmul(a, apply_s(xt::transpose(a), views));  // A (S Aᵀ)
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < i; ++j) ms(i, j) = ms(j, i) = 0.5 * (ms(i, j) + ms(j, i));
    const linalg::Eigen es = linalg::eigh(ms);
    const double stop = std::max(std::fabs(es.values(m - 1)), 1e-300);
    std::size_t positive = 0;
    for (std::size_t j = 0; j < m; ++j) positive += es.values(j) > 1e-10 * stop;
    NTKSSL_CHECK(positive >= k, NumericError,
                 "kernelized Barlow Twins: the kernel gives only " << positive << " positive eigenvalue" << (positive == 1 ? "" : "s")
                     << " of K^{1/2} S K^{1/2}, but a representation of K = " << k
                     << " dimensions with C = I needs " << k
                     << "; use fewer output dimensions, more pairs, a richer kernel, or a ridge");

    KernelBarlowTwins out;
    out.eigenvalues = Vector::from_shape({k});
    Matrix u = Matrix::from_shape({m, k});
    for (std::size_t c = 0; c < k; ++c) {
        const std::size_t j = m - 1 - c;  // eigh sorts ascending
        out.eigenvalues(c) = es.values(j);
        const double s = 1.0 / std::sqrt(es.values(j));
        for (std::size_t i = 0; i < m; ++i) u(i, c) = es.vectors(i, j) * s;
    }
    out.coefficients = linalg::matmul(kr_inv_sqrt, u);
    out.train_outputs = linalg::matmul(gram, out.coefficients);
    const Matrix btkb = linalg::matmul(out.coefficients, out.train_outputs, Op::transpose, Op::none);
    for (std::size_t c = 0; c < k; ++c) out.norm_squared += btkb(c, c);
    return out;
}

KernelDynamics::KernelDynamics(Matrix kernel, Matrix f0, bool scalar)
    : kernel_(std::move(kernel)), f0_(std::move(f0)), beta_(xt::zeros<double>(f0_.shape())), scalar_(scalar) {}

KernelDynamics KernelDynamics::full(Matrix kernel, Matrix f0) {
    const std::size_t mk = f0.size();
    NTKSSL_CHECK(kernel.shape(0) == mk && kernel.shape(1) == mk, ShapeError,
                 "kernel dynamics: a full kernel for " << f0.shape(0) << " inputs × " << f0.shape(1) << " outputs must be " << mk << "×" << mk
                                                       << ", got " << kernel.shape(0) << "×" << kernel.shape(1));
    return KernelDynamics(std::move(kernel), std::move(f0), false);
}

KernelDynamics KernelDynamics::scalar(Matrix kernel, Matrix f0) {
    const std::size_t m = f0.shape(0);
    NTKSSL_CHECK(kernel.shape(0) == m && kernel.shape(1) == m, ShapeError,
                 "kernel dynamics: a scalar kernel for " << m << " inputs must be " << m << "×" << m << ", got " << kernel.shape(0) << "×"
                                                         << kernel.shape(1));
    return KernelDynamics(std::move(kernel), std::move(f0), true);
}

Matrix KernelDynamics::predict(const Matrix& cross, const Matrix& f0_at) const {
    const std::size_t k = f0_.shape(1), p = f0_at.shape(0);
    NTKSSL_CHECK(f0_at.shape(1) == k, ShapeError, "kernel dynamics: f0 has " << f0_at.shape(1) << " outputs, the model " << k);
    Matrix out = f0_at;
    if (scalar_) {
        NTKSSL_CHECK(cross.shape(0) == p && cross.shape(1) == rows(), ShapeError,
                     "kernel dynamics: the cross kernel is " << cross.shape(0) << "×" << cross.shape(1) << ", expected " << p << "×" << rows());
        linalg::gemm(cross, Op::none, beta_, Op::none, out, 1.0, 1.0);
        return out;
    }
    NTKSSL_CHECK(cross.shape(0) == p * k && cross.shape(1) == beta_.size(), ShapeError,
                 "kernel dynamics: the cross kernel is " << cross.shape(0) << "×" << cross.shape(1) << ", expected " << p * k << "×"
                                                         << beta_.size());
    Matrix b = beta_;
    b.reshape({beta_.size(), std::size_t{1}});
    out.reshape({out.size(), std::size_t{1}});
    linalg::gemm(cross, Op::none, b, Op::none, out, 1.0, 1.0);
    out.reshape({p, k});
    return out;
}

Matrix KernelDynamics::outputs(const Matrix& beta) const {
    if (scalar_) {
        Matrix out = f0_;
        linalg::gemm(kernel_, Op::none, beta, Op::none, out, 1.0, 1.0);
        return out;
    }
    Matrix b = beta;
    b.reshape({beta.size(), std::size_t{1}});
    Matrix out = f0_;
    out.reshape({f0_.size(), std::size_t{1}});
    linalg::gemm(kernel_, Op::none, b, Op::none, out, 1.0, 1.0);
    out.reshape({f0_.shape(0), f0_.shape(1)});
    return out;
}

double KernelDynamics::norm_squared() const {
    const Matrix moved = outputs() - f0_;  // Θ β
    double s = 0;
    for (std::size_t i = 0; i < moved.size(); ++i) s += moved.data()[i] * beta_.data()[i];
    return s;
}

}  // namespace ntkssl::core
