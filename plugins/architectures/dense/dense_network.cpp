#include "dense_network.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace ntkssl::plugins {

using linalg::Op;

std::vector<ParamSpec> dense_common_parameters() {
    return {
        ParamSpec::integer("output_dim", 3, "output (embedding) dimension K"),
        ParamSpec::string("activation", "tanh", "pointwise nonlinearity σ", Activation::names()),
        ParamSpec::real("negative_slope", 0.01, "leaky_relu only: σ(u) = negative_slope·u for u < 0"),
        ParamSpec::string("parametrization", "ntk",
                          "ntk: a_l = σ_w/√fan_in, output 1/√M, N(0,1) init; mean-field: output 1/M; "
                          "standard: the same scales in the init instead of the forward pass",
                          {"ntk", "standard", "mean-field"}),
        ParamSpec::boolean("input_scaling", true, "scale the first layer's pre-activations by 1/√d"),
        ParamSpec::boolean("bias", false, "hidden-layer biases b"),
        ParamSpec::string_list("trainable", {"W", "V"}, "kinds of blocks that train: W (hidden weights), b (biases), V (readout)",
                               {"W", "V", "b"}),
        ParamSpec::real("sigma_w", 1.0, "scale σ_w of the hidden weights"),
        ParamSpec::real("sigma_v", 1.0, "scale σ_v of the readout weights"),
        ParamSpec::real("sigma_b", 1.0, "scale σ_b of the biases"),
    };
}

DenseSpec read_dense_spec(const Config& cfg, std::string family, std::size_t input_dim, std::vector<std::size_t> widths) {
    DenseSpec s;
    s.family = std::move(family);
    s.input_dim = input_dim;
    s.widths = std::move(widths);
    const auto k = cfg.get_integer("output_dim");
    cfg.require(k >= 1, "output_dim", "must be at least 1");
    s.output_dim = static_cast<std::size_t>(k);
    s.activation = cfg.get_string("activation");
    s.negative_slope = cfg.get_real("negative_slope");
    cfg.require(s.negative_slope >= 0 && s.negative_slope < 1, "negative_slope", "must be in [0, 1)");
    cfg.require(s.activation == "leaky_relu" || !cfg.has("negative_slope"), "negative_slope",
                "only applies to activation = \"leaky_relu\", not \"" + s.activation + "\"");
    s.parametrization = cfg.get_string("parametrization");
    s.input_scaling = cfg.get_bool("input_scaling");
    s.bias = cfg.get_bool("bias");
    for (const char* key : {"sigma_w", "sigma_v", "sigma_b"})
        cfg.require(cfg.get_real(key) > 0 && std::isfinite(cfg.get_real(key)), key, "must be a finite number > 0");
    s.sigma_w = cfg.get_real("sigma_w");
    s.sigma_v = cfg.get_real("sigma_v");
    s.sigma_b = cfg.get_real("sigma_b");
    const auto trainable = cfg.get_string_list("trainable");
    auto trains = [&](const char* n) { return std::find(trainable.begin(), trainable.end(), n) != trainable.end(); };
    s.train_w = trains("W");
    s.train_v = trains("V");
    s.train_b = trains("b");
    cfg.require(!trainable.empty(), "trainable", "at least one kind of block must train");
    cfg.require(!s.train_b || s.bias, "trainable", "lists \"b\" but bias = false");
    NTKSSL_CHECK(input_dim >= 1, ShapeError, s.family << " needs the input dimension d >= 1, got " << input_dim);
    return s;
}

DenseNetwork::DenseNetwork(DenseSpec spec) : s_(std::move(spec)), act_(s_.activation, s_.negative_slope) {
    const bool standard = s_.parametrization == "standard";
    std::size_t offset = 0, fan_in = s_.input_dim;
    for (std::size_t l = 0; l < s_.widths.size(); ++l) {
        // The first layer's 1/√d is optional (input_scaling); deeper layers always scale by 1/√fan_in.
        const double scale = (l == 0 && !s_.input_scaling) ? 1.0 : 1.0 / std::sqrt(static_cast<double>(fan_in));
        Layer layer{fan_in, s_.widths[l], offset, 0, standard ? 1.0 : s_.sigma_w * scale, standard ? s_.sigma_w * scale : 1.0};
        offset += layer.width * fan_in;
        if (s_.bias) {
            layer.off_b = offset;
            offset += layer.width;
        }
        layers_.push_back(layer);
        fan_in = layer.width;
    }
    const double m = static_cast<double>(s_.widths.back());
    a_b_ = standard ? 1.0 : s_.sigma_b;
    init_b_ = standard ? s_.sigma_b : 1.0;
    a_out_ = standard ? 1.0 : (s_.parametrization == "ntk" ? s_.sigma_v / std::sqrt(m) : s_.sigma_v / m);
    init_v_ = standard ? s_.sigma_v / std::sqrt(m) : 1.0;
    off_v_ = offset;
    num_params_ = offset + s_.output_dim * s_.widths.back();
}

