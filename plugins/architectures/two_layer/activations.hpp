// Pointwise activations σ and their derivatives σ', by name.
#pragma once

#include <string>
#include <vector>

namespace ntkssl::plugins {

struct Activation {
    std::string name;
    double (*value)(double);
    double (*derivative)(double);
};

// The names accepted by `activation = "..."`.
std::vector<std::string> activation_names();
// Throws std::invalid_argument for an unknown name (callers validate against the names first).
const Activation& activation(const std::string& name);

}  // namespace ntkssl::plugins
