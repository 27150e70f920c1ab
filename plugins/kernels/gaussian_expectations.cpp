#include "gaussian_expectations.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace ntkssl::plugins {

namespace {

// cos φ, clamped: rounding can push |s12| a hair past √(s11 s22) for x = x'.
double correlation(double s11, double s22, double s12) {
    const double norm = std::sqrt(s11 * s22);
    return norm > 0 ? std::clamp(s12 / norm, -1.0, 1.0) : 0.0;
}

}  // namespace

GaussianExpectations::GaussianExpectations(Activation activation, Method method, std::size_t degree)
    : act_(std::move(activation)), gh_(gauss_hermite(degree)) {
    using K = Activation::Kind;
    const K k = act_.kind();
    closed_ = method == Method::automatic && (k == K::relu || k == K::leaky_relu || k == K::erf || k == K::identity);
}

void GaussianExpectations::row(double s11, const double* s22, const double* s12, std::size_t n, double* ess, double* edd) const {
    using K = Activation::Kind;
    if (closed_) {
        const double slope = act_.kind() == K::leaky_relu ? act_.negative_slope() : 0.0;
        for (std::size_t j = 0; j < n; ++j) {
            switch (act_.kind()) {
                case K::relu:
                case K::leaky_relu: {
                    const double phi = std::acos(correlation(s11, s22[j], s12[j]));
                    const double relu_ss = std::sqrt(s11 * s22[j]) * (std::sin(phi) + (M_PI - phi) * std::cos(phi)) / (2 * M_PI);
                    const double relu_dd = (M_PI - phi) / (2 * M_PI);
                    const double c = (1 - slope) * (1 - slope);
                    ess[j] = c * relu_ss + slope * s12[j];
                    if (edd) edd[j] = c * relu_dd + slope;
                    break;
                }
                case K::erf: {
                    const double p = (1 + 2 * s11) * (1 + 2 * s22[j]);
                    ess[j] = (2 / M_PI) * std::asin(std::clamp(2 * s12[j] / std::sqrt(p), -1.0, 1.0));
                    if (edd) edd[j] = (4 / M_PI) / std::sqrt(std::max(p - 4 * s12[j] * s12[j], 1e-300));
                    break;
                }
                default:  // identity
                    ess[j] = s12[j];
                    if (edd) edd[j] = 1.0;
            }
        }
        return;
    }
    const std::size_t q = gh_.nodes.size();
    const std::vector<double>& t = gh_.nodes;
    const std::vector<double>& w = gh_.weights;
    // σ and σ' at the first coordinate's nodes, once per row.
    std::vector<double> u(q), fu(q), du(q);
    for (std::size_t a = 0; a < q; ++a) u[a] = std::sqrt(2 * std::max(s11, 0.0)) * t[a];
    act_.values(u.data(), fu.data(), q);
    act_.derivatives(u.data(), fu.data(), du.data(), q);
    std::vector<double> v(q * q), fv(q * q), dv(q * q);
    for (std::size_t j = 0; j < n; ++j) {
        const double rho = correlation(s11, s22[j], s12[j]);
        const double scale = std::sqrt(2 * std::max(s22[j], 0.0)), perp = std::sqrt(std::max(0.0, 1 - rho * rho));
        for (std::size_t a = 0; a < q; ++a)
            for (std::size_t b = 0; b < q; ++b) v[a * q + b] = scale * (rho * t[a] + perp * t[b]);
        act_.values(v.data(), fv.data(), q * q);
        if (edd) act_.derivatives(v.data(), fv.data(), dv.data(), q * q);
        double ss = 0, dd = 0;
        for (std::size_t a = 0; a < q; ++a) {
            double inner_s = 0, inner_d = 0;
            for (std::size_t b = 0; b < q; ++b) {
                inner_s += w[b] * fv[a * q + b];
                if (edd) inner_d += w[b] * dv[a * q + b];
            }
            ss += w[a] * fu[a] * inner_s;
            dd += w[a] * du[a] * inner_d;
        }
        ess[j] = ss / M_PI;
        if (edd) edd[j] = dd / M_PI;
    }
}

}  // namespace ntkssl::plugins