std::vector<ParameterBlock> DenseNetwork::blocks() const {
    std::vector<ParameterBlock> out;
    const bool single = layers_.size() == 1;  // two_layer names its blocks W, b, V
    for (std::size_t l = 0; l < layers_.size(); ++l) {
        const std::string suffix = single ? "" : std::to_string(l + 1);
        out.push_back({"W" + suffix, layers_[l].off_w, {layers_[l].width, layers_[l].fan_in}, s_.train_w});
        if (s_.bias) out.push_back({"b" + suffix, layers_[l].off_b, {layers_[l].width}, s_.train_b});
    }
    out.push_back({"V", off_v_, {s_.output_dim, s_.widths.back()}, s_.train_v});
    return out;
}

ArchitectureDescription DenseNetwork::describe() const {
    ArchitectureDescription a;
    a.family = s_.family;
    a.activation = s_.activation;
    a.parametrization = s_.parametrization;
    a.input_dim = s_.input_dim;
    a.output_dim = s_.output_dim;
    a.hidden_widths = s_.widths;
    a.input_scaling = s_.input_scaling;
    a.bias = s_.bias;
    a.sigma_w = s_.sigma_w;
    a.sigma_b = s_.sigma_b;
    a.sigma_v = s_.sigma_v;
    a.negative_slope = s_.activation == "leaky_relu" ? s_.negative_slope : 0.0;
    for (const auto& b : blocks())
        if (b.trainable) a.trainable.push_back(b.name);
    return a;
}

void DenseNetwork::initialize(Vector& theta, Rng& rng) const {
    theta = Vector::from_shape({num_params_});
    for (const auto& l : layers_) {
        for (std::size_t i = 0; i < l.width * l.fan_in; ++i) theta(l.off_w + i) = l.init_w * rng.normal();
        if (s_.bias)
            for (std::size_t i = 0; i < l.width; ++i) theta(l.off_b + i) = init_b_ * rng.normal();
    }
    for (std::size_t i = off_v_; i < num_params_; ++i) theta(i) = init_v_ * rng.normal();
}

void DenseNetwork::check(const Vector& theta, const Matrix& x, const char* what) const {
    NTKSSL_CHECK(theta.size() == num_params_, ShapeError,
                 s_.family << "::" << what << ": θ has " << theta.size() << " entries, expected " << num_params_);
    NTKSSL_CHECK(x.shape(1) == s_.input_dim, ShapeError,
                 s_.family << "::" << what << ": inputs have " << x.shape(1) << " columns, expected d = " << s_.input_dim);
}

Matrix DenseNetwork::weights(const Vector& theta, std::size_t offset, std::size_t rows, std::size_t cols) const {
    Matrix w = Matrix::from_shape({rows, cols});
    std::memcpy(w.data(), theta.data() + offset, rows * cols * sizeof(double));
    return w;
}

namespace {

// Resizes m to rows×cols only when its shape differs: buffers are reused from step to step.
void ensure_shape(Matrix& m, std::size_t rows, std::size_t cols) {
    if (m.dimension() != 2 || m.shape(0) != rows || m.shape(1) != cols) m = Matrix::from_shape({rows, cols});
}

}  // namespace

void DenseNetwork::run_into(const Vector& theta, const Matrix& x, Pass& p) const {
    p.u.resize(layers_.size());
    p.h.resize(layers_.size());
    for (std::size_t l = 0; l < layers_.size(); ++l) {
        const Layer& ly = layers_[l];
        Matrix& u = p.u[l];
        ensure_shape(u, x.shape(0), ly.width);
        linalg::gemm(linalg::view(input_of(p, x, l)), Op::none, linalg::view(theta, ly.off_w, ly.width, ly.fan_in), Op::transpose,
                     linalg::view(u), ly.a);
        if (s_.bias)
            for (std::size_t n = 0; n < u.shape(0); ++n)
                for (std::size_t m = 0; m < ly.width; ++m) u(n, m) += a_b_ * theta(ly.off_b + m);
        ensure_shape(p.h[l], x.shape(0), ly.width);
        act_.values(u.data(), p.h[l].data(), u.size());
    }
}

