// Kernel models: the closed-form kernelized Barlow Twins (C = I, the feature-space route, the
// error for too few eigenvalues) and function-space kernel dynamics (equal to gradient descent
// on an explicit linear model).
#include <doctest/doctest.h>

#include <cmath>

#include <ntkssl/linalg.hpp>
#include <ntkssl/errors.hpp>
#include <ntkssl/random.hpp>
#include <xtensor-blas/xlinalg.hpp>

#include "ntkssl/core/kernel_models.hpp"
#include "test_support.hpp"

using namespace ntkssl;
using namespace ntkssl::core;

namespace {

Matrix random_matrix(std::size_t r, std::size_t c, std::uint64_t seed, double scale = 1.0) {
    Rng rng(seed);
    Matrix m = Matrix::from_shape({r, c});
    rng.fill_normal(m, 0.0, scale);
    return m;
}

// Z = [X; X + noise]: two views of n samples in R^d.
Matrix two_views(std::size_t n, std::size_t d, std::uint64_t seed) {
    const Matrix x = random_matrix(n, d, seed), noise = random_matrix(n, d, seed + 1, 0.3);
    Matrix z = Matrix::from_shape({2 * n, d});
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) {
            z(i, j) = x(i, j);
            z(n + i, j) = x(i, j) + noise(i, j);
        }
    return z;
}

Matrix rbf_gram(const Matrix& z) {
    const std::size_t m = z.shape(0);
    Matrix g = Matrix::from_shape({m, m});
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < m; ++j) {
            double sq = 0;
            for (std::size_t c = 0; c < z.shape(1); ++c) sq += (z(i, c) - z(j, c)) * (z(i, c) - z(j, c));
            g(i, j) = std::exp(-sq / 4);
        }
    return g;
}

double max_abs_minus_identity(const Matrix& c) {
    double e = 0;
    for (std::size_t i = 0; i < c.shape(0); ++i)
        for (std::size_t j = 0; j < c.shape(1); ++j) e = std::max(e, std::fabs(c(i, j) - (i == j ? 1.0 : 0.0)));
    return e;
}

}  // namespace

TEST_CASE("kernelized Barlow Twins: C = I to 1e-10 on the training pairs, with and without ridge, two and three views") {
    const Matrix z = two_views(20, 5, 1);
    for (double ridge : {0.0, 1e-3}) {
        const auto kbt = fit_kernel_barlow_twins(rbf_gram(z), 2, 3, ridge);
        CAPTURE(ridge);
        CHECK(max_abs_minus_identity(symmetric_cross_correlation(kbt.train_outputs, 2)) < 1e-10);
        CHECK(kbt.eigenvalues(0) >= kbt.eigenvalues(1));
        CHECK(kbt.eigenvalues(2) > 0);
        // f(x) = k_Z(x)ᵀ B reproduces the training outputs through the out-of-sample map.
        const Matrix again = linalg::matmul(rbf_gram(z), kbt.coefficients);
        CHECK(linalg::frobenius_norm(again - kbt.train_outputs) < 1e-12 * linalg::frobenius_norm(again));
    }
    // Without ridge the norm is Σ 1/λ_k.
    const auto kbt = fit_kernel_barlow_twins(rbf_gram(z), 2, 3, 0.0);
    CHECK(kbt.norm_squared == doctest::Approx(1 / kbt.eigenvalues(0) + 1 / kbt.eigenvalues(1) + 1 / kbt.eigenvalues(2)).epsilon(1e-8));
    // Three views of 10 samples.
    Matrix z3 = Matrix::from_shape({30, 5});
    const Matrix base = random_matrix(10, 5, 7);
    for (std::size_t v = 0; v < 3; ++v) {
        const Matrix noise = random_matrix(10, 5, 20 + v, 0.3);
        for (std::size_t i = 0; i < 10; ++i)
            for (std::size_t j = 0; j < 5; ++j) z3(v * 10 + i, j) = base(i, j) + noise(i, j);
    }
    const auto k3 = fit_kernel_barlow_twins(rbf_gram(z3), 3, 2);
    CHECK(max_abs_minus_identity(symmetric_cross_correlation(k3.train_outputs, 3)) < 1e-10);
}

