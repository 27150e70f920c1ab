#include "ntkssl/core/dataset_preparation.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include <ntkssl/errors.hpp>

namespace ntkssl::core {

namespace {

DatasetData take(const DatasetData& d, const std::vector<std::size_t>& rows) {
    DatasetData out;
    out.sample_shape = d.sample_shape;
    out.provenance = d.provenance;
    out.x = Matrix::from_shape({rows.size(), d.x.shape(1)});
    for (std::size_t r = 0; r < rows.size(); ++r) std::copy(&d.x(rows[r], 0), &d.x(rows[r], 0) + d.x.shape(1), &out.x(r, 0));
    if (!d.labels.empty())
        for (std::size_t r : rows) out.labels.push_back(d.labels[r]);
    return out;
}

void shuffle(std::vector<std::size_t>& v, Rng& rng) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.uniform_index(i)]);
}

}  // namespace

PreparedData prepare_dataset(DatasetData data, const Config& opt, const Rng& rng) {
    const std::size_t n = data.x.shape(0);
    const auto subset = opt.get_integer("subset");
    const std::string mode = opt.get_string("subset_mode");
    opt.require(subset >= 0, "subset", "must be >= 0 (0: all samples)");
    opt.require(static_cast<std::size_t>(subset) <= n, "subset",
                "asks for more samples than the dataset has (" + std::to_string(n) + ")");
    if (subset > 0 && static_cast<std::size_t>(subset) < n) {
        const auto m = static_cast<std::size_t>(subset);
        std::vector<std::size_t> rows;
        if (mode == "first") {
            rows.resize(m);
            std::iota(rows.begin(), rows.end(), 0);
        } else if (mode == "random") {
            std::vector<std::size_t> all(n);
            std::iota(all.begin(), all.end(), 0);
            Rng r = rng.derive("subset");
            shuffle(all, r);
            rows.assign(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(m));
        } else {  // stratified
            opt.require(!data.labels.empty(), "subset_mode", "stratified needs labels, and this dataset has none");
            std::map<int, std::vector<std::size_t>> by_label;
            for (std::size_t i = 0; i < n; ++i) by_label[data.labels[i]].push_back(i);
            Rng r = rng.derive("subset");
            std::vector<std::vector<std::size_t>*> classes;
            for (auto& [label, idx] : by_label) {
                shuffle(idx, r);
                classes.push_back(&idx);
            }
            // Round robin over the classes: every class gets ⌊m/C⌋ or ⌈m/C⌉ while it has samples.
            std::vector<std::size_t> next(classes.size(), 0);
            while (rows.size() < m) {
                for (std::size_t c = 0; c < classes.size() && rows.size() < m; ++c)
                    if (next[c] < classes[c]->size()) rows.push_back((*classes[c])[next[c]++]);
            }
        }
        std::sort(rows.begin(), rows.end());
        data = take(data, rows);
    }

    PreparedData out;
    const double holdout = opt.get_real("holdout");
    opt.require(holdout >= 0 && holdout < 1, "holdout", "must be a fraction in [0, 1)");
    const std::size_t total = data.x.shape(0);
    const auto held = static_cast<std::size_t>(std::llround(holdout * static_cast<double>(total)));
    opt.require(held < total, "holdout", "leaves no training sample (" + std::to_string(total) + " samples)");
    if (held > 0) {
        std::vector<std::size_t> all(total);
        std::iota(all.begin(), all.end(), 0);
        Rng r = rng.derive("holdout");
        shuffle(all, r);
        std::vector<std::size_t> test(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(held));
        std::vector<std::size_t> train(all.begin() + static_cast<std::ptrdiff_t>(held), all.end());
        std::sort(test.begin(), test.end());
        std::sort(train.begin(), train.end());
        out.heldout = take(data, test);
        out.train = take(data, train);
    } else {
        out.train = std::move(data);
    }

    const std::string norm = opt.get_string("normalize");
    Matrix& x = out.train.x;
    const std::size_t d = x.shape(1);
    auto each = [&](auto&& f) {
        f(out.train.x);
        if (out.heldout.x.size()) f(out.heldout.x);
    };
    if (norm == "unit_interval") {
        const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
        const double a = *lo, range = *hi - *lo;
        opt.require(range > 0, "normalize", "unit_interval: every training value is the same (" + std::to_string(a) + ")");
        each([&](Matrix& m) {
            for (auto& v : m) v = (v - a) / range;
        });
    } else if (norm == "standardize") {
        std::vector<double> mean(d, 0.0), scale(d, 1.0);
        const auto rows = static_cast<double>(x.shape(0));
        for (std::size_t j = 0; j < d; ++j) {
            for (std::size_t i = 0; i < x.shape(0); ++i) mean[j] += x(i, j) / rows;
            double var = 0;
            for (std::size_t i = 0; i < x.shape(0); ++i) var += (x(i, j) - mean[j]) * (x(i, j) - mean[j]) / rows;
            if (var > 0) scale[j] = 1.0 / std::sqrt(var);  // a constant feature is only centred
        }
        each([&](Matrix& m) {
            for (std::size_t i = 0; i < m.shape(0); ++i)
                for (std::size_t j = 0; j < d; ++j) m(i, j) = (m(i, j) - mean[j]) * scale[j];
        });
    } else if (norm == "sphere") {
        each([&](Matrix& m) {
            for (std::size_t i = 0; i < m.shape(0); ++i) {
                double s = 0;
                for (std::size_t j = 0; j < d; ++j) s += m(i, j) * m(i, j);
                s = std::sqrt(s);
                if (s == 0) throw NumericError("normalize = \"sphere\": sample " + std::to_string(i) + " is the zero vector and has no direction");
                for (std::size_t j = 0; j < d; ++j) m(i, j) /= s;
            }
        });
    }
    return out;
}

}  // namespace ntkssl::core