DenseNetwork::Pass DenseNetwork::run(const Vector& theta, const Matrix& x) const {
    Pass p;
    run_into(theta, x, p);
    return p;
}

Matrix DenseNetwork::readout(const Vector& theta, const Pass& p) const {
    Matrix z = Matrix::from_shape({p.h.back().shape(0), s_.output_dim});
    linalg::gemm(linalg::view(p.h.back()), Op::none, linalg::view(theta, off_v_, s_.output_dim, s_.widths.back()), Op::transpose,
                 linalg::view(z), a_out_);
    return z;
}

Matrix DenseNetwork::forward(const Vector& theta, const Matrix& x) const {
    check(theta, x, "forward");
    return readout(theta, run(theta, x));
}

Matrix DenseNetwork::forward_keep(const Vector& theta, const Matrix& x, std::unique_ptr<ForwardState>& state) const {
    check(theta, x, "forward");
    // Reuse the buffers of an earlier pass (of ours): the training loop calls this every step.
    if (!dynamic_cast<Pass*>(state.get())) state = std::make_unique<Pass>();
    Pass& pass = static_cast<Pass&>(*state);
    run_into(theta, x, pass);
    return readout(theta, pass);
}

Vector DenseNetwork::backward(const Vector& theta, const Matrix& x, const Matrix& grad_z) const {
    check(theta, x, "backward");
    Vector g = xt::zeros<double>({num_params_});
    const Pass p = run(theta, x);
    backward_pass(theta, x, grad_z, p, g);
    return g;
}

void DenseNetwork::backward_accumulate(const Vector& theta, const Matrix& x, const Matrix& grad_z, const ForwardState* state,
                                       Vector& grad) const {
    check(theta, x, "backward");
    NTKSSL_CHECK(grad.size() == num_params_, ShapeError,
                 s_.family << "::backward: the gradient has " << grad.size() << " entries, expected " << num_params_);
    const auto* pass = dynamic_cast<const Pass*>(state);
    // A state of another shape (or none) is not ours to trust: recompute.
    if (!pass || pass->h.size() != layers_.size() || pass->h.front().shape(0) != x.shape(0)) {
        const Pass p = run(theta, x);
        backward_pass(theta, x, grad_z, p, grad);
        return;
    }
    backward_pass(theta, x, grad_z, *pass, grad);
}

std::vector<double> DenseNetwork::learning_rate_multipliers() const {
    // ntk: 1. mean-field: the readout's 1/M makes the NTK O(1/M); η·M_L restores O(1) dynamics.
    // standard: w = a·θ with the ntk multiplier a, so GD on w with step η·a² is GD on θ with
    // step η — the standard parametrization then trains exactly like the ntk one.
    std::vector<double> out;
    const bool standard = s_.parametrization == "standard", mean_field = s_.parametrization == "mean-field";
    const double m = static_cast<double>(s_.widths.back());
    const bool first_unscaled = !s_.input_scaling;
    for (std::size_t l = 0; l < layers_.size(); ++l) {
        const double fan_in = static_cast<double>(layers_[l].fan_in);
        const double a2 = s_.sigma_w * s_.sigma_w / ((l == 0 && first_unscaled) ? 1.0 : fan_in);
        out.push_back(standard ? a2 : mean_field ? m : 1.0);
        if (s_.bias) out.push_back(standard ? s_.sigma_b * s_.sigma_b : mean_field ? m : 1.0);
    }
    out.push_back(standard ? s_.sigma_v * s_.sigma_v / m : mean_field ? m : 1.0);
    return out;
}

