// ntk_analytic and nngp_analytic: the infinite-width kernels of the pipeline's fully connected
// network (two_layer, mlp), read from its self-description (ArchitectureDescription).
//
// WHAT THEY ARE. For a network u^1 = a_1 W^1 x + σ_b b^1, u^l = (σ_w/√M_{l−1}) W^l σ(u^{l−1}) + σ_b b^l,
// f = (σ_v/√M_L) V σ(u^L) in the NTK parametrization (a_1 = σ_w/√d, or σ_w without input
// scaling; the σ_b terms only with bias), as every width M_l → ∞:
//
//   Σ¹(x,x') = σ_w² ⟨x,x'⟩/d + σ_b²                  NNGP of the first layer
//   Θ¹(x,x') = [W] σ_w² ⟨x,x'⟩/d + [b] σ_b²          its NTK (only the blocks that train)
//   Σˡ = σ_w² E[σσ]_{Σˡ⁻¹} + σ_b²
//   Θˡ = [W] σ_w² E[σσ]_{Σˡ⁻¹} + [b] σ_b² + σ_w² E[σ'σ']_{Σˡ⁻¹} Θˡ⁻¹
//   nngp_analytic = σ_v² E[σσ]_{Σᴸ}
//   ntk_analytic  = [V] σ_v² E[σσ]_{Σᴸ} + σ_v² E[σ'σ']_{Σᴸ} Θᴸ
//
// with E[·]_Σ over (u, v) ~ N(0, [[Σ(x,x), Σ(x,x')], [Σ(x,x'), Σ(x',x')]]) (gaussian_expectations.hpp).
// The empirical NTK of the network tends to ntk_analytic ⊗ I_K; for two layers, no bias and
// unit scales it is SCIENCE.md's θ = E[σσ] + (x·x'/d) E[σ'σ'].
//
// Refused, with the reason: no architecture in the pipeline, an architecture that is not a
// fully connected network, and the standard and mean-field parametrizations (their NTK has no
// finite limit: it grows like M, or vanishes like 1/M).
#pragma once

#include <ntkssl/ntkssl.hpp>

#include "gaussian_expectations.hpp"

namespace ntkssl::plugins {

class AnalyticKernel : public Kernel {
public:
    enum class Which { ntk, nngp };
    static std::vector<ParamSpec> parameters();
    AnalyticKernel(const Config& cfg, const BuildContext& ctx, Which which);
    Matrix gram(const Matrix& x1, const Matrix& x2) const override;

private:
    // Σˡ(x, x) for l = 1..L of every row of x.
    std::vector<Vector> diagonal(const Matrix& x) const;

    Which which_;
    ArchitectureDescription arch_;
    bool train_w_ = false, train_b_ = false, train_v_ = false;
    double input_scale_ = 1.0;  // 1/d or 1
    GaussianExpectations expect_;
};

class NtkAnalytic final : public AnalyticKernel {
public:
    NtkAnalytic(const Config& cfg, const BuildContext& ctx) : AnalyticKernel(cfg, ctx, Which::ntk) {}
};

class NngpAnalytic final : public AnalyticKernel {
public:
    NngpAnalytic(const Config& cfg, const BuildContext& ctx) : AnalyticKernel(cfg, ctx, Which::nngp) {}
};

}  // namespace ntkssl::plugins
