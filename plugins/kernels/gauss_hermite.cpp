#include "gauss_hermite.hpp"

#include <cmath>
#include <stdexcept>

#include <ntkssl/linalg.hpp>

namespace ntkssl::plugins {

namespace {

// The orthonormal Hermite polynomial p_n(x) (weight e^{−x²}) and p_n'(x) = √(2n) p_{n−1}(x), by
// the three-term recurrence p_j = x √(2/j) p_{j−1} − √((j−1)/j) p_{j−2}, p_0 = π^{−1/4}.
void hermite(std::size_t n, double x, double& p, double& dp) {
    double p1 = std::pow(M_PI, -0.25), p2 = 0.0;
    for (std::size_t j = 1; j <= n; ++j) {
        const double p3 = p2;
        p2 = p1;
        p1 = x * std::sqrt(2.0 / static_cast<double>(j)) * p2 - std::sqrt(static_cast<double>(j - 1) / static_cast<double>(j)) * p3;
    }
    p = p1;
    dp = std::sqrt(2.0 * static_cast<double>(n)) * p2;
}

}  // namespace

GaussHermite gauss_hermite(std::size_t n) {
    if (n == 0) throw std::invalid_argument("Gauss–Hermite quadrature needs at least one node");
    // Golub–Welsch: the nodes are the eigenvalues of the Jacobi matrix.
    Matrix jacobi = xt::zeros<double>({n, n});
    for (std::size_t k = 1; k < n; ++k) jacobi(k - 1, k) = jacobi(k, k - 1) = std::sqrt(static_cast<double>(k) / 2.0);
    const linalg::Eigen e = linalg::eigh(jacobi);
    GaussHermite q;
    for (std::size_t i = 0; i < n; ++i) {
        // Newton on p_n polishes each node to full precision; the weight 2/p_n'(t)² keeps its
        // relative accuracy even where it is tiny (the eigenvector route loses it there).
        double t = e.values(i), p = 0, dp = 1;
        for (int it = 0; it < 3; ++it) {
            hermite(n, t, p, dp);
            t -= p / dp;
        }
        hermite(n, t, p, dp);
        q.nodes.push_back(t);
        q.weights.push_back(2.0 / (dp * dp));
    }
    return q;
}

}  // namespace ntkssl::plugins
