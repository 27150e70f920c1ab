// Architecture: a parametrized function f_θ : R^d → R^K.
//
// WHAT IT REPRESENTS: a network whose parameters θ are one flat vector of P numbers, cut into
// named blocks (e.g. "W" of shape M×d and "V" of shape K×M). The architecture is stateless:
// the core owns θ (and the optimizer) and passes it to every call. It is the only kind of
// plugin that knows the parameters; losses see only embeddings, and the core does the chain
// rule  ∂L/∂θ = Σ_views backward(θ, X_v, ∂L/∂Z_v).
//
// The empirical NTK of a batch is Θ(x, x')_kl = Σ_p ∂f_k(x)/∂θ_p · ∂f_l(x')/∂θ_p over the
// trainable parameters. The core computes it generically from jacobian() in bounded chunks;
// an architecture with structure may override ntk() with a faster exact formula.
//
// REQUIRES of an implementation (the contract kit checks these):
//   - construct from (const Config&, const BuildContext&) with context.input_dim = d;
//   - initialize() fills θ (size num_parameters()) from rng only;
//   - forward(θ, X) is N×K for X of N×d;
//   - backward(θ, X, G) = Σ_{n,k} G_nk ∂f_k(x_n)/∂θ, exactly (central finite differences agree
//     to ~1e-6 relative); entries of frozen blocks are 0;
//   - jacobian(θ, X) is (N·K)×P with row n·K + k = ∂f_k(x_n)/∂θ; columns of frozen blocks 0;
//   - describe() tells analytic kernels what the network is.
//
// OPTIONAL (defaults are correct, only slower or plainer):
//   - forward_keep / backward_accumulate: a forward pass that keeps what backward needs (and
//     reuses its buffers from step to step), and a backward pass that adds into the caller's
//     gradient, so that a training step neither runs the forward pass twice nor allocates
//     parameter-sized temporaries;
//   - learning_rate_multipliers(): per-block factors for training with
//     [train] lr_scaling = "parametrization";
//   - has_structured_ntk / structured_ntk: an exact fast empirical NTK.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "ntkssl/export.hpp"
#include "ntkssl/random.hpp"
#include "ntkssl/tensor.hpp"

namespace ntkssl {

struct ParameterBlock {
    std::string name;    // "W", "V", "b", "W1", ...
    std::size_t offset;  // first index in θ
    Shape shape;         // row-major shape of the block; size = product(shape)
    bool trainable;      // frozen blocks get zero gradient and do not enter the NTK
};

// A self-description that analytic kernels can read.
struct ArchitectureDescription {
    std::string family;           // "two_layer", "mlp", ...
    std::string activation;       // "tanh", "relu", ...
    std::string parametrization;  // "ntk", "standard", "mean-field"
    std::size_t input_dim = 0;
    std::size_t output_dim = 0;
    std::vector<std::size_t> hidden_widths;
    bool input_scaling = true;  // pre-activations scaled by 1/√fan_in
    bool bias = false;
    double sigma_w = 1.0;
    double sigma_b = 1.0;
    double sigma_v = 1.0;                // scale of the readout (output) layer
    double negative_slope = 0.0;         // of leaky_relu: σ(u) = u for u > 0, negative_slope·u otherwise
    std::vector<std::string> trainable;  // block names that train
};

// What a forward pass keeps for the backward pass (activations, pre-activations). Opaque to the
// core: it is only handed back to the architecture that made it, with the same θ and X.
class NTKSSL_SDK_API ForwardState {
public:
    virtual ~ForwardState();
};

// Which part of the empirical NTK Θ(X1, X2) to compute (rows and columns ordered n·K + k):
//   full             (N1·K)×(N2·K), every output block;
//   trace            N1×N2, Σ_k Θ(x1_n, x2_n')_kk — the trace over outputs;
//   diagonal_blocks  (N·K)×K, the K×K blocks Θ(x1_n, x2_n) of matched pairs (N1 = N2 = N),
//                    e.g. of each sample with itself when X1 = X2.
enum class NtkOutput { full, trace, diagonal_blocks };

class NTKSSL_SDK_API Architecture {
public:
    virtual ~Architecture();

    virtual std::size_t input_dim() const = 0;
    virtual std::size_t output_dim() const = 0;
    virtual std::size_t num_parameters() const = 0;
    virtual std::vector<ParameterBlock> blocks() const = 0;
    virtual ArchitectureDescription describe() const = 0;

    // θ ← a fresh draw from the initialization distribution.
    virtual void initialize(Vector& theta, Rng& rng) const = 0;
    // Z = f_θ(X), N×K.
    virtual Matrix forward(const Vector& theta, const Matrix& x) const = 0;
    // Σ_{n,k} G_nk ∂f_k(x_n)/∂θ (size P), G of shape N×K.
    virtual Vector backward(const Vector& theta, const Matrix& x, const Matrix& grad_z) const = 0;
    // Per-example Jacobian, (N·K)×P; row n·K + k holds ∂f_k(x_n)/∂θ.
    virtual Matrix jacobian(const Vector& theta, const Matrix& x) const = 0;

    // forward(θ, X), and in `state` whatever backward_accumulate needs to skip the forward pass.
    // `state` may hold what an earlier call left (of any θ and X): an implementation may reuse
    // its buffers. Default: forward() and no state. ENSURES: the result equals forward(θ, X).
    virtual Matrix forward_keep(const Vector& theta, const Matrix& x, std::unique_ptr<ForwardState>& state) const;
    // grad += backward(θ, X, G), given the state forward_keep left for the same θ and X (or
    // null). REQUIRES grad.size() == num_parameters(). Default: grad += backward(θ, X, G).
    virtual void backward_accumulate(const Vector& theta, const Matrix& x, const Matrix& grad_z, const ForwardState* state,
                                     Vector& grad) const;

    // One factor per block (in blocks() order) that multiplies the learning rate of that block
    // when a pipeline asks for [train] lr_scaling = "parametrization": the scaling under which
    // gradient descent with step η has width-independent dynamics in this parametrization
    // (e.g. η·M for a mean-field readout 1/M; η·a_l² per layer for the standard
    // parametrization, which makes it train exactly like the NTK parametrization). Default: 1.
    virtual std::vector<double> learning_rate_multipliers() const;

    // Optional exact fast path for the empirical NTK Θ(X1, X2) (see NtkOutput), using at most
    // about memory_budget_bytes of working memory beyond the result. It must equal the
    // contraction of jacobian() rows to rounding (the contract kit checks ~1e-10).
    // Return false from has_structured_ntk() when not provided.
    virtual bool has_structured_ntk() const { return false; }
    virtual Matrix structured_ntk(const Vector& theta, const Matrix& x1, const Matrix& x2, NtkOutput output,
                                  std::size_t memory_budget_bytes) const;
};

}  // namespace ntkssl
