// Dataset: where the points come from.
//
// WHAT IT REPRESENTS: a finite set of N samples in R^d, the matrix X (N×d, one sample a row),
// optionally with an integer label per sample, and the shape of one sample before flattening
// (for image-aware augmentations). Synthetic datasets draw X from the Rng they are given;
// file-backed ones ignore it.
//
// REQUIRES of an implementation:
//   - construct from (const Config&, const BuildContext&) and read every parameter there;
//   - load() returns x with N ≥ 1 rows, d ≥ 1 columns, all finite; labels empty or of size N;
//     product(sample_shape) == d; provenance says where the data came from (a path, a
//     generator and its parameters) in one line;
//   - the same Rng gives the same data.
#pragma once

#include <string>

#include "ntkssl/export.hpp"
#include "ntkssl/random.hpp"
#include "ntkssl/tensor.hpp"

namespace ntkssl {

struct DatasetData {
    Matrix x;
    Labels labels;  // empty when the dataset has none
    Shape sample_shape;
    std::string provenance;
};

class NTKSSL_SDK_API Dataset {
public:
    virtual ~Dataset();
    virtual DatasetData load(Rng& rng) const = 0;
};

}  // namespace ntkssl