TEST_CASE("kernelized Barlow Twins with the linear kernel equals the feature-space minimum-norm solution") {
    // Feature space, independently: f(x) = W x with W (K×d) minimizing ‖W‖_F subject to
    // W (Zᵀ S Z) Wᵀ = I, i.e. W = Λ^{-1/2} Vᵀ with (Λ, V) the top-K eigenpairs of Zᵀ S Z
    // (d×d, xtensor-blas's eigh). Both are unique up to a rotation: compare the Gram matrices
    // of the representations on Z and the norms.
    const std::size_t n = 15, d = 6, k = 3;
    const Matrix z = two_views(n, d, 4);
    Matrix sz = Matrix::from_shape({2 * n, d});  // S Z
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t j = 0; j < d; ++j) {
            sz(i, j) = z(n + i, j) / (2.0 * n);
            sz(n + i, j) = z(i, j) / (2.0 * n);
        }
    const Matrix a = xt::linalg::dot(xt::transpose(z), sz);
    const auto [vals, vecs] = xt::linalg::eigh(a);
    Matrix w = Matrix::from_shape({k, d});
    double norm2 = 0;
    for (std::size_t c = 0; c < k; ++c) {
        const std::size_t j = d - 1 - c;
        norm2 += 1 / vals(j);
        for (std::size_t i = 0; i < d; ++i) w(c, i) = vecs(i, j) / std::sqrt(vals(j));
    }
    const Matrix f_feature = xt::linalg::dot(z, xt::transpose(w));
    const auto kbt = fit_kernel_barlow_twins(linalg::matmul(z, z, linalg::Op::none, linalg::Op::transpose), 2, k);
    const Matrix g_feature = xt::linalg::dot(f_feature, xt::transpose(f_feature));
    const Matrix g_kernel = xt::linalg::dot(kbt.train_outputs, xt::transpose(kbt.train_outputs));
    CHECK(linalg::frobenius_norm(g_feature - g_kernel) < 1e-8 * linalg::frobenius_norm(g_feature));
    CHECK(kbt.norm_squared == doctest::Approx(norm2).epsilon(1e-8));
}

TEST_CASE("kernelized Barlow Twins refuses K beyond the positive eigenvalues, saying how many there are") {
    // The linear kernel of 4 pairs in R^2: Zᵀ S Z is 2×2, so at most 2 positive eigenvalues.
    const Matrix z = two_views(4, 2, 9);
    const auto msg = ntkssl::test::error_message<NumericError>(
        [&] { fit_kernel_barlow_twins(linalg::matmul(z, z, linalg::Op::none, linalg::Op::transpose), 2, 3); });
    CHECK(msg.find("only 2 positive eigenvalues") != std::string::npos);
    CHECK(msg.find("K = 3") != std::string::npos);
}

TEST_CASE("function-space dynamics with the linear kernel equal gradient descent on an explicit linear model") {
    // f(x) = f0(x) + W x. GD on W with ∂L/∂f = G: W ← W − η Gᵀ X. In function space with
    // Θ = X Xᵀ: f ← f − η X Xᵀ G. A quadratic loss L = ½‖f − Y‖² gives G = f − Y.
    const Matrix x = random_matrix(12, 4, 31), y = random_matrix(12, 2, 32), f0 = random_matrix(12, 2, 33, 0.5);
    auto model = KernelDynamics::scalar(linalg::matmul(x, x, linalg::Op::none, linalg::Op::transpose), f0);
    Matrix w = xt::zeros<double>({2, 4});
    const double eta = 0.02;
    for (int step = 0; step < 50; ++step) {
        const Matrix f_explicit = f0 + xt::linalg::dot(x, xt::transpose(w));
        const Matrix g_explicit = f_explicit - y;
        w -= eta * xt::linalg::dot(xt::transpose(g_explicit), x);
        const Matrix g_model = model.outputs() - y;
        model.beta() -= eta * g_model;
    }
    const Matrix f_explicit = f0 + xt::linalg::dot(x, xt::transpose(w));
    CHECK(linalg::frobenius_norm(model.outputs() - f_explicit) < 1e-12 * linalg::frobenius_norm(f_explicit));
    // The full (M·K)² kernel Θ ⊗ I gives the same model.
    const Matrix s = linalg::matmul(x, x, linalg::Op::none, linalg::Op::transpose);
    Matrix full = xt::zeros<double>({24, 24});
    for (std::size_t i = 0; i < 12; ++i)
        for (std::size_t j = 0; j < 12; ++j)
            for (std::size_t o = 0; o < 2; ++o) full(i * 2 + o, j * 2 + o) = s(i, j);
    auto same = KernelDynamics::full(full, f0);
    same.beta() = model.beta();
    CHECK(linalg::frobenius_norm(same.outputs() - model.outputs()) < 1e-12);
    // Out of sample: the explicit model at new points.
    const Matrix xn = random_matrix(3, 4, 34), f0n = random_matrix(3, 2, 35);
    const Matrix pred = model.predict(linalg::matmul(xn, x, linalg::Op::none, linalg::Op::transpose), f0n);
    const Matrix expl = f0n + xt::linalg::dot(xn, xt::transpose(w));
    CHECK(linalg::frobenius_norm(pred - expl) < 1e-12 * linalg::frobenius_norm(expl));
    // ‖f − f0‖²_H of the explicit model is ‖W‖²_F (W is in the span of the data).
    CHECK(model.norm_squared() == doctest::Approx(xt::sum(w * w)()).epsilon(1e-10));
}
