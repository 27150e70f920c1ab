// The two architectures of this library, both front-ends of DenseNetwork (dense_network.hpp).
#include <algorithm>

#include "dense_network.hpp"

namespace ntkssl::plugins {

// two_layer: f(x) = a_out · V σ(a_1 · W x + a_b · b), one hidden layer of `width` units.
class TwoLayer final : public DenseNetwork {
public:
    static std::vector<ParamSpec> parameters() {
        auto p = dense_common_parameters();
        p.insert(p.begin(), ParamSpec::integer("width", 512, "hidden width M"));
        return p;
    }
    TwoLayer(const Config& cfg, const BuildContext& ctx) : DenseNetwork(spec(cfg, ctx)) {}

private:
    static DenseSpec spec(const Config& cfg, const BuildContext& ctx) {
        const auto width = cfg.get_integer("width");
        cfg.require(width >= 1, "width", "must be at least 1");
        return read_dense_spec(cfg, "two_layer", ctx.input_dim, {static_cast<std::size_t>(width)});
    }
};

// mlp: L hidden layers; `widths` lists them, or `depth` copies of `width`.
class Mlp final : public DenseNetwork {
public:
    static std::vector<ParamSpec> parameters() {
        auto p = dense_common_parameters();
        p.insert(p.begin(), {ParamSpec::integer("width", 512, "width of every hidden layer (unless widths is given)"),
                             ParamSpec::integer("depth", 2, "number of hidden layers L (unless widths is given)"),
                             ParamSpec::integer_list("widths", {}, "the hidden widths M_1..M_L; overrides width and depth")});
        return p;
    }
    Mlp(const Config& cfg, const BuildContext& ctx) : DenseNetwork(spec(cfg, ctx)) {}

private:
    static DenseSpec spec(const Config& cfg, const BuildContext& ctx) {
        std::vector<std::size_t> widths;
        if (cfg.has("widths")) {
            cfg.require(!cfg.has("width") && !cfg.has("depth"), "widths", "give either widths, or width and depth, not both");
            const auto list = cfg.get_integer_list("widths");
            cfg.require(!list.empty(), "widths", "must list at least one hidden width");
            cfg.require(std::all_of(list.begin(), list.end(), [](std::int64_t w) { return w >= 1; }), "widths",
                        "every width must be at least 1");
            widths.assign(list.begin(), list.end());
        } else {
            const auto width = cfg.get_integer("width"), depth = cfg.get_integer("depth");
            cfg.require(width >= 1, "width", "must be at least 1");
            cfg.require(depth >= 1 && depth <= 64, "depth", "must be between 1 and 64");
            widths.assign(static_cast<std::size_t>(depth), static_cast<std::size_t>(width));
        }
        return read_dense_spec(cfg, "mlp", ctx.input_dim, std::move(widths));
    }
};

}  // namespace ntkssl::plugins

NTKSSL_PLUGIN("ntkssl.architectures.dense", NTKSSL_VERSION) {
    ntkssl::register_plugin<ntkssl::plugins::TwoLayer>(
        registrar, "two_layer", "two-layer network f(x) = a_out·V σ(a_1·W x + a_b·b); ntk, standard or mean-field");
    ntkssl::register_plugin<ntkssl::plugins::Mlp>(registrar, "mlp",
                                                  "fully connected network with L hidden layers; ntk, standard or mean-field");
}