// grad += ∂/∂θ Σ G ∘ f(X), every product written straight into grad's blocks (no
// parameter-sized temporaries); the pass's scratch buffers hold ∂L/∂h and σ'.
void DenseNetwork::backward_pass(const Vector& theta, const Matrix& x, const Matrix& grad_z, const Pass& p, Vector& grad) const {
    NTKSSL_CHECK(grad_z.shape(0) == x.shape(0) && grad_z.shape(1) == s_.output_dim, ShapeError,
                 s_.family << "::backward: ∂L/∂Z is " << grad_z.shape(0) << "×" << grad_z.shape(1) << ", expected " << x.shape(0)
                           << "×" << s_.output_dim);
    const std::size_t n = x.shape(0), k = s_.output_dim, mL = s_.widths.back();
    if (s_.train_v)  // ∂L/∂V = a_out Gᵀ H^L
        linalg::gemm(linalg::view(grad_z), Op::transpose, linalg::view(p.h.back()), Op::none, linalg::view(grad, off_v_, k, mL), a_out_,
                     1.0);
    if (!s_.train_w && !s_.train_b) return;
    // ∂L/∂h^L = a_out G V, then down the layers: ∂L/∂u^l = ∂L/∂h^l ∘ σ'(u^l).
    Matrix& dh = p.scratch_dh;
    Matrix& dsigma = p.scratch_dsigma;
    ensure_shape(dh, n, mL);
    linalg::gemm(linalg::view(grad_z), Op::none, linalg::view(theta, off_v_, k, mL), Op::none, linalg::view(dh), a_out_);
    for (std::size_t l = layers_.size(); l-- > 0;) {
        const Layer& ly = layers_[l];
        ensure_shape(dsigma, n, ly.width);
        act_.derivatives(p.u[l].data(), p.h[l].data(), dsigma.data(), dsigma.size());
        Matrix& du = dh;
        du *= dsigma;
        if (s_.train_w)  // ∂L/∂W^l = a_l (∂L/∂u^l)ᵀ h^{l−1}
            linalg::gemm(linalg::view(du), Op::transpose, linalg::view(input_of(p, x, l)), Op::none,
                         linalg::view(grad, ly.off_w, ly.width, ly.fan_in), ly.a, 1.0);
        if (s_.train_b)
            for (std::size_t r = 0; r < n; ++r)
                for (std::size_t m = 0; m < ly.width; ++m) grad(ly.off_b + m) += a_b_ * du(r, m);
        if (l > 0) {  // ∂L/∂h^{l−1} = a_l (∂L/∂u^l) W^l
            Matrix& next = p.scratch_next;
            ensure_shape(next, n, ly.fan_in);
            linalg::gemm(linalg::view(du), Op::none, linalg::view(theta, ly.off_w, ly.width, ly.fan_in), Op::none, linalg::view(next), ly.a);
            std::swap(dh, next);
        }
    }
}

std::vector<Matrix> DenseNetwork::output_derivatives(const Vector& theta, const Pass& p) const {
    const std::size_t n = p.u.front().shape(0), k = s_.output_dim, L = layers_.size();
    std::vector<Matrix> b(L);
    // σ'(u^l), once per unit
    std::vector<Matrix> du(L);
    for (std::size_t l = 0; l < L; ++l) {
        du[l] = Matrix::from_shape(p.u[l].shape());
        act_.derivatives(p.u[l].data(), p.h[l].data(), du[l].data(), du[l].size());
    }
    // B_L[(n,k), m] = a_out V_km σ'(u^L_nm)
    const std::size_t mL = s_.widths.back();
    b[L - 1] = Matrix::from_shape({n * k, mL});
    for (std::size_t a = 0; a < n; ++a)
        for (std::size_t o = 0; o < k; ++o) {
            double* row = &b[L - 1](a * k + o, 0);
            const double* v = theta.data() + off_v_ + o * mL;
            const double* d = &du[L - 1](a, 0);
            for (std::size_t m = 0; m < mL; ++m) row[m] = a_out_ * v[m] * d[m];
        }
    // B_{l−1} = a_l (B_l W^l) ∘ σ'(u^{l−1})
    for (std::size_t l = L - 1; l > 0; --l) {
        const Layer& ly = layers_[l];
        b[l - 1] = Matrix::from_shape({n * k, ly.fan_in});
        linalg::gemm(b[l], Op::none, weights(theta, ly.off_w, ly.width, ly.fan_in), Op::none, b[l - 1], ly.a);
        for (std::size_t a = 0; a < n; ++a)
            for (std::size_t o = 0; o < k; ++o) {
                double* row = &b[l - 1](a * k + o, 0);
                const double* d = &du[l - 1](a, 0);
                for (std::size_t m = 0; m < ly.fan_in; ++m) row[m] *= d[m];
            }
    }
    return b;
}

