// negative_cosine: the simplest cosine-similarity SSL loss, as a user-written plugin.
//
//     L = −(1/N) Σ_n ⟨z¹_n, z²_n⟩ / (‖z¹_n‖_ε ‖z²_n‖_ε),   ‖z‖_ε = √(‖z‖² + ε²)
//
// Gradient: with a = z¹_n, b = z²_n, c = ⟨a, b⟩, p = ‖a‖_ε, q = ‖b‖_ε,
//     ∂L/∂a = −(1/N) (b/(p q) − c a/(p³ q)),   and symmetrically for b.
#pragma once

#include <ntkssl/ntkssl.hpp>

namespace example {

class NegativeCosine final : public ntkssl::Loss {
public:
    static std::vector<ntkssl::ParamSpec> parameters();
    explicit NegativeCosine(const ntkssl::Config& cfg);
    ntkssl::LossValue evaluate(const std::vector<ntkssl::Matrix>& views, const ntkssl::Labels& labels) const override;

private:
    double epsilon_;
};

}  // namespace example
