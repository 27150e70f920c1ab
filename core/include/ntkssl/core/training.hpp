// One sweep point: build its components, make the views, train, measure.
//
// Training minimizes the views' loss L(f_θ(X¹), …, f_θ(X^V)); the gradient is the chain rule
// through the architecture, ∇L = Σ_v backward(θ, X^v, ∂L/∂Z^v), and the optimizer ([train]) is
//   gd    θ ← θ − η s∘v,  v ← μ v + ∇L                   full batch (μ = momentum, 0 by default)
//   sgd   the same on one mini-batch of samples a step, batches of shuffled epochs
//   flow  Heun's method for dθ/dt = −s∘∇L: θ̃ = θ − η s∘g(θ), θ ← θ − η/2 · s∘(g(θ) + g(θ̃))
// with s the per-parameter learning-rate multipliers ([train] lr_scaling) or 1. Measurements
// (docs/outputs.md, metrics.hpp) are taken at the steps of measurement_steps(), on the time
// axis t = η·step.
//
// Kernel-regime models are trained next to the network with the same loss, optimizer, batches
// and steps, in function space over the training views Z = [X¹; …; X^V] (kernel_models.hpp):
//   the linearization  f^lin_t = f_0 + J_0(θ − θ_0), kernel Θ_0 = J_0 diag(s) J_0ᵀ, and
//   the kernel model   the [kernel] (default ntk_analytic, the infinite-width NTK) ⊗ I_K from the
//                      network's own f_0 — or, with kernel_model = "closed_form", kernelized
//                      Barlow Twins, which is not trained.
//
// Random streams of a point come from Rng(seed): "dataset", "subset", "holdout",
// "views"/round/v/a (view v, augmentation a), "heldout_views"/v/a, "init", "epochs"/e. They depend
// on the seed only, so points that differ only in width see the same data and views, and results
// do not depend on the number of threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <ntkssl/dataset.hpp>

#include "ntkssl/core/pipeline.hpp"
#include "ntkssl/core/registry.hpp"

namespace ntkssl::core {

struct MetricRecord {
    std::int64_t step;
    double t;
    std::string metric;
    double value;
};

// Thrown out of a running point when the user interrupts the run.
struct Interrupted : std::exception {
    const char* what() const noexcept override { return "interrupted"; }
};

// Live progress of one running point, read by the progress printer.
struct PointProgress {
    std::atomic<std::int64_t> step{0};
    std::atomic<std::int64_t> total{0};
    std::atomic<double> loss{0.0};
    std::atomic<double> seconds{0.0};  // since training began (set with step)
};

// Everything a point needs, built and checked but not trained. Building it is what
// `ntkssl validate` does for each point.
struct PreparedPoint {
    ResolvedPipeline pipeline;
    DatasetData data;     // the training samples (after subset, holdout, normalize)
    DatasetData heldout;  // the held-out samples (empty x without holdout)
    std::vector<Component<Augmentation>> augmentations;
    std::size_t num_views = 0;
    std::vector<Matrix> views;  // round 0 of make_views
    Component<Architecture> architecture;
    Component<Loss> loss;
    Component<Kernel> kernel;  // when a metric needs it ([kernel], default ntk_analytic)
    Matrix probe;
    std::int64_t steps = 0;  // [train] steps, or round(time / learning_rate)
};

// Throws ConfigError listing every problem found (one per line) for what a pipeline asks that
// cannot work: components, parameters, metrics whose requirements are not met, memory.
PreparedPoint prepare_point(const ResolvedPipeline& pipeline, const Registry& registry);

// The views of a round: view v is the data through every augmentation in order, augmentation a
// drawing from the stream "views"/round/v/a of the point's seed. Round 0 is the fixed set of
// views; with [train] views = "resample", step s uses round s.
std::vector<Matrix> make_views(const PreparedPoint& point, std::uint64_t round);
// Views of another sample set (the held-out samples) from the stream `stream`/v/a.
std::vector<Matrix> make_views_of(const PreparedPoint& point, const Matrix& x, const std::string& stream);

// Where a point's optional artifacts go (the probe NTKs of measure.save_ntk): name, matrix.
using ArtifactSink = std::function<void(const std::string&, const Matrix&)>;

// Trains a prepared point. Throws NumericError (with the step) on divergence, Interrupted when
// `stop` becomes true.
std::vector<MetricRecord> train_point(PreparedPoint& point, PointProgress* progress, const std::atomic<bool>& stop,
                                      const ArtifactSink& artifacts = {});

}  // namespace ntkssl::core
