// What the core knows when it constructs a component, beyond the component's own table.
#pragma once

#include <cstddef>

#include "ntkssl/tensor.hpp"

namespace ntkssl {

struct ArchitectureDescription;

struct BuildContext {
    // Dimension d of one (flattened) input sample; 0 where not yet known (e.g. datasets).
    std::size_t input_dim = 0;
    // Shape of one sample before flattening (e.g. {28, 28}); {d} for plain vectors.
    Shape sample_shape;
    // The pipeline's architecture, for components that derive from it (analytic kernels).
    // Valid during construction only: copy what you need.
    const ArchitectureDescription* architecture = nullptr;
};

}  // namespace ntkssl
