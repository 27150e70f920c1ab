// The two Gaussian expectations every infinite-width kernel of a fully connected network is
// made of: for (u, v) ~ N(0, [[s11, s12], [s12, s22]]),
//
//     E[σ(u) σ(v)]      (the NNGP map of the activation)
//     E[σ'(u) σ'(v)]    (its derivative map, which carries the NTK through a layer)
//
// Closed forms where they exist (with φ = arccos(s12/√(s11 s22)), ρ = cos φ):
//   relu        √(s11 s22)(sin φ + (π − φ) cos φ)/(2π),    (π − φ)/(2π)       (arc-cosine kernels)
//   leaky_relu  (1−α)²·relu + α s12,                        (1−α)²(π − φ)/(2π) + α
//   erf         (2/π) asin(2 s12/√((1+2s11)(1+2s22))),       (4/π)/√((1+2s11)(1+2s22) − 4 s12²)
//   identity    s12,                                        1
// Every other activation (tanh, gelu, softplus, …) by two-dimensional Gauss–Hermite quadrature
// of degree n: u = √(2 s11) t_a, v = √(2 s22)(ρ t_a + √(1−ρ²) t_b), weights w_a w_b / π. Its
// error falls like exp(−c√(n/s)) for tanh, whose poles at ±iπ/2 bound the rate, with s the
// pre-activation variance: about 1e-9 at n = 64 for unit variances, but 2e-5 at variance 2.5
// (raise quadrature_degree for σ_w > 1 or unnormalized inputs); at a kink (relu forced through
// quadrature) only like a power of n.
#pragma once

#include <cstddef>

#include "activations.hpp"
#include "gauss_hermite.hpp"

namespace ntkssl::plugins {

class GaussianExpectations {
public:
    enum class Method { automatic, quadrature };

    GaussianExpectations(Activation activation, Method method, std::size_t degree);

    // True when this activation is computed by a closed form (automatic method only).
    bool closed_form() const noexcept { return closed_; }

    // For one s11 and n pairs (s22[j], s12[j]): ess[j] = E[σσ], and edd[j] = E[σ'σ'] unless
    // edd is null. |s12| ≤ √(s11 s22) is assumed up to rounding (clamped).
    void row(double s11, const double* s22, const double* s12, std::size_t n, double* ess, double* edd) const;

private:
    Activation act_;
    bool closed_;
    GaussHermite gh_;
};

}  // namespace ntkssl::plugins
