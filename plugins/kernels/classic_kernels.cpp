#include "classic_kernels.hpp"

#include <cmath>

#include "inner_product_gram.hpp"

namespace ntkssl::plugins {

Matrix LinearKernel::gram(const Matrix& x1, const Matrix& x2) const {
    return inner_product_gram(x1, x2, "linear", [](std::size_t, const Matrix& dots, Matrix& out) { out = dots; });
}

std::vector<ParamSpec> PolynomialKernel::parameters() {
    return {ParamSpec::integer("degree", 2, "the power p"), ParamSpec::real("gamma", 0.0, "γ, the scale of ⟨x, x'⟩ (0: 1/d)"),
            ParamSpec::real("coef0", 1.0, "the constant c")};
}

PolynomialKernel::PolynomialKernel(const Config& cfg)
    : gamma_(cfg.get_real("gamma")), coef0_(cfg.get_real("coef0")), degree_(cfg.get_integer("degree")) {
    cfg.require(degree_ >= 1 && degree_ <= 32, "degree", "must be between 1 and 32");
    cfg.require(gamma_ >= 0 && std::isfinite(gamma_), "gamma", "must be >= 0 (0: 1/d)");
    cfg.require(coef0_ >= 0 && std::isfinite(coef0_), "coef0", "must be >= 0 (a negative constant can make the kernel indefinite)");
}

Matrix PolynomialKernel::gram(const Matrix& x1, const Matrix& x2) const {
    const double g = gamma_ > 0 ? gamma_ : 1.0 / static_cast<double>(std::max<std::size_t>(x1.shape(1), 1));
    return inner_product_gram(x1, x2, "polynomial", [&](std::size_t, const Matrix& dots, Matrix& out) {
        for (std::size_t i = 0; i < dots.size(); ++i) out.data()[i] = std::pow(g * dots.data()[i] + coef0_, static_cast<double>(degree_));
    });
}

std::vector<ParamSpec> DistanceKernel::parameters() { return {ParamSpec::real("lengthscale", 1.0, "ℓ")}; }

DistanceKernel::DistanceKernel(const Config& cfg, Kind kind) : kind_(kind), lengthscale_(cfg.get_real("lengthscale")) {
    cfg.require(lengthscale_ > 0 && std::isfinite(lengthscale_), "lengthscale", "must be a finite number > 0");
}

Matrix DistanceKernel::gram(const Matrix& x1, const Matrix& x2) const {
    const Vector n1 = squared_norms(x1), n2 = squared_norms(x2);
    const double l = lengthscale_;
    return inner_product_gram(x1, x2, kind_ == Kind::rbf ? "rbf" : "laplace", [&](std::size_t r0, const Matrix& dots, Matrix& out) {
        for (std::size_t i = 0; i < dots.shape(0); ++i)
            for (std::size_t j = 0; j < dots.shape(1); ++j) {
                // ‖x − x'‖² = ‖x‖² + ‖x'‖² − 2⟨x, x'⟩, clamped: rounding can make it slightly negative.
                const double sq = std::max(0.0, n1(r0 + i) + n2(j) - 2 * dots(i, j));
                out(i, j) = kind_ == Kind::rbf ? std::exp(-sq / (2 * l * l)) : std::exp(-std::sqrt(sq) / l);
            }
    });
}

Matrix CosineKernel::gram(const Matrix& x1, const Matrix& x2) const {
    const Vector n1 = squared_norms(x1), n2 = squared_norms(x2);
    return inner_product_gram(x1, x2, "cosine", [&](std::size_t r0, const Matrix& dots, Matrix& out) {
        for (std::size_t i = 0; i < dots.shape(0); ++i)
            for (std::size_t j = 0; j < dots.shape(1); ++j) {
                const double norm = std::sqrt(n1(r0 + i) * n2(j));
                out(i, j) = norm > 0 ? dots(i, j) / norm : 0.0;
            }
    });
}

}  // namespace ntkssl::plugins
