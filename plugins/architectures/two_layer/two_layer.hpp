// two_layer: the network of the paper, f(x) = a_out · V σ(a_in · W x + a_b · b).
//
// WHAT IT REPRESENTS: a one-hidden-layer network of width M with input dimension d and output
// dimension K. With the NTK parametrization (the default), a_in = σ_w/√d, a_b = σ_b,
// a_out = σ_v/√M and every parameter is N(0, 1) at initialization:
//
//     f(x) = (σ_v/√M) · V · σ(σ_w · W x / √d + σ_b · b)        W ∈ R^{M×d}, V ∈ R^{K×M}
//
// `mean-field` replaces 1/√M by 1/M (the regime where the NTK keeps moving). `standard` puts
// the same scales into the initialization instead (W ~ N(0, σ_w²/d), V ~ N(0, σ_v²/M),
// b ~ N(0, σ_b²)) and uses a_in = a_out = a_b = 1: the same function at init, different
// gradient scales. input_scaling = false drops the 1/√d.
//
// θ layout: W (M×d, row-major), then b (M) when bias = true, then V (K×M).
//
// Empirical NTK (structured, exact): with u = a_in W x + a_b b, h = σ(u), D = σ'(u),
//   Θ(x,x')_kl = δ_kl a_out² Σ_m h_m h'_m                               [V trains]
//              + a_out² Σ_m V_km V_lm D_m D'_m (a_in² x·x' [W trains] + a_b² [b trains]).
#pragma once

#include <ntkssl/ntkssl.hpp>

#include "activations.hpp"

namespace ntkssl::plugins {

class TwoLayer final : public Architecture {
public:
    static std::vector<ParamSpec> parameters();
    TwoLayer(const Config& cfg, const BuildContext& ctx);

    std::size_t input_dim() const override { return d_; }
    std::size_t output_dim() const override { return k_; }
    std::size_t num_parameters() const override;
    std::vector<ParameterBlock> blocks() const override;
    ArchitectureDescription describe() const override;

    void initialize(Vector& theta, Rng& rng) const override;
    Matrix forward(const Vector& theta, const Matrix& x) const override;
    Vector backward(const Vector& theta, const Matrix& x, const Matrix& grad_z) const override;
    Matrix jacobian(const Vector& theta, const Matrix& x) const override;
    bool has_structured_ntk() const override { return true; }
    Matrix structured_ntk(const Vector& theta, const Matrix& x1, const Matrix& x2) const override;

private:
    struct Hidden {
        Matrix u;  // pre-activations, N×M
        Matrix h;  // σ(u)
    };
    Hidden hidden(const Vector& theta, const Matrix& x) const;
    Matrix weights(const Vector& theta, std::size_t offset, std::size_t rows, std::size_t cols) const;
    void check_input(const Vector& theta, const Matrix& x, const char* what) const;

    std::size_t d_, m_, k_;
    const Activation* act_;
    std::string activation_name_, parametrization_;
    bool input_scaling_, bias_;
    bool train_w_, train_v_, train_b_;
    double sigma_w_, sigma_v_, sigma_b_;
    double a_in_, a_b_, a_out_;        // multipliers in the forward pass
    double s_w_, s_b_, s_v_;           // standard deviations at initialization
    std::size_t off_w_, off_b_, off_v_;
};

}  // namespace ntkssl::plugins
