#include "activations.hpp"

#include <cmath>
#include <stdexcept>

namespace ntkssl::plugins {

namespace {

constexpr double inv_sqrt2 = 0.70710678118654752440;
constexpr double inv_sqrt2pi = 0.39894228040143267794;
constexpr double two_over_sqrtpi = 1.12837916709551257390;

double tanh_(double x) { return std::tanh(x); }
double tanh_d(double x) {
    const double t = std::tanh(x);
    return 1.0 - t * t;
}
double tanh_dh(double h) { return 1.0 - h * h; }
double relu(double x) { return x > 0.0 ? x : 0.0; }
// σ'(0) = 0 by convention (the subgradient PyTorch uses).
double relu_d(double x) { return x > 0.0 ? 1.0 : 0.0; }
double erf_(double x) { return std::erf(x); }
double erf_d(double x) { return two_over_sqrtpi * std::exp(-x * x); }
// Exact GELU: x·Φ(x).
double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x * inv_sqrt2)); }
double gelu_d(double x) { return 0.5 * (1.0 + std::erf(x * inv_sqrt2)) + x * inv_sqrt2pi * std::exp(-0.5 * x * x); }
// softplus(x) = log(1 + e^x), written to neither overflow nor lose digits.
double softplus(double x) { return x > 0.0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
double softplus_d(double x) { return 1.0 / (1.0 + std::exp(-x)); }
double identity(double x) { return x; }
double identity_d(double) { return 1.0; }
double relu_dh(double h) { return h > 0.0 ? 1.0 : 0.0; }

const std::vector<Activation>& table() {
    static const std::vector<Activation> t = {
        {"tanh", tanh_, tanh_d, tanh_dh},  {"relu", relu, relu_d, relu_dh},        {"erf", erf_, erf_d, nullptr},
        {"gelu", gelu, gelu_d, nullptr},   {"softplus", softplus, softplus_d, nullptr},
        {"identity", identity, identity_d, identity_d}};
    return t;
}

}  // namespace

std::vector<std::string> activation_names() {
    std::vector<std::string> names;
    for (const auto& a : table()) names.push_back(a.name);
    return names;
}

void derivatives(const Activation& act, const double* u, const double* h, double* out, std::size_t n) {
    if (act.derivative_from_value)
        for (std::size_t i = 0; i < n; ++i) out[i] = act.derivative_from_value(h[i]);
    else
        for (std::size_t i = 0; i < n; ++i) out[i] = act.derivative(u[i]);
}

const Activation& activation(const std::string& name) {
    for (const auto& a : table())
        if (a.name == name) return a;
    throw std::invalid_argument("unknown activation '" + name + "'");
}

}  // namespace ntkssl::plugins
