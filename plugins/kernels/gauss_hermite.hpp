// Gauss–Hermite quadrature: ∫ e^{−t²} g(t) dt ≈ Σ_i w_i g(t_i), exact for polynomials of degree
// ≤ 2n − 1. The nodes start as the eigenvalues of the symmetric tridiagonal Jacobi matrix of the
// Hermite polynomials (Golub–Welsch: zero diagonal, off-diagonal √(k/2)) and are polished by
// Newton steps on the orthonormal p_n; the weights are 2/p_n'(t_i)², which keeps full relative
// accuracy for the tiny weights of the outer nodes.
#pragma once

#include <cstddef>
#include <vector>

namespace ntkssl::plugins {

struct GaussHermite {
    std::vector<double> nodes, weights;  // nodes ascending
};

// n ≥ 1; throws std::invalid_argument otherwise.
GaussHermite gauss_hermite(std::size_t n);

}  // namespace ntkssl::plugins
