#include "activations.hpp"

#include <cmath>
#include <stdexcept>

#include <xsimd/xsimd.hpp>

namespace ntkssl::plugins {

namespace {

constexpr double inv_sqrt2 = 0.70710678118654752440;
constexpr double inv_sqrt2pi = 0.39894228040143267794;
constexpr double two_over_sqrtpi = 1.12837916709551257390;

struct Named {
    const char* name;
    Activation::Kind kind;
};
constexpr Named kTable[] = {{"tanh", Activation::Kind::tanh},         {"relu", Activation::Kind::relu},
                            {"leaky_relu", Activation::Kind::leaky_relu}, {"erf", Activation::Kind::erf},
                            {"gelu", Activation::Kind::gelu},         {"softplus", Activation::Kind::softplus},
                            {"identity", Activation::Kind::identity}};

// softplus(x) = log(1 + e^x), written to neither overflow nor lose digits.
double softplus(double x) { return x > 0.0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }

// GCC 12 reports a -Wmaybe-uninitialized inside its own AVX-512 intrinsics when xsimd's exp is
// inlined here (a known false positive of avx512fintrin.h); it is silenced for this function only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
void tanh_array(const double* u, double* h, std::size_t n) {
    using batch = xsimd::batch<double>;
    constexpr std::size_t w = batch::size;
    std::size_t i = 0;
    for (; i + w <= n; i += w) xsimd::tanh(xsimd::load_unaligned(u + i)).store_unaligned(h + i);
    for (; i < n; ++i) h[i] = std::tanh(u[i]);
}
#pragma GCC diagnostic pop

}  // namespace

Activation::Activation(const std::string& name, double negative_slope) : name_(name), slope_(negative_slope) {
    for (const auto& e : kTable)
        if (name == e.name) {
            kind_ = e.kind;
            return;
        }
    throw std::invalid_argument("unknown activation '" + name + "'");
}

std::vector<std::string> Activation::names() {
    std::vector<std::string> out;
    for (const auto& e : kTable) out.emplace_back(e.name);
    return out;
}

double Activation::value(double u) const {
    switch (kind_) {
        case Kind::tanh: return std::tanh(u);
        case Kind::relu: return u > 0.0 ? u : 0.0;
        case Kind::leaky_relu: return u > 0.0 ? u : slope_ * u;
        case Kind::erf: return std::erf(u);
        case Kind::gelu: return 0.5 * u * (1.0 + std::erf(u * inv_sqrt2));  // exact GELU: u·Φ(u)
        case Kind::softplus: return softplus(u);
        case Kind::identity: return u;
    }
    return u;
}

double Activation::derivative(double u) const {
    switch (kind_) {
        case Kind::tanh: {
            const double t = std::tanh(u);
            return 1.0 - t * t;
        }
        case Kind::relu: return u > 0.0 ? 1.0 : 0.0;
        case Kind::leaky_relu: return u > 0.0 ? 1.0 : slope_;
        case Kind::erf: return two_over_sqrtpi * std::exp(-u * u);
        case Kind::gelu: return 0.5 * (1.0 + std::erf(u * inv_sqrt2)) + u * inv_sqrt2pi * std::exp(-0.5 * u * u);
        case Kind::softplus: return 1.0 / (1.0 + std::exp(-u));
        case Kind::identity: return 1.0;
    }
    return 1.0;
}

void Activation::values(const double* u, double* h, std::size_t n) const {
    switch (kind_) {
        case Kind::tanh: tanh_array(u, h, n); return;
        case Kind::relu:
            for (std::size_t i = 0; i < n; ++i) h[i] = u[i] > 0.0 ? u[i] : 0.0;
            return;
        case Kind::identity:
            for (std::size_t i = 0; i < n; ++i) h[i] = u[i];
            return;
        default:
            for (std::size_t i = 0; i < n; ++i) h[i] = value(u[i]);
    }
}

void Activation::derivatives(const double* u, const double* h, double* out, std::size_t n) const {
    switch (kind_) {
        case Kind::tanh:
            for (std::size_t i = 0; i < n; ++i) out[i] = 1.0 - h[i] * h[i];
            return;
        case Kind::relu:
            for (std::size_t i = 0; i < n; ++i) out[i] = u[i] > 0.0 ? 1.0 : 0.0;
            return;
        case Kind::leaky_relu:
            for (std::size_t i = 0; i < n; ++i) out[i] = u[i] > 0.0 ? 1.0 : slope_;
            return;
        case Kind::identity:
            for (std::size_t i = 0; i < n; ++i) out[i] = 1.0;
            return;
        default:
            for (std::size_t i = 0; i < n; ++i) out[i] = derivative(u[i]);
    }
}

}  // namespace ntkssl::plugins
