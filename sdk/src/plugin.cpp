#include "ntkssl/plugin.hpp"

#include "ntkssl/errors.hpp"

namespace ntkssl {

const char* to_string(PluginKind kind) noexcept {
    switch (kind) {
        case PluginKind::dataset: return "dataset";
        case PluginKind::augmentation: return "augmentation";
        case PluginKind::architecture: return "architecture";
        case PluginKind::loss: return "loss";
        case PluginKind::kernel: return "kernel";
    }
    return "?";
}

// Out-of-line destructors: the key functions that put each interface's vtable and type
// information in the SDK library, once.
Dataset::~Dataset() = default;
Augmentation::~Augmentation() = default;
Architecture::~Architecture() = default;
Loss::~Loss() = default;
Kernel::~Kernel() = default;
ForwardState::~ForwardState() = default;

Matrix Architecture::forward_keep(const Vector& theta, const Matrix& x, std::unique_ptr<ForwardState>& state) const {
    state.reset();
    return forward(theta, x);
}

void Architecture::backward_accumulate(const Vector& theta, const Matrix& x, const Matrix& grad_z, const ForwardState*,
                                       Vector& grad) const {
    grad += backward(theta, x, grad_z);
}

std::vector<double> Architecture::learning_rate_multipliers() const { return std::vector<double>(blocks().size(), 1.0); }

Matrix Architecture::structured_ntk(const Vector&, const Matrix&, const Matrix&, NtkOutput, std::size_t) const {
    throw PluginError("this architecture has no structured NTK (has_structured_ntk() is false)");
}

}  // namespace ntkssl