Matrix DenseNetwork::jacobian(const Vector& theta, const Matrix& x) const {
    check(theta, x, "jacobian");
    const Pass p = run(theta, x);
    const std::size_t n = x.shape(0), k = s_.output_dim;
    Matrix j = xt::zeros<double>({n * k, num_params_});
    const std::vector<Matrix> b = (s_.train_w || s_.train_b) ? output_derivatives(theta, p) : std::vector<Matrix>{};
    for (std::size_t a = 0; a < n; ++a)
        for (std::size_t o = 0; o < k; ++o) {
            double* row = &j(a * k + o, 0);
            if (s_.train_v)
                for (std::size_t m = 0; m < s_.widths.back(); ++m) row[off_v_ + o * s_.widths.back() + m] = a_out_ * p.h.back()(a, m);
            for (std::size_t l = 0; l < layers_.size() && !b.empty(); ++l) {
                const Layer& ly = layers_[l];
                const Matrix& in = input_of(p, x, l);
                for (std::size_t m = 0; m < ly.width; ++m) {
                    const double dfdu = b[l](a * k + o, m);  // ∂f_o(x_a)/∂u^l_m
                    if (s_.train_w)
                        for (std::size_t i = 0; i < ly.fan_in; ++i) row[ly.off_w + m * ly.fan_in + i] = dfdu * ly.a * in(a, i);
                    if (s_.train_b) row[ly.off_b + m] = dfdu * a_b_;
                }
            }
        }
    return j;
}

