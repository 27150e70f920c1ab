// Augmentation: a random map from samples to views.
//
// WHAT IT REPRESENTS: a seeded map X → X' of the same shape; applied to a data set it gives
// one "view". A pipeline composes several augmentations in order, and makes each view from its
// own stream derived from the pipeline seed, so views are reproducible.
//
// REQUIRES of an implementation:
//   - apply() returns a matrix of exactly x's shape, all entries finite when x's are;
//   - its randomness comes only from `rng`; the same rng state gives the same output;
//   - sample_shape (product = x.shape(1)) is available for image-aware maps.
#pragma once

#include "ntkssl/export.hpp"
#include "ntkssl/random.hpp"
#include "ntkssl/tensor.hpp"

namespace ntkssl {

class NTKSSL_SDK_API Augmentation {
public:
    virtual ~Augmentation();
    virtual Matrix apply(const Matrix& x, const Shape& sample_shape, Rng& rng) const = 0;
};

}  // namespace ntkssl
