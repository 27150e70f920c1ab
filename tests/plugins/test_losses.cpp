// Every in-tree loss: the SDK's contract kit, PyTorch reference values, and exact cases.
#include <doctest/doctest.h>

#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include <ntkssl/testing/loss_contract.hpp>

#include "plugin_fixture.hpp"

using namespace ntkssl;
using namespace ntkssl::core;
using ntkssl::test::param;
using json = nlohmann::json;

namespace {

Component<Loss> make(const std::string& name, std::vector<Config::Entry> params = {}) {
    return ntkssl::test::registry().create<Loss>(PluginKind::loss, name, "loss", {"test", 0, 0}, std::move(params), {});
}

const std::vector<std::string> kLosses = {"barlow_twins",    "vicreg",          "simclr",        "infonce_dot",
                                          "spectral_contrastive", "negative_cosine", "supervised_mse"};

Matrix from_json(const json& rows) {
    Matrix m = Matrix::from_shape({rows.size(), rows[0].size()});
    for (std::size_t i = 0; i < rows.size(); ++i)
        for (std::size_t j = 0; j < rows[i].size(); ++j) m(i, j) = rows[i][j].get<double>();
    return m;
}

Config::Entry entry_from_json(const std::string& key, const json& v) {
    if (v.is_boolean()) return param(key, v.get<bool>());
    if (v.is_number_integer()) return param(key, v.get<std::int64_t>());
    if (v.is_number()) return param(key, v.get<double>());
    return param(key, v.get<std::string>());
}

double relative_difference(const Matrix& a, const Matrix& b) {
    double diff = 0, scale = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::fabs(a.data()[i] - b.data()[i]));
        scale = std::max(scale, std::fabs(b.data()[i]));
    }
    return diff / std::max(scale, 1e-300);
}

}  // namespace

TEST_CASE("every loss satisfies the SDK's loss contract (gradients, shapes, determinism, invariance, degenerate inputs)") {
    for (const auto& name : kLosses) {
        CAPTURE(name);
        const auto loss = make(name);
        testing::check_loss_contract(loss.get());
    }
    // The non-default variants too.
    testing::check_loss_contract(make("barlow_twins", {param("preset", std::string("original"))}).get());
    testing::check_loss_contract(make("simclr", {param("temperature", 0.1)}).get());
    testing::check_loss_contract(make("spectral_contrastive", {param("clip", false)}).get());
    testing::LossContract big;  // rows long enough that clipping acts on every one
    big.scale = 3.0;
    testing::check_loss_contract(make("spectral_contrastive").get(), big);
}

TEST_CASE("values and gradients equal PyTorch's (tests/reference/losses_torch.json) to 1e-10") {
    const json ref = json::parse(ntkssl::test::read_text(ntkssl::test::source_dir() / "tests/reference/losses_torch.json"));
    Labels labels;
    for (const auto& y : ref["labels"]) labels.push_back(y.get<int>());
    REQUIRE(ref["cases"].size() >= 16);
    std::set<std::string> covered;
    for (const auto& c : ref["cases"]) {
        const std::string name = c["loss"];
        CAPTURE(name);
        CAPTURE(c["params"].dump());
        std::vector<Config::Entry> params;
        for (const auto& [k, v] : c["params"].items()) params.push_back(entry_from_json(k, v));
        std::vector<Matrix> views;
        for (const auto& z : c["inputs"]) views.push_back(from_json(z));
        const LossValue got = make(name, params).get().evaluate(views, labels);
        const double want = c["value"];
        CHECK(std::fabs(got.value - want) <= 1e-10 * std::max(1.0, std::fabs(want)));
        REQUIRE(got.gradients.size() == c["gradients"].size());
        for (std::size_t v = 0; v < got.gradients.size(); ++v) CHECK(relative_difference(got.gradients[v], from_json(c["gradients"][v])) < 1e-10);
        covered.insert(name);
    }
    CHECK(covered.size() == kLosses.size());
}