namespace {

bool same_data(const Matrix& a, const Matrix& b) {
    return &a == &b || (a.shape() == b.shape() && std::memcmp(a.data(), b.data(), a.size() * sizeof(double)) == 0);
}

// Θ-block accumulation shared by both paths. Shapes by mode, for a block of ca × cb samples:
//   full:   out (·K × ·K); bb (ca·K × cb·K); s, hh (ca × cb)
//   trace:  out (· × ·);   bb (ca × cb) already summed over k; s, hh (ca × cb)
//   blocks: out (·K × K);  bb (ca·K × K); s, hh (ca × 1), pairs matched (r0 = c0)
// out += bb ∘ s (broadcast over k, k')  and  δ_kk' · coef · hh.
void add_block(Matrix& out, NtkOutput mode, std::size_t k, std::size_t r0, std::size_t c0, const Matrix* bb, const Matrix* s,
               const Matrix* hh, double coef) {
    const std::size_t ca = (s ? s : hh)->shape(0), cb = (s ? s : hh)->shape(1);
    for (std::size_t a = 0; a < ca; ++a)
        for (std::size_t b = 0; b < cb; ++b) {
            const double sv = s ? (*s)(a, b) : 0.0, hv = hh ? coef * (*hh)(a, b) : 0.0;
            switch (mode) {
                case NtkOutput::full:
                    for (std::size_t o = 0; o < k; ++o) {
                        double* row = &out((r0 + a) * k + o, (c0 + b) * k);
                        if (bb)
                            for (std::size_t q = 0; q < k; ++q) row[q] += (*bb)(a * k + o, b * k + q) * sv;
                        row[o] += hv;
                    }
                    break;
                case NtkOutput::trace:
                    out(r0 + a, c0 + b) += (bb ? (*bb)(a, b) * sv : 0.0) + static_cast<double>(k) * hv;
                    break;
                case NtkOutput::diagonal_blocks:
                    for (std::size_t o = 0; o < k; ++o) {
                        double* row = &out((r0 + a) * k + o, 0);
                        if (bb)
                            for (std::size_t q = 0; q < k; ++q) row[q] += (*bb)(a * k + o, q) * sv;
                        row[o] += hv;
                    }
                    break;
            }
        }
}

// ⟨B1[n,k], B2[n',k']⟩ in the layout add_block expects for the mode; accumulates into acc.
// B rows are n·K + k; `symmetric` means B1 = B2 (full mode then uses syrk on the upper triangle).
// beta = 0 overwrites acc (full and trace modes), so it need not be zeroed first.
void accumulate_bb(Matrix& acc, NtkOutput mode, std::size_t k, Matrix& b1, Matrix& b2, bool symmetric, double beta = 1.0) {
    const std::size_t n1 = b1.shape(0) / k, n2 = b2.shape(0) / k, m = b1.shape(1);
    switch (mode) {
        case NtkOutput::full:
            if (symmetric) linalg::syrk(b1, Op::none, acc, 1.0, beta);
            else linalg::gemm(b1, Op::none, b2, Op::transpose, acc, 1.0, beta);
            break;
        case NtkOutput::trace: {  // Σ_k: rows n·K + k of an (N·K)×M matrix are one row of N × (K·M)
            b1.reshape({n1, k * m});
            if (!symmetric) b2.reshape({n2, k * m});
            if (symmetric) linalg::syrk(b1, Op::none, acc, 1.0, beta);
            else linalg::gemm(b1, Op::none, b2, Op::transpose, acc, 1.0, beta);
            b1.reshape({n1 * k, m});
            if (!symmetric) b2.reshape({n2 * k, m});
            break;
        }
        case NtkOutput::diagonal_blocks: {
            Matrix r1 = Matrix::from_shape({k, m}), r2 = Matrix::from_shape({k, m}), blk = Matrix::from_shape({k, k});
            for (std::size_t a = 0; a < n1; ++a) {
                std::memcpy(r1.data(), &b1(a * k, 0), k * m * sizeof(double));
                std::memcpy(r2.data(), &b2(a * k, 0), k * m * sizeof(double));
                linalg::gemm(r1, Op::none, r2, Op::transpose, blk);
                for (std::size_t o = 0; o < k; ++o)
                    for (std::size_t q = 0; q < k; ++q) acc(a * k + o, q) += blk(o, q);
            }
            break;
        }
    }
}

// ⟨h1_n, h2_n'⟩ for the mode: (n1 × n2), or the matched diagonal as (n × 1).
Matrix inner(const Matrix& h1, const Matrix& h2, NtkOutput mode, bool symmetric) {
    if (mode == NtkOutput::diagonal_blocks) {
        Matrix d = Matrix::from_shape({h1.shape(0), 1});
        for (std::size_t a = 0; a < h1.shape(0); ++a) {
            double s = 0;
            for (std::size_t j = 0; j < h1.shape(1); ++j) s += h1(a, j) * h2(a, j);
            d(a, 0) = s;
        }
        return d;
    }
    return symmetric ? linalg::gram(h1) : linalg::matmul(h1, h2, Op::none, Op::transpose);
}

// In place: acc ← acc ∘ s (broadcast over k, k') + δ_kk' · coef · hh, in the layouts of add_block.
// One sequential pass over the result instead of a second matrix of its size.
// `upper_only` (full mode, X1 = X2): acc holds only its upper triangle (syrk); the pass reads
// the upper triangle and writes both, so no separate mirror pass is needed. hh is read at
// a ≤ b only.
void scale_in_place(Matrix& acc, NtkOutput mode, std::size_t k, const Matrix& s, const Matrix* hh, double coef,
                    bool upper_only = false) {
    const std::size_t n1 = s.shape(0), n2 = s.shape(1);
    if (upper_only && mode == NtkOutput::full) {
        const std::size_t stride = acc.shape(1);
        double* base = acc.data();
        for (std::size_t a = 0; a < n1; ++a)
            for (std::size_t b = a; b < n2; ++b) {
                const double sv = s(a, b), hv = hh ? coef * (*hh)(a, b) : 0.0;
                for (std::size_t o = 0; o < k; ++o)
                    for (std::size_t q = (a == b ? o : 0); q < k; ++q) {
                        const std::size_t r = a * k + o, c = b * k + q;
                        const double v = base[r * stride + c] * sv + (o == q ? hv : 0.0);
                        base[r * stride + c] = v;
                        base[c * stride + r] = v;
                    }
            }
        return;
    }
    for (std::size_t a = 0; a < n1; ++a) {
        if (mode == NtkOutput::trace) {
            for (std::size_t b = 0; b < n2; ++b) acc(a, b) = acc(a, b) * s(a, b) + (hh ? static_cast<double>(k) * coef * (*hh)(a, b) : 0.0);
            continue;
        }
        for (std::size_t o = 0; o < k; ++o) {
            double* row = &acc(a * k + o, 0);
            if (mode == NtkOutput::diagonal_blocks) {
                for (std::size_t q = 0; q < k; ++q) row[q] *= s(a, 0);
                if (hh) row[o] += coef * (*hh)(a, 0);
                continue;
            }
            for (std::size_t b = 0; b < n2; ++b) {
                const double sv = s(a, b);
                double* blk = row + b * k;
                for (std::size_t q = 0; q < k; ++q) blk[q] *= sv;
                if (hh) blk[o] += coef * (*hh)(a, b);
            }
        }
    }
}

Matrix zero_output(NtkOutput mode, std::size_t n1, std::size_t n2, std::size_t k) {
    switch (mode) {
        case NtkOutput::full: return xt::zeros<double>({n1 * k, n2 * k});
        case NtkOutput::trace: return xt::zeros<double>({n1, n2});
        case NtkOutput::diagonal_blocks: return xt::zeros<double>({n1 * k, k});
    }
    return {};
}

// Per-pair factors of the mode: (n1 × n2), or (n × 1) for matched pairs.
Matrix zero_pairs(NtkOutput mode, std::size_t n1, std::size_t n2) {
    return mode == NtkOutput::diagonal_blocks ? Matrix(xt::zeros<double>({n1, std::size_t{1}})) : Matrix(xt::zeros<double>({n1, n2}));
}

// The weight of a layer's backpropagated term for each pair of samples:
// s = a² ⟨h_in, h'_in⟩ (when W trains) + a_b² (when b trains).
Matrix pair_weights(const Matrix& in1, const Matrix& in2, NtkOutput mode, bool symmetric, bool train_w, double a, bool train_b,
                    double a_b) {
    Matrix s = train_w ? inner(in1, in2, mode, symmetric) : zero_pairs(mode, in1.shape(0), in2.shape(0));
    if (train_w) s *= a * a;
    if (train_b) s += a_b * a_b;
    return s;
}

}  // namespace

