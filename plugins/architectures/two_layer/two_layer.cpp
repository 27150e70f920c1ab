#include "two_layer.hpp"

#include <algorithm>
#include <cmath>

namespace ntkssl::plugins {

std::vector<ParamSpec> TwoLayer::parameters() {
    return {
        ParamSpec::integer("width", 512, "hidden width M"),
        ParamSpec::integer("output_dim", 3, "output (embedding) dimension K"),
        ParamSpec::string("activation", "tanh", "pointwise nonlinearity σ", activation_names()),
        ParamSpec::string("parametrization", "ntk",
                          "ntk: 1/√M output scale, N(0,1) init; mean-field: 1/M output scale; "
                          "standard: scales in the init instead of the forward pass",
                          {"ntk", "standard", "mean-field"}),
        ParamSpec::boolean("input_scaling", true, "scale pre-activations by 1/√d"),
        ParamSpec::boolean("bias", false, "hidden-layer bias b"),
        ParamSpec::string_list("trainable", {"W", "V"}, "blocks that train (W, V, b)", {"W", "V", "b"}),
        ParamSpec::real("sigma_w", 1.0, "scale σ_w of the first-layer weights"),
        ParamSpec::real("sigma_v", 1.0, "scale σ_v of the readout weights"),
        ParamSpec::real("sigma_b", 1.0, "scale σ_b of the bias"),
    };
}

TwoLayer::TwoLayer(const Config& cfg, const BuildContext& ctx)
    : d_(ctx.input_dim),
      activation_name_(cfg.get_string("activation")),
      parametrization_(cfg.get_string("parametrization")),
      input_scaling_(cfg.get_bool("input_scaling")),
      bias_(cfg.get_bool("bias")),
      sigma_w_(cfg.get_real("sigma_w")),
      sigma_v_(cfg.get_real("sigma_v")),
      sigma_b_(cfg.get_real("sigma_b")) {
    const auto width = cfg.get_integer("width");
    const auto k = cfg.get_integer("output_dim");
    cfg.require(width >= 1, "width", "must be at least 1");
    cfg.require(k >= 1, "output_dim", "must be at least 1");
    cfg.require(sigma_w_ > 0 && sigma_v_ > 0 && sigma_b_ > 0, "sigma_w",
                "sigma_w, sigma_v and sigma_b must be positive");
    NTKSSL_CHECK(d_ >= 1, ShapeError, "two_layer needs the input dimension d >= 1, got " << d_);
    m_ = static_cast<std::size_t>(width);
    k_ = static_cast<std::size_t>(k);
    act_ = &activation(activation_name_);

    const auto trainable = cfg.get_string_list("trainable");
    auto trains = [&](const char* n) { return std::find(trainable.begin(), trainable.end(), n) != trainable.end(); };
    train_w_ = trains("W");
    train_v_ = trains("V");
    train_b_ = trains("b");
    cfg.require(!trainable.empty(), "trainable", "at least one block must train");
    cfg.require(!train_b_ || bias_, "trainable", "lists \"b\" but bias = false");

    const double in = input_scaling_ ? 1.0 / std::sqrt(static_cast<double>(d_)) : 1.0;
    const double m = static_cast<double>(m_);
    if (parametrization_ == "standard") {
        a_in_ = a_b_ = a_out_ = 1.0;
        s_w_ = sigma_w_ * in;
        s_b_ = sigma_b_;
        s_v_ = sigma_v_ / std::sqrt(m);
    } else {
        a_in_ = sigma_w_ * in;
        a_b_ = sigma_b_;
        a_out_ = parametrization_ == "ntk" ? sigma_v_ / std::sqrt(m) : sigma_v_ / m;
        s_w_ = s_b_ = s_v_ = 1.0;
    }
    off_w_ = 0;
    off_b_ = m_ * d_;
    off_v_ = off_b_ + (bias_ ? m_ : 0);
}

std::size_t TwoLayer::num_parameters() const { return off_v_ + k_ * m_; }

std::vector<ParameterBlock> TwoLayer::blocks() const {
    std::vector<ParameterBlock> b{{"W", off_w_, {m_, d_}, train_w_}};
    if (bias_) b.push_back({"b", off_b_, {m_}, train_b_});
    b.push_back({"V", off_v_, {k_, m_}, train_v_});
    return b;
}

ArchitectureDescription TwoLayer::describe() const {
    ArchitectureDescription a;
    a.family = "two_layer";
    a.activation = activation_name_;
    a.parametrization = parametrization_;
    a.input_dim = d_;
    a.output_dim = k_;
    a.hidden_widths = {m_};
    a.input_scaling = input_scaling_;
    a.bias = bias_;
    a.sigma_w = sigma_w_;
    a.sigma_b = sigma_b_;
    for (const auto& b : blocks())
        if (b.trainable) a.trainable.push_back(b.name);
    return a;
}

void TwoLayer::initialize(Vector& theta, Rng& rng) const {
    theta = Vector::from_shape({num_parameters()});
    for (std::size_t i = 0; i < off_b_; ++i) theta(i) = s_w_ * rng.normal();
    for (std::size_t i = off_b_; i < off_v_; ++i) theta(i) = s_b_ * rng.normal();
    for (std::size_t i = off_v_; i < theta.size(); ++i) theta(i) = s_v_ * rng.normal();
}

void TwoLayer::check_input(const Vector& theta, const Matrix& x, const char* what) const {
    NTKSSL_CHECK(theta.size() == num_parameters(), ShapeError,
                 "two_layer::" << what << ": θ has " << theta.size() << " entries, expected " << num_parameters());
    NTKSSL_CHECK(x.shape(1) == d_, ShapeError,
                 "two_layer::" << what << ": inputs have " << x.shape(1) << " columns, expected d = " << d_);
}

Matrix TwoLayer::weights(const Vector& theta, std::size_t offset, std::size_t rows, std::size_t cols) const {
    Matrix w = Matrix::from_shape({rows, cols});
    std::copy(theta.data() + offset, theta.data() + offset + rows * cols, w.data());
    return w;
}

TwoLayer::Hidden TwoLayer::hidden(const Vector& theta, const Matrix& x) const {
    const Matrix w = weights(theta, off_w_, m_, d_);
    Hidden hd;
    hd.u = Matrix::from_shape({x.shape(0), m_});
    linalg::gemm(x, linalg::Op::none, w, linalg::Op::transpose, hd.u, a_in_);
    if (bias_) {
        for (std::size_t n = 0; n < x.shape(0); ++n)
            for (std::size_t m = 0; m < m_; ++m) hd.u(n, m) += a_b_ * theta(off_b_ + m);
    }
    hd.h = Matrix::from_shape(hd.u.shape());
    std::transform(hd.u.begin(), hd.u.end(), hd.h.begin(), act_->value);
    return hd;
}

Matrix TwoLayer::forward(const Vector& theta, const Matrix& x) const {
    check_input(theta, x, "forward");
    const Hidden hd = hidden(theta, x);
    const Matrix v = weights(theta, off_v_, k_, m_);
    Matrix z = Matrix::from_shape({x.shape(0), k_});
    linalg::gemm(hd.h, linalg::Op::none, v, linalg::Op::transpose, z, a_out_);
    return z;
}

Vector TwoLayer::backward(const Vector& theta, const Matrix& x, const Matrix& grad_z) const {
    check_input(theta, x, "backward");
    NTKSSL_CHECK(grad_z.shape(0) == x.shape(0) && grad_z.shape(1) == k_, ShapeError,
                 "two_layer::backward: ∂L/∂Z is " << grad_z.shape(0) << "×" << grad_z.shape(1) << ", expected "
                                                  << x.shape(0) << "×" << k_);
    const Hidden hd = hidden(theta, x);
    const Matrix v = weights(theta, off_v_, k_, m_);
    Vector g = xt::zeros<double>({num_parameters()});

    if (train_v_) {  // ∂L/∂V = a_out Gᵀ H
        Matrix gv = Matrix::from_shape({k_, m_});
        linalg::gemm(grad_z, linalg::Op::transpose, hd.h, linalg::Op::none, gv, a_out_);
        std::copy(gv.begin(), gv.end(), g.data() + off_v_);
    }
    if (train_w_ || train_b_) {  // ∂L/∂U = (a_out G V) ∘ σ'(U)
        Matrix du = Matrix::from_shape({x.shape(0), m_});
        linalg::gemm(grad_z, linalg::Op::none, v, linalg::Op::none, du, a_out_);
        for (std::size_t i = 0; i < du.size(); ++i) du.data()[i] *= act_->derivative(hd.u.data()[i]);
        if (train_w_) {  // ∂L/∂W = a_in (∂L/∂U)ᵀ X
            Matrix gw = Matrix::from_shape({m_, d_});
            linalg::gemm(du, linalg::Op::transpose, x, linalg::Op::none, gw, a_in_);
            std::copy(gw.begin(), gw.end(), g.data() + off_w_);
        }
        if (train_b_) {
            for (std::size_t n = 0; n < x.shape(0); ++n)
                for (std::size_t m = 0; m < m_; ++m) g(off_b_ + m) += a_b_ * du(n, m);
        }
    }
    return g;
}

Matrix TwoLayer::jacobian(const Vector& theta, const Matrix& x) const {
    check_input(theta, x, "jacobian");
    const Hidden hd = hidden(theta, x);
    const std::size_t n_samples = x.shape(0), p = num_parameters();
    Matrix j = xt::zeros<double>({n_samples * k_, p});
    for (std::size_t n = 0; n < n_samples; ++n) {
        for (std::size_t k = 0; k < k_; ++k) {
            double* row = &j(n * k_ + k, 0);
            if (train_v_)
                for (std::size_t m = 0; m < m_; ++m) row[off_v_ + k * m_ + m] = a_out_ * hd.h(n, m);
            for (std::size_t m = 0; m < m_; ++m) {
                // ∂f_k/∂u_m = a_out V_km σ'(u_m)
                const double dfdu = a_out_ * theta(off_v_ + k * m_ + m) * act_->derivative(hd.u(n, m));
                if (train_w_)
                    for (std::size_t i = 0; i < d_; ++i) row[off_w_ + m * d_ + i] = dfdu * a_in_ * x(n, i);
                if (train_b_) row[off_b_ + m] = dfdu * a_b_;
            }
        }
    }
    return j;
}

Matrix TwoLayer::structured_ntk(const Vector& theta, const Matrix& x1, const Matrix& x2) const {
    check_input(theta, x1, "structured_ntk");
    check_input(theta, x2, "structured_ntk");
    const std::size_t n1 = x1.shape(0), n2 = x2.shape(0);
    const Hidden h1 = hidden(theta, x1), h2 = hidden(theta, x2);
    Matrix theta_out = xt::zeros<double>({n1 * k_, n2 * k_});
    const double c = a_out_ * a_out_;

    if (train_v_) {  // δ_kl a_out² H1 H2ᵀ
        const Matrix hh = linalg::matmul(h1.h, h2.h, linalg::Op::none, linalg::Op::transpose);
        for (std::size_t a = 0; a < n1; ++a)
            for (std::size_t b = 0; b < n2; ++b)
                for (std::size_t k = 0; k < k_; ++k) theta_out(a * k_ + k, b * k_ + k) += c * hh(a, b);
    }
    if (train_w_ || train_b_) {
        // E_(n·K+k, m) = σ'(u_nm) V_km; the readout-weighted term is E1 E2ᵀ scaled per (n, n').
        auto stacked = [&](const Hidden& hd, std::size_t n) {
            Matrix e = Matrix::from_shape({n * k_, m_});
            for (std::size_t a = 0; a < n; ++a)
                for (std::size_t k = 0; k < k_; ++k)
                    for (std::size_t m = 0; m < m_; ++m)
                        e(a * k_ + k, m) = act_->derivative(hd.u(a, m)) * theta(off_v_ + k * m_ + m);
            return e;
        };
        const Matrix e1 = stacked(h1, n1), e2 = stacked(h2, n2);
        const Matrix ee = linalg::matmul(e1, e2, linalg::Op::none, linalg::Op::transpose);
        const Matrix xx = linalg::matmul(x1, x2, linalg::Op::none, linalg::Op::transpose);
        for (std::size_t a = 0; a < n1; ++a)
            for (std::size_t b = 0; b < n2; ++b) {
                const double s = c * ((train_w_ ? a_in_ * a_in_ * xx(a, b) : 0.0) + (train_b_ ? a_b_ * a_b_ : 0.0));
                for (std::size_t k = 0; k < k_; ++k)
                    for (std::size_t l = 0; l < k_; ++l) theta_out(a * k_ + k, b * k_ + l) += s * ee(a * k_ + k, b * k_ + l);
            }
    }
    return theta_out;
}

}  // namespace ntkssl::plugins

NTKSSL_PLUGIN("ntkssl.architectures.two_layer", NTKSSL_VERSION) {
    ntkssl::register_plugin<ntkssl::plugins::TwoLayer>(
        registrar, "two_layer", "two-layer network f(x) = a_out·V σ(a_in·W x + a_b·b), NTK/standard/mean-field");
}