TEST_CASE("vicreg: zero for identical views with decorrelated columns of std >= 1, the closed-form hinge below") {
    // Columns a·(1, 1, −1, −1) and a·(1, −1, 1, −1): centred, orthogonal (Cov diagonal), unbiased
    // variance 4a²/3. Identical views: no invariance term. For a = 2, std ≈ 2.31 ≥ 1: L = 0.
    // For a = 0.3 both columns of both views pay β·(1 − s)/(2K) each: L = β(1 − s), s = √(0.12 + 1e-4).
    auto views_for = [](double a) {
        const Matrix z = {{a, a}, {a, -a}, {-a, a}, {-a, -a}};
        return std::vector<Matrix>{z, z};
    };
    const auto vic = make("vicreg");
    CHECK(vic.get().evaluate(views_for(2.0), {}).value == doctest::Approx(0.0).epsilon(1e-15));
    CHECK(vic.get().evaluate(views_for(0.3), {}).value == doctest::Approx(25.0 * (1.0 - std::sqrt(0.12 + 1e-4))).epsilon(1e-13));
}

TEST_CASE("nt-xent: identical views of orthogonal unit embeddings give -1/tau + log(e^(1/tau) + 2N - 2)") {
    const Matrix eye = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};  // N = 3
    for (double tau : {0.1, 0.5, 1.0}) {
        const double expected = -1.0 / tau + std::log(std::exp(1.0 / tau) + 4.0);
        CHECK(make("simclr", {param("temperature", tau)}).get().evaluate({eye, eye}, {}).value ==
              doctest::Approx(expected).epsilon(1e-13));
        CHECK(make("infonce_dot", {param("temperature", tau)}).get().evaluate({eye, eye}, {}).value ==
              doctest::Approx(expected).epsilon(1e-13));
    }
    // Cosine similarity ignores the scale of the embeddings; the dot product does not.
    const Matrix big = 3.0 * eye;
    CHECK(make("simclr").get().evaluate({big, big}, {}).value == doctest::Approx(-2.0 + std::log(std::exp(2.0) + 4.0)).epsilon(1e-13));
    CHECK(make("infonce_dot").get().evaluate({big, big}, {}).value == doctest::Approx(-18.0 + std::log(std::exp(18.0) + 4.0)).epsilon(1e-13));
}

TEST_CASE("spectral contrastive, negative cosine, supervised mse: exact values") {
    const Matrix eye = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    // Z¹ = Z² = I: M = I, so L = −(2/N)·N + 0 = −2 (rows of norm 1 = √μ are clipped to themselves).
    CHECK(make("spectral_contrastive").get().evaluate({eye, eye}, {}).value == doctest::Approx(-2.0).epsilon(1e-14));
    // Clipping bounds the loss: rows 5× longer give the same value with clipping, −50 without.
    const Matrix five = 5.0 * eye;
    CHECK(make("spectral_contrastive").get().evaluate({five, five}, {}).value == doctest::Approx(-2.0).epsilon(1e-14));
    CHECK(make("spectral_contrastive", {param("clip", false)}).get().evaluate({five, five}, {}).value == doctest::Approx(-50.0).epsilon(1e-14));
    const Matrix z = {{1, 2}, {-3, 0.5}};
    const Matrix minus_z = -z;
    CHECK(make("negative_cosine").get().evaluate({z, z}, {}).value == doctest::Approx(-1.0).epsilon(1e-14));
    CHECK(make("negative_cosine").get().evaluate({z, minus_z}, {}).value == doctest::Approx(1.0).epsilon(1e-14));
    const Matrix onehot = {{0, 1, 0}, {1, 0, 0}};
    CHECK(make("supervised_mse").get().evaluate({onehot}, {1, 0}).value == 0.0);
    CHECK(make("supervised_mse").get().evaluate({onehot}, {0, 0}).value == doctest::Approx(1.0 / 2).epsilon(1e-14));  // ‖e1 − e0‖²/(2N)
}

TEST_CASE("losses declare views and labels - supervised_mse refuses labels out of range") {
    for (const auto& name : kLosses) {
        CAPTURE(name);
        const auto l = make(name);
        CHECK(l.get().views() == (name == "supervised_mse" ? 1u : 2u));
        CHECK(l.get().needs_labels() == (name == "supervised_mse"));
    }
    const Matrix z = xt::zeros<double>({2, 3});
    const auto m = ntkssl::test::error_message<ShapeError>([&] { make("supervised_mse").get().evaluate({z}, {0, 3}); });
    CHECK(m.find("label 3 of sample 1 needs an output dimension K > 3, but K = 3") != std::string::npos);
}
