// Loss: a scalar objective on the embeddings of the views of a batch.
//
// WHAT IT REPRESENTS: L(Z¹, …, Z^V; y) where Z^v = f_θ(X^v) is the N×K embedding of view v
// (V = views(), usually 2) and y are optional labels. The loss returns its value and the exact
// gradient ∂L/∂Z^v for every view; it never sees the network's parameters. That is the whole
// contract, and why a user can add a loss without touching anything else.
//
// REQUIRES of an implementation (the contract kit checks these):
//   - construct from (const Config&, const BuildContext&);
//   - evaluate() receives exactly views() matrices of equal shape N×K (N ≥ 2), and labels of
//     size N when needs_labels() (otherwise possibly empty);
//   - value finite for finite inputs, or a NumericError that says why;
//   - gradients[v] has the shape of views[v] and matches central finite differences of value
//     to ~1e-6 relative in double precision;
//   - deterministic: no hidden state, no randomness.
#pragma once

#include <cstddef>
#include <vector>

#include "ntkssl/export.hpp"
#include "ntkssl/tensor.hpp"

namespace ntkssl {

struct LossValue {
    double value = 0.0;
    std::vector<Matrix> gradients;  // one per view, ∂L/∂Z^v
};

class NTKSSL_SDK_API Loss {
public:
    virtual ~Loss();
    virtual std::size_t views() const { return 2; }
    virtual bool needs_labels() const { return false; }
    virtual LossValue evaluate(const std::vector<Matrix>& views, const Labels& labels) const = 0;
};

}  // namespace ntkssl
