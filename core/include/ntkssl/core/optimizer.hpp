// The optimizers of [train], on any flat state (θ, or a kernel model's coefficients β).
//
//   gd, sgd   v ← μ v + g,  x ← x − η s∘v        (μ = 0: plain gradient descent)
//   flow      Heun's method for dx/dt = −s∘g(x):  x̃ = x − η s∘g(x),  x ← x − (η/2) s∘(g(x) + g(x̃))
//
// s is an optional per-entry multiplier (learning-rate scaling); the batches of sgd are the
// caller's business (the gradient it passes in).
#pragma once

#include <cstddef>

#include <xtensor/xbuilder.hpp>

namespace ntkssl::core {

struct Optimizer {
    enum class Kind { gd, sgd, flow } kind = Kind::gd;
    double lr = 0.1, momentum = 0.0;

    // x ← x − η·s∘v with v ← μ v + g (gd, sgd), or Heun's step with grad_at(x̃) (flow).
    template <class State, class GradAt>
    void step(State& x, State& velocity, const State& g, const State* scale, GradAt&& grad_at) const {
        // x ← x − c·s∘d, one pass over the memory (θ can be hundreds of MB).
        auto descend = [&](State& target, const State& d, double c) {
            double* t = target.data();
            const double* dd = d.data();
            const double* sc = scale ? scale->data() : nullptr;
            for (std::size_t i = 0, n = target.size(); i < n; ++i) t[i] -= c * (sc ? sc[i] : 1.0) * dd[i];
        };
        if (kind == Kind::flow) {
            State tilde = x;
            descend(tilde, g, lr);
            const State g2 = grad_at(tilde);
            descend(x, g, 0.5 * lr);
            descend(x, g2, 0.5 * lr);
            return;
        }
        if (momentum > 0) {
            if (velocity.size() != g.size()) velocity = xt::zeros_like(g);
            double* v = velocity.data();
            const double* gg = g.data();
            for (std::size_t i = 0, n = velocity.size(); i < n; ++i) v[i] = momentum * v[i] + gg[i];
            descend(x, velocity, lr);
        } else {
            descend(x, g, lr);
        }
    }
};

}  // namespace ntkssl::core
