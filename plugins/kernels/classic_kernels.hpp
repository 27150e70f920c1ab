// Classic kernels for kernel SSL (kernelized Barlow Twins with a fixed feature map):
//
//   linear       k(x, x') = ⟨x, x'⟩
//   polynomial   k(x, x') = (γ ⟨x, x'⟩ + c)^p            γ = gamma (0: 1/d), c = coef0, p = degree
//   rbf          k(x, x') = exp(−‖x − x'‖² / (2ℓ²))     ℓ = lengthscale
//   laplace      k(x, x') = exp(−‖x − x'‖ / ℓ)
//   cosine       k(x, x') = ⟨x, x'⟩ / (‖x‖ ‖x'‖)         (0 when either is the zero vector)
//
// All are functions of inner products and norms: one gemm per block of rows (inner_product_gram.hpp).
#pragma once

#include <ntkssl/ntkssl.hpp>

namespace ntkssl::plugins {

class LinearKernel final : public Kernel {
public:
    static std::vector<ParamSpec> parameters() { return {}; }
    explicit LinearKernel(const Config&) {}
    Matrix gram(const Matrix& x1, const Matrix& x2) const override;
};

class PolynomialKernel final : public Kernel {
public:
    static std::vector<ParamSpec> parameters();
    explicit PolynomialKernel(const Config& cfg);
    Matrix gram(const Matrix& x1, const Matrix& x2) const override;

private:
    double gamma_, coef0_;
    std::int64_t degree_;
};

// rbf and laplace: exp(−‖x − x'‖^p / (c ℓ^p)) with (p, c) = (2, 2) or (1, 1).
class DistanceKernel final : public Kernel {
public:
    enum class Kind { rbf, laplace };
    static std::vector<ParamSpec> parameters();
    DistanceKernel(const Config& cfg, Kind kind);
    Matrix gram(const Matrix& x1, const Matrix& x2) const override;

private:
    Kind kind_;
    double lengthscale_;
};

class RbfKernel final : public Kernel {
public:
    static std::vector<ParamSpec> parameters() { return DistanceKernel::parameters(); }
    explicit RbfKernel(const Config& cfg) : k_(cfg, DistanceKernel::Kind::rbf) {}
    Matrix gram(const Matrix& x1, const Matrix& x2) const override { return k_.gram(x1, x2); }

private:
    DistanceKernel k_;
};

class LaplaceKernel final : public Kernel {
public:
    static std::vector<ParamSpec> parameters() { return DistanceKernel::parameters(); }
    explicit LaplaceKernel(const Config& cfg) : k_(cfg, DistanceKernel::Kind::laplace) {}
    Matrix gram(const Matrix& x1, const Matrix& x2) const override { return k_.gram(x1, x2); }

private:
    DistanceKernel k_;
};

class CosineKernel final : public Kernel {
public:
    static std::vector<ParamSpec> parameters() { return {}; }
    explicit CosineKernel(const Config&) {}
    Matrix gram(const Matrix& x1, const Matrix& x2) const override;
};

}  // namespace ntkssl::plugins
