// A fully connected network of any depth: the engine behind `two_layer` and `mlp`.
//
// WHAT IT REPRESENTS: with h⁰ = x ∈ R^d, hidden widths M_1..M_L and
//
//     u^l = a_l · W^l h^{l−1} + a_b · b^l,   h^l = σ(u^l)      (l = 1..L)
//     f(x) = a_out · V h^L                                   V ∈ R^{K×M_L}
//
// The parametrization fixes the multipliers and the initialization:
//   ntk         a_l = σ_w/√M_{l−1} (σ_w with input_scaling = false on the first layer),
//               a_b = σ_b, a_out = σ_v/√M_L; every parameter N(0, 1) at init;
//   mean-field  as ntk but a_out = σ_v/M_L (the regime where the NTK keeps moving);
//   standard    a_l = a_b = a_out = 1, with the same scales in the init instead:
//               W^l ~ N(0, σ_w²/M_{l−1}), b^l ~ N(0, σ_b²), V ~ N(0, σ_v²/M_L).
// For L = 1 and the defaults this is SCIENCE.md's f(x) = (1/√M) V σ(W x/√d).
//
// θ layout: for l = 1..L: W^l (M_l × M_{l−1}, row-major), then b^l (M_l) when bias = true;
// then V (K × M_L). Trainable kinds: "W" (every W^l), "b" (every b^l), "V".
//
// EMPIRICAL NTK (structured, exact). Let B_l be the (N·K)×M_l matrix of backpropagated output
// derivatives, row n·K + k = ∂f_k(x_n)/∂u^l:
//     B_L = a_out (V_k ∘ σ'(u^L_n)),   B_{l−1} = a_l (B_l W^l) ∘ σ'(u^{l−1}_n).
// Then Θ(x_n, x'_n')_kk' = δ_kk' a_out² ⟨h^L_n, h'^L_n'⟩                       [V trains]
//      + Σ_l ⟨B_l[n,k], B'_l[n',k']⟩ (a_l² ⟨h^{l−1}_n, h'^{l−1}_n'⟩ [W] + a_b² [b]).
// Every sum is a GEMM of activation matrices; no per-parameter Jacobian is formed. For L = 1
// the sums over hidden units are accumulated in chunks of units (syrk when X1 = X2), so the
// working memory is bounded whatever the width; for L > 1 the samples are processed in chunks.
#pragma once

#include <ntkssl/ntkssl.hpp>

#include "activations.hpp"

namespace ntkssl::plugins {

struct DenseSpec {
    std::string family;  // "two_layer" or "mlp", for describe() and messages
    std::size_t input_dim = 0, output_dim = 0;
    std::vector<std::size_t> widths;  // hidden widths M_1..M_L
    std::string activation = "tanh", parametrization = "ntk";
    bool input_scaling = true, bias = false;
    bool train_w = true, train_b = false, train_v = true;
    double sigma_w = 1.0, sigma_b = 1.0, sigma_v = 1.0;
    double negative_slope = 0.01;  // leaky_relu only
};

// The parameters two_layer and mlp share, and reading them (with their checks) into a spec.
std::vector<ParamSpec> dense_common_parameters();
DenseSpec read_dense_spec(const Config& cfg, std::string family, std::size_t input_dim, std::vector<std::size_t> widths);

class DenseNetwork : public Architecture {
public:
    explicit DenseNetwork(DenseSpec spec);

    std::size_t input_dim() const override { return s_.input_dim; }
    std::size_t output_dim() const override { return s_.output_dim; }
    std::size_t num_parameters() const override { return num_params_; }
    std::vector<ParameterBlock> blocks() const override;
    ArchitectureDescription describe() const override;

    void initialize(Vector& theta, Rng& rng) const override;
    Matrix forward(const Vector& theta, const Matrix& x) const override;
    Vector backward(const Vector& theta, const Matrix& x, const Matrix& grad_z) const override;
    Matrix jacobian(const Vector& theta, const Matrix& x) const override;
    Matrix forward_keep(const Vector& theta, const Matrix& x, std::unique_ptr<ForwardState>& state) const override;
    void backward_accumulate(const Vector& theta, const Matrix& x, const Matrix& grad_z, const ForwardState* state,
                             Vector& grad) const override;
    std::vector<double> learning_rate_multipliers() const override;
    bool has_structured_ntk() const override { return true; }
    Matrix structured_ntk(const Vector& theta, const Matrix& x1, const Matrix& x2, NtkOutput output,
                          std::size_t memory_budget_bytes) const override;

private:
    struct Layer {
        std::size_t fan_in, width;
        std::size_t off_w, off_b;  // off_b meaningful only with bias
        double a, init_w;          // multiplier and init std of W^l
    };
    struct Pass : ForwardState {   // what a forward pass keeps for backward and the NTK
        std::vector<Matrix> u, h;  // u[l], h[l] for l = 0..L−1 (layer l+1); input not copied
        // Backward's working buffers, kept with the pass so that training reuses them.
        mutable Matrix scratch_dh, scratch_dsigma, scratch_next;
    };

    void check(const Vector& theta, const Matrix& x, const char* what) const;
    Matrix weights(const Vector& theta, std::size_t offset, std::size_t rows, std::size_t cols) const;
    Pass run(const Vector& theta, const Matrix& x) const;
    void run_into(const Vector& theta, const Matrix& x, Pass& p) const;  // reuses p's buffers
    Matrix readout(const Vector& theta, const Pass& p) const;
    void backward_pass(const Vector& theta, const Matrix& x, const Matrix& grad_z, const Pass& p, Vector& grad) const;
    const Matrix& input_of(const Pass& p, const Matrix& x, std::size_t l) const { return l == 0 ? x : p.h[l - 1]; }
    // B_l for every layer (index l−1), rows n·K + k.
    std::vector<Matrix> output_derivatives(const Vector& theta, const Pass& p) const;
    Matrix ntk_two_layer(const Vector& theta, const Matrix& x1, const Matrix& x2, NtkOutput output, std::size_t budget) const;
    Matrix ntk_deep(const Vector& theta, const Matrix& x1, const Matrix& x2, NtkOutput output, std::size_t budget) const;

    DenseSpec s_;
    Activation act_;
    std::vector<Layer> layers_;
    double a_b_, a_out_, init_b_, init_v_;
    std::size_t off_v_, num_params_;
};

}  // namespace ntkssl::plugins
