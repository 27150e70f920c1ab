// Pointwise activations σ and their derivatives σ', by name.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ntkssl::plugins {

struct Activation {
    std::string name;
    double (*value)(double);
    double (*derivative)(double);
    // σ'(u) from h = σ(u) where that is cheaper (tanh: 1 − h²); nullptr where it is not.
    double (*derivative_from_value)(double);
};

// out = σ'(u), elementwise, using h = σ(u) when the activation allows it.
void derivatives(const Activation& act, const double* u, const double* h, double* out, std::size_t n);

// The names accepted by `activation = "..."`.
std::vector<std::string> activation_names();
// Throws std::invalid_argument for an unknown name (callers validate against the names first).
const Activation& activation(const std::string& name);

}  // namespace ntkssl::plugins
