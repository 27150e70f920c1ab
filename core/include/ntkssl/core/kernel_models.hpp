// Kernel models: what a network becomes in the infinite-width (NTK) regime, and the closed-form
// kernelized Barlow Twins it is compared with (SCIENCE.md, Kernel models).
//
// Training inputs are the V views of N samples stacked view-major: Z = [X¹; X²; …; X^V], row
// v·N + n is view v of sample n, M = V·N rows.
#pragma once

#include <cstddef>

#include <ntkssl/tensor.hpp>

namespace ntkssl::core {

// ---- Kernelized Barlow Twins, closed form -------------------------------------------------
//
// With the Gram matrix 𝐊 over Z and S = (1/(V(V−1)N)) Σ_{v≠w} E_vw ⊗ I_N (for two views
// (1/2N)[[0, I], [I, 0]]), the symmetric cross-correlation of a representation is
// C = f(Z)ᵀ S f(Z). Among f in the RKHS with C = I, the one of minimum norm is
//
//     f*(x) = k_Z(x)ᵀ B,    B = 𝐊_r^{−1/2} U_K Λ_K^{−1/2}
//
// where (Λ_K, U_K) are the top-K eigenpairs of A S Aᵀ with A = 𝐊_r^{−1/2} 𝐊 (= 𝐊^{1/2} without
// ridge), 𝐊_r = 𝐊 + r·I and r = ridge · mean(diag 𝐊). Then C = I exactly (up to rounding), for
// any ridge; ridge = 0 is SCIENCE.md's formula, a small ridge tames ill-conditioned Gram
// matrices. f* is unique up to a K×K rotation (and signs), so compare it through
// rotation-invariant quantities. ‖f*‖²_H = tr(Bᵀ 𝐊 B) = Σ_k 1/λ_k without ridge.
struct KernelBarlowTwins {
    Matrix coefficients;  // B, M×K
    Vector eigenvalues;   // λ_1 ≥ … ≥ λ_K > 0
    Matrix train_outputs; // f*(Z) = 𝐊 B, M×K
    double norm_squared = 0;
};

// Throws ShapeError for a non-square Gram matrix or M not a multiple of views, and
// NumericError when fewer than K eigenvalues of A S Aᵀ are positive (saying how many are).
KernelBarlowTwins fit_kernel_barlow_twins(const Matrix& gram, std::size_t views, std::size_t k, double ridge = 0.0);

// C = f(Z)ᵀ S f(Z) of a representation on Z (M×K), the same S as above.
Matrix symmetric_cross_correlation(const Matrix& f, std::size_t views);

// ---- Function-space gradient descent with a fixed kernel ----------------------------------
//
// f_t(Z) = f_0(Z) + Θ β_t with β_0 = 0. Gradient descent on any loss L(f(Z)) in the parameters
// of the network's linearization f_lin(x) = f_0(x) + J_0(x)(θ − θ_0) is exactly this with
// Θ = J_0 diag(s) J_0ᵀ (s: the per-parameter learning-rate multipliers) and β ← β − η ∂L/∂f —
// the same update rule, momentum and batches included — because θ − θ_0 = diag(s) J_0ᵀ β
// stays in the span of the Jacobian. With Θ = Θ_∞ ⊗ I_K it is the infinite-width network.
// Out of sample: f_t(x) = f_0(x) + Θ(x, Z) β_t.
class KernelDynamics {
public:
    // full_kernel: (M·K)×(M·K), rows and columns m·K + k (the empirical NTK's layout).
    static KernelDynamics full(Matrix kernel, Matrix f0);
    // scalar_kernel: M×M, applied to every output dimension alike (Θ ⊗ I_K).
    static KernelDynamics scalar(Matrix kernel, Matrix f0);

    std::size_t rows() const noexcept { return f0_.shape(0); }
    std::size_t outputs_dim() const noexcept { return f0_.shape(1); }
    // β (M×K), updated in place by the optimizer.
    Matrix& beta() noexcept { return beta_; }
    const Matrix& beta() const noexcept { return beta_; }

    // f(Z) for a given β (the model's outputs on its training inputs).
    Matrix outputs(const Matrix& beta) const;
    Matrix outputs() const { return outputs(beta_); }
    // f(x) = f0_at + cross β, with cross the kernel between x and Z in this model's layout:
    // (P·K)×(M·K) for a full model, P×M for a scalar one.
    Matrix predict(const Matrix& cross, const Matrix& f0_at) const;
    // ‖f − f_0‖²_H = βᵀ Θ β (summed over outputs).
    double norm_squared() const;

private:
    KernelDynamics(Matrix kernel, Matrix f0, bool scalar);
    Matrix kernel_, f0_, beta_;
    bool scalar_;
};

}  // namespace ntkssl::core
