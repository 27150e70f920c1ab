// Pointwise activations σ and their derivatives σ', by name, applied to whole arrays.
//
// Array-wise so that the hot ones vectorize: tanh runs through xsimd (about ten times faster
// than the scalar libm call on AVX2, where the build enables it), relu and identity are loops
// the compiler vectorizes by itself.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ntkssl::plugins {

class Activation {
public:
    enum class Kind { tanh, relu, leaky_relu, erf, gelu, softplus, identity };

    // Throws std::invalid_argument for an unknown name (callers validate against names() first).
    // negative_slope is used by leaky_relu only: σ(u) = u for u > 0, negative_slope·u otherwise.
    Activation(const std::string& name, double negative_slope = 0.0);

    // The names accepted by `activation = "..."`.
    static std::vector<std::string> names();

    const std::string& name() const noexcept { return name_; }
    Kind kind() const noexcept { return kind_; }
    double negative_slope() const noexcept { return slope_; }

    double value(double u) const;
    // σ'(u); relu'(0) = 0 and leaky_relu'(0) = negative_slope by convention (PyTorch's subgradient).
    double derivative(double u) const;
    // h[i] = σ(u[i]).
    void values(const double* u, double* h, std::size_t n) const;
    // out[i] = σ'(u[i]), from h = σ(u) where that is cheaper (tanh: 1 − h²). out may alias u or h.
    void derivatives(const double* u, const double* h, double* out, std::size_t n) const;

private:
    std::string name_;
    Kind kind_;
    double slope_;
};

}  // namespace ntkssl::plugins