Matrix DenseNetwork::structured_ntk(const Vector& theta, const Matrix& x1, const Matrix& x2, NtkOutput output,
                                    std::size_t memory_budget_bytes) const {
    check(theta, x1, "structured_ntk");
    check(theta, x2, "structured_ntk");
    NTKSSL_CHECK(output != NtkOutput::diagonal_blocks || x1.shape(0) == x2.shape(0), ShapeError,
                 s_.family << "::structured_ntk: diagonal blocks pair the samples of X1 and X2, which need the same count (got "
                           << x1.shape(0) << " and " << x2.shape(0) << ")");
    const std::size_t budget = std::max<std::size_t>(memory_budget_bytes, 1 << 20);
    return layers_.size() == 1 ? ntk_two_layer(theta, x1, x2, output, budget) : ntk_deep(theta, x1, x2, output, budget);
}

// One hidden layer: every sum runs over hidden units, so the units are processed in chunks
// and the sums accumulated; working memory ≈ chunk·(N1 + N2)·(K + 3) doubles.
Matrix DenseNetwork::ntk_two_layer(const Vector& theta, const Matrix& x1, const Matrix& x2, NtkOutput output,
                                   std::size_t budget) const {
    const Layer& ly = layers_[0];
    const std::size_t n1 = x1.shape(0), n2 = x2.shape(0), k = s_.output_dim, d = s_.input_dim, width = ly.width;
    const bool symmetric = same_data(x1, x2);
    const bool hidden = s_.train_w || s_.train_b;
    const std::size_t per_unit = (n1 + (symmetric ? 0 : n2)) * (k + 3) * sizeof(double);
    const std::size_t chunk = std::clamp<std::size_t>(budget / std::max<std::size_t>(per_unit, 1), 1, width);

    Matrix hh = zero_pairs(output, n1, n2);  // Σ over units of h h'
    // Σ over units of B_1 B_1'ᵀ in the mode's layout; it becomes the result. Full and trace
    // are written by the first chunk (β = 0) and need no zero fill.
    Matrix bb = output == NtkOutput::full    ? Matrix(Matrix::from_shape({n1 * k, n2 * k}))
                : output == NtkOutput::trace ? Matrix(Matrix::from_shape({n1, n2}))
                                             : zero_output(output, n1, n2, k);
    auto units = [&](const Matrix& x, std::size_t m0, std::size_t mc, Matrix& h, Matrix& e) {
        Matrix u = Matrix::from_shape({x.shape(0), mc});
        const Matrix w = weights(theta, ly.off_w + m0 * d, mc, d);
        linalg::gemm(x, Op::none, w, Op::transpose, u, ly.a);
        if (s_.bias)
            for (std::size_t a = 0; a < x.shape(0); ++a)
                for (std::size_t m = 0; m < mc; ++m) u(a, m) += a_b_ * theta(ly.off_b + m0 + m);
        h = Matrix::from_shape(u.shape());
        act_.values(u.data(), h.data(), u.size());
        if (!hidden) return;
        // σ'(u) once per unit (in place of u), then B_1 restricted to the chunk:
        // e[(a,o), m] = a_out V_om σ'(u_am).
        act_.derivatives(u.data(), h.data(), u.data(), u.size());
        e = Matrix::from_shape({x.shape(0) * k, mc});
        for (std::size_t a = 0; a < x.shape(0); ++a)
            for (std::size_t o = 0; o < k; ++o) {
                double* row = &e(a * k + o, 0);
                const double* v = theta.data() + off_v_ + o * width + m0;
                const double* du = &u(a, 0);
                for (std::size_t m = 0; m < mc; ++m) row[m] = a_out_ * v[m] * du[m];
            }
    };
    Matrix h1, e1, h2, e2;
    for (std::size_t m0 = 0; m0 < width; m0 += chunk) {
        const std::size_t mc = std::min(chunk, width - m0);
        units(x1, m0, mc, h1, e1);
        if (!symmetric) units(x2, m0, mc, h2, e2);
        Matrix& h2r = symmetric ? h1 : h2;
        Matrix& e2r = symmetric ? e1 : e2;
        if (s_.train_v) {
            if (output == NtkOutput::diagonal_blocks) hh += inner(h1, h2r, output, false);
            else if (symmetric) linalg::syrk(h1, Op::none, hh, 1.0, 1.0);
            else linalg::gemm(h1, Op::none, h2r, Op::transpose, hh, 1.0, 1.0);
        }
        if (hidden) accumulate_bb(bb, output, k, e1, e2r, symmetric, m0 == 0 ? 0.0 : 1.0);
    }
    if (symmetric && output != NtkOutput::diagonal_blocks) {
        linalg::mirror_upper(hh);
        if (output == NtkOutput::trace || !hidden) linalg::mirror_upper(bb);  // full: fused into scale_in_place
    }
    if (!hidden) {  // only the readout trains
        Matrix out = zero_output(output, n1, n2, k);
        add_block(out, output, k, 0, 0, nullptr, nullptr, &hh, a_out_ * a_out_);
        return out;
    }
    const Matrix s = pair_weights(x1, x2, output, symmetric, s_.train_w, ly.a, s_.train_b, a_b_);
    scale_in_place(bb, output, k, s, s_.train_v ? &hh : nullptr, a_out_ * a_out_, symmetric);
    return bb;
}

