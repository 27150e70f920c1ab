// One sweep point: build its components, make the views, train, measure.
//
// Training is full-batch gradient descent on the views' loss: with Z^v = f_θ(X^v),
//   θ ← θ − η · Σ_v backward(θ, X^v, ∂L/∂Z^v),
// and measurements at steps 0, every, 2·every, …, steps, on the time axis t = η·step.
//   loss                 L at θ_step
//   param_distance       ‖θ_step − θ_0‖₂
//   ntk_relative_change  ‖Θ_step − Θ_0‖_F / ‖Θ_0‖_F on the probe set (first probe_size samples)
//
// Random streams of a point come from Rng(seed): "dataset", "subset", "holdout",
// "views"/round/v/a (view v, augmentation a), "init". They depend on the seed only, so points that differ only in width see the same
// data and views, and results do not depend on the number of threads.
#pragma once

#include <atomic>
#include <cstdint>
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
    Matrix probe;
};

PreparedPoint prepare_point(const ResolvedPipeline& pipeline, const Registry& registry);

// The views of a round: view v is the data through every augmentation in order, augmentation a
// drawing from the stream "views"/round/v/a of the point's seed. Round 0 is the fixed set of
// views; with [train] views = "resample", step s uses round s.
std::vector<Matrix> make_views(const PreparedPoint& point, std::uint64_t round);

// Trains a prepared point. Throws NumericError (with the step) on divergence, Interrupted when
// `stop` becomes true.
std::vector<MetricRecord> train_point(PreparedPoint& point, PointProgress* progress, const std::atomic<bool>& stop);

}  // namespace ntkssl::core
