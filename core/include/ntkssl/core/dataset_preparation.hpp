// What the core does to every dataset after its plugin loaded it: the common options of a
// [dataset] table (Pipeline::dataset_common_parameters), in this order:
//   1. subset:    keep `subset` samples — a seeded random choice, a stratified one (every label
//                 gets ⌊n/C⌋ or ⌈n/C⌉ samples; the labels with the most samples get the
//                 extra ones first), or the first ones; kept in the dataset's order;
//   2. holdout:   move round(holdout · n) randomly chosen samples to the held-out set;
//   3. normalize: fitted on the training samples only and applied to both sets.
// Randomness comes from the "subset" and "holdout" streams of the point's seed.
#pragma once

#include <ntkssl/config.hpp>
#include <ntkssl/dataset.hpp>
#include <ntkssl/random.hpp>

namespace ntkssl::core {

struct PreparedData {
    DatasetData train;
    DatasetData heldout;  // empty x when holdout = 0
};

// Throws ConfigError (at the option's location) for impossible requests: a subset larger than
// the dataset, stratification without labels, a holdout that leaves no training sample.
PreparedData prepare_dataset(DatasetData data, const Config& options, const Rng& rng);

}  // namespace ntkssl::core
