// barlow_twins: the Barlow Twins loss (Zbontar et al., ICML 2021) on two views.
//
// WHAT IT COMPUTES: with Z¹, Z² the N×K embeddings of the two views, optionally standardized
// per dimension over the batch (z̃ = (z − mean)/√(var + ε), biased variance, as BatchNorm does
// in the original method), the cross-correlation
//
//     C = (Z̃¹)ᵀ Z̃² / N            (K×K), optionally symmetrized C ← (C + Cᵀ)/2,
//     L = Σ_i (1 − C_ii)² + λ Σ_{i≠j} C_ij².
//
// With λ = 1 this is ‖C − I‖²_F, the form theory papers (and the infinite-width analysis of
// Fleissner, Anil, Ghoshdastidar, AISTATS 2025) use.
//
// GRADIENT: with D = ∂L/∂C (D_ii = −2(1 − C_ii), D_ij = 2λ C_ij, symmetric when C is),
// ∂L/∂Z̃¹ = Z̃² Dᵀ / N and ∂L/∂Z̃² = Z̃¹ D / N; through standardization, per column,
// ∂L/∂z = (g − mean(g) − z̃ · mean(g ∘ z̃)) / √(var + ε).
//
// PRESETS (any key set explicitly overrides the preset's value):
//   theory      (default) raw embeddings, symmetric C, λ = 1
//   original    standardized, plain C, λ = 0.0051 (the value of the original paper)
//   inverse_dim raw, symmetric C, λ = 1/K
//
// WHEN NOT TO USE: standardize = true with N = 1, or a constant embedding dimension with
// ε = 0 (division by zero; reported as a NumericError).
#pragma once

#include <ntkssl/ntkssl.hpp>

namespace ntkssl::plugins {

class BarlowTwins final : public Loss {
public:
    static std::vector<ParamSpec> parameters();
    explicit BarlowTwins(const Config& cfg);

    LossValue evaluate(const std::vector<Matrix>& views, const Labels& labels) const override;

private:
    std::string preset_;
    bool has_lambda_;
    double lambda_;
    bool symmetric_, standardize_;
    double epsilon_;
};

}  // namespace ntkssl::plugins