// Deeper networks: B_l needs whole layers, so the samples are processed in chunks instead, and
// every pair of chunks gives one block of Θ.
Matrix DenseNetwork::ntk_deep(const Vector& theta, const Matrix& x1, const Matrix& x2, NtkOutput output, std::size_t budget) const {
    const std::size_t n1 = x1.shape(0), n2 = x2.shape(0), k = s_.output_dim;
    std::size_t units = 0;
    for (auto w : s_.widths) units += w;
    const std::size_t per_sample = 2 * (k + 2) * units * sizeof(double);  // u, h and B of one sample, two chunks alive
    const std::size_t chunk = std::max<std::size_t>(1, budget / std::max<std::size_t>(per_sample, 1));
    const bool same = same_data(x1, x2);
    const bool hidden = s_.train_w || s_.train_b;

    struct ChunkState {
        Matrix x;
        Pass pass;
        std::vector<Matrix> b;
    };
    auto prepare = [&](const Matrix& x, std::size_t begin, std::size_t end) {
        ChunkState c;
        c.x = Matrix::from_shape({end - begin, x.shape(1)});
        std::memcpy(c.x.data(), &x(begin, 0), c.x.size() * sizeof(double));
        c.pass = run(theta, c.x);
        if (hidden) c.b = output_derivatives(theta, c.pass);
        return c;
    };

    Matrix out = zero_output(output, n1, n2, k);
    for (std::size_t a0 = 0; a0 < n1; a0 += chunk) {
        ChunkState ca = prepare(x1, a0, std::min(n1, a0 + chunk));
        for (std::size_t b0 = 0; b0 < n2; b0 += chunk) {
            if (output == NtkOutput::diagonal_blocks && b0 != a0) continue;  // only matched pairs
            const bool diagonal_chunk = same && a0 == b0;
            ChunkState cb_storage;
            if (!diagonal_chunk) cb_storage = prepare(x2, b0, std::min(n2, b0 + chunk));
            ChunkState& cb = diagonal_chunk ? ca : cb_storage;
            if (s_.train_v) {
                const Matrix hh = inner(ca.pass.h.back(), cb.pass.h.back(), output, diagonal_chunk);
                add_block(out, output, k, a0, b0, nullptr, nullptr, &hh, a_out_ * a_out_);
            }
            if (!hidden) continue;
            for (std::size_t l = 0; l < layers_.size(); ++l) {
                const Matrix s = pair_weights(input_of(ca.pass, ca.x, l), input_of(cb.pass, cb.x, l), output, diagonal_chunk,
                                              s_.train_w, layers_[l].a, s_.train_b, a_b_);
                Matrix bb = zero_output(output, ca.x.shape(0), cb.x.shape(0), k);
                accumulate_bb(bb, output, k, ca.b[l], cb.b[l], diagonal_chunk);
                if (diagonal_chunk && output != NtkOutput::diagonal_blocks) linalg::mirror_upper(bb);
                add_block(out, output, k, a0, b0, &bb, &s, nullptr, 0.0);
            }
        }
    }
    return out;
}

}  // namespace ntkssl::plugins
