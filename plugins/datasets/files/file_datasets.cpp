// Datasets read from files: idx (MNIST / Fashion-MNIST), npy, csv. The parsing is in readers.cpp.
#include <ntkssl/ntkssl.hpp>

#include <cmath>

#include "readers.hpp"

namespace ntkssl::plugins {

namespace {

const char* kFashionImages = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
const char* kFashionLabels = "/usr/share/datasets/fashion-mnist/train-labels-idx1-ubyte.gz";

// Labels from a 1-d array of non-negative integers, one per sample.
Labels to_labels(const readers::Array& a, std::size_t n, const std::string& path, const std::string& images) {
    if (a.shape.size() != 1)
        throw ConfigError(path + ": a labels file must be 1-dimensional, this one has " + std::to_string(a.shape.size()) + " dimensions");
    if (a.shape[0] != n)
        throw ConfigError(path + ": " + std::to_string(a.shape[0]) + " labels, but '" + images + "' has " + std::to_string(n) +
                          " samples; they must have the same count");
    Labels y;
    for (double v : a.values) {
        if (v != std::floor(v) || v < 0 || v > 1e9) throw ConfigError(path + ": label " + std::to_string(v) + " is not a non-negative integer");
        y.push_back(static_cast<int>(v));
    }
    return y;
}

// N samples of any shape → N×d matrix, with the shape of one sample kept.
DatasetData to_dataset(const readers::Array& a, const std::string& path, const std::string& provenance) {
    if (a.shape.empty() || a.shape[0] == 0) throw ConfigError(path + ": holds no samples");
    DatasetData data;
    const std::size_t n = a.shape[0];
    data.sample_shape.assign(a.shape.begin() + 1, a.shape.end());
    if (data.sample_shape.empty()) data.sample_shape = {1};
    std::size_t d = 1;
    for (auto s : data.sample_shape) d *= s;
    if (d == 0) throw ConfigError(path + ": samples have zero size");
    data.x = Matrix::from_shape({n, d});
    std::copy(a.values.begin(), a.values.end(), data.x.begin());
    for (double v : a.values)
        if (!std::isfinite(v)) throw ConfigError(path + ": holds a non-finite value (NaN or infinity)");
    data.provenance = provenance;
    return data;
}

}  // namespace

class Idx final : public Dataset {
public:
    static std::vector<ParamSpec> parameters() {
        return {ParamSpec::string("images", kFashionImages, "IDX images file, raw or .gz (default: Debian's Fashion-MNIST training set)"),
                ParamSpec::string("labels", kFashionLabels, "IDX labels file, raw or .gz; \"\" for none")};
    }
    explicit Idx(const Config& cfg) : images_(cfg.get_string("images")), labels_(cfg.get_string("labels")) {
        cfg.require(!images_.empty(), "images", "must name an IDX file");
    }
    DatasetData load(Rng&) const override {
        const auto a = readers::read_idx(images_);
        DatasetData data = to_dataset(a, images_, "idx(" + images_ + (labels_.empty() ? "" : ", " + labels_) + ")");
        if (!labels_.empty()) data.labels = to_labels(readers::read_idx(labels_), data.x.shape(0), labels_, images_);
        return data;
    }

private:
    std::string images_, labels_;
};

class Npy final : public Dataset {
public:
    static std::vector<ParamSpec> parameters() {
        return {ParamSpec::required("path", ParamType::string, ".npy file of samples (first axis: samples)"),
                ParamSpec::string("labels", "", ".npy file of integer labels, one per sample; \"\" for none")};
    }
    explicit Npy(const Config& cfg) : path_(cfg.get_string("path")), labels_(cfg.get_string("labels")) {}
    DatasetData load(Rng&) const override {
        DatasetData data = to_dataset(readers::read_npy(path_), path_, "npy(" + path_ + ")");
        if (!labels_.empty()) data.labels = to_labels(readers::read_npy(labels_), data.x.shape(0), labels_, path_);
        return data;
    }

private:
    std::string path_, labels_;
};

class Csv final : public Dataset {
public:
    static std::vector<ParamSpec> parameters() {
        return {ParamSpec::required("path", ParamType::string, "CSV file: one sample a row, numeric fields"),
                ParamSpec::integer("label_column", -1, "0-based column holding integer labels; -1 for none"),
                ParamSpec::string("header", "auto", "first row is a header: auto (when any field is not a number), yes, no",
                                  {"auto", "yes", "no"})};
    }
    explicit Csv(const Config& cfg)
        : path_(cfg.get_string("path")), label_column_(cfg.get_integer("label_column")), header_(cfg.get_string("header")) {
        cfg.require(label_column_ >= -1, "label_column", "must be -1 (no labels) or a column index >= 0");
    }
    DatasetData load(Rng&) const override {
        auto csv = readers::read_csv(path_, static_cast<int>(label_column_), header_);
        DatasetData data;
        data.x = std::move(csv.x);
        data.labels = std::move(csv.labels);
        data.sample_shape = {data.x.shape(1)};
        data.provenance = "csv(" + path_ + ")";
        return data;
    }

private:
    std::string path_;
    std::int64_t label_column_;
    std::string header_;
};

}  // namespace ntkssl::plugins

NTKSSL_PLUGIN("ntkssl.datasets.files", NTKSSL_VERSION) {
    ntkssl::register_plugin<ntkssl::plugins::Idx>(registrar, "idx", "MNIST/Fashion-MNIST IDX images and labels, raw or gzip");
    ntkssl::register_plugin<ntkssl::plugins::Npy>(registrar, "npy", "a NumPy .npy array of samples (and optional labels)");
    ntkssl::register_plugin<ntkssl::plugins::Csv>(registrar, "csv", "a CSV file of numeric columns, optional label column");
}
