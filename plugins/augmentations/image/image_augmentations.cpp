// Image-aware augmentations. Samples are rows of X; the dataset's sample_shape says how a row
// is an image: (H, W) or (C, H, W), row-major. Each sample gets its own random draw; pixels
// that come from outside the image are `fill` (0 by default).
//
//   random_shift     translate by (dy, dx), each uniform in {−max_shift, …, max_shift}
//   random_crop      pad by `padding` on every side, crop the original size at a uniformly random
//                    offset: the same map as random_shift with max_shift = padding (torchvision's
//                    RandomCrop(size, padding))
//   random_rotation  rotate about the image centre by an angle uniform in [−max_degrees,
//                    max_degrees], bilinear interpolation
//   pixel_mask       set each pixel (all channels) to `fill` with probability `fraction`
#include <ntkssl/ntkssl.hpp>

#include <cmath>

namespace ntkssl::plugins {

namespace {

struct ImageShape {
    std::size_t channels, height, width;
};

ImageShape image_shape(const Shape& s, std::size_t row_size, const char* who) {
    if (s.size() == 2) return {1, s[0], s[1]};
    if (s.size() == 3) return {s[0], s[1], s[2]};
    std::string got = "[";
    for (std::size_t i = 0; i < s.size(); ++i) got += (i ? ", " : "") + std::to_string(s[i]);
    throw ConfigError(std::string(who) + " needs image data (a sample shape of (H, W) or (C, H, W)), but the dataset's samples have shape " +
                      got + "] (" + std::to_string(row_size) + " values); use it with an image dataset such as idx");
}

// out(y, x) = in(y − dy, x − dx) per channel, fill outside.
void translate(const double* in, double* out, const ImageShape& im, long dy, long dx, double fill) {
    const long h = static_cast<long>(im.height), w = static_cast<long>(im.width);
    for (std::size_t c = 0; c < im.channels; ++c)
        for (long y = 0; y < h; ++y)
            for (long x = 0; x < w; ++x) {
                const long sy = y - dy, sx = x - dx;
                out[(c * im.height + static_cast<std::size_t>(y)) * im.width + static_cast<std::size_t>(x)] =
                    (sy >= 0 && sy < h && sx >= 0 && sx < w) ? in[(c * im.height + static_cast<std::size_t>(sy)) * im.width + static_cast<std::size_t>(sx)]
                                                             : fill;
            }
}

class Shift : public Augmentation {
public:
    Shift(long max_shift, double fill, const char* name) : max_(max_shift), fill_(fill), name_(name) {}
    Matrix apply(const Matrix& x, const Shape& sample_shape, Rng& rng) const override {
        const ImageShape im = image_shape(sample_shape, x.shape(1), name_);
        Matrix out = Matrix::from_shape(x.shape());
        const auto span = static_cast<std::uint64_t>(2 * max_ + 1);
        for (std::size_t i = 0; i < x.shape(0); ++i) {
            const long dy = static_cast<long>(rng.uniform_index(span)) - max_, dx = static_cast<long>(rng.uniform_index(span)) - max_;
            translate(&x(i, 0), &out(i, 0), im, dy, dx, fill_);
        }
        return out;
    }

private:
    long max_;
    double fill_;
    const char* name_;
};

}  // namespace

class RandomShift final : public Shift {
public:
    static std::vector<ParamSpec> parameters() {
        return {ParamSpec::integer("max_shift", 2, "largest shift in pixels, each direction"),
                ParamSpec::real("fill", 0.0, "value of pixels shifted in from outside")};
    }
    explicit RandomShift(const Config& cfg) : Shift(check(cfg, "max_shift"), cfg.get_real("fill"), "random_shift") {}
    static long check(const Config& cfg, const char* key) {
        cfg.require(cfg.get_integer(key) >= 0 && cfg.get_integer(key) <= 4096, key, "must be between 0 and 4096");
        return static_cast<long>(cfg.get_integer(key));
    }
};

class RandomCrop final : public Shift {
public:
    static std::vector<ParamSpec> parameters() {
        return {ParamSpec::integer("padding", 2, "padding on every side before cropping the original size"),
                ParamSpec::real("fill", 0.0, "value of the padding")};
    }
    explicit RandomCrop(const Config& cfg) : Shift(RandomShift::check(cfg, "padding"), cfg.get_real("fill"), "random_crop") {}
};

class RandomRotation final : public Augmentation {
public:
    static std::vector<ParamSpec> parameters() {
        return {ParamSpec::real("max_degrees", 10.0, "largest rotation angle in degrees, either direction"),
                ParamSpec::real("fill", 0.0, "value of pixels rotated in from outside")};
    }
    explicit RandomRotation(const Config& cfg) : max_(cfg.get_real("max_degrees")), fill_(cfg.get_real("fill")) {
        cfg.require(max_ >= 0 && max_ <= 180, "max_degrees", "must be between 0 and 180");
    }
    Matrix apply(const Matrix& x, const Shape& sample_shape, Rng& rng) const override {
        const ImageShape im = image_shape(sample_shape, x.shape(1), "random_rotation");
        Matrix out = Matrix::from_shape(x.shape());
        const double cy = (static_cast<double>(im.height) - 1) / 2, cx = (static_cast<double>(im.width) - 1) / 2;
        for (std::size_t i = 0; i < x.shape(0); ++i) {
            const double angle = (2 * rng.uniform() - 1) * max_ * M_PI / 180.0, c = std::cos(angle), s = std::sin(angle);
            const double* in = &x(i, 0);
            double* o = &out(i, 0);
            auto pixel = [&](std::size_t ch, long y, long xx) {
                if (y < 0 || xx < 0 || y >= static_cast<long>(im.height) || xx >= static_cast<long>(im.width)) return fill_;
                return in[(ch * im.height + static_cast<std::size_t>(y)) * im.width + static_cast<std::size_t>(xx)];
            };
            for (std::size_t ch = 0; ch < im.channels; ++ch)
                for (std::size_t y = 0; y < im.height; ++y)
                    for (std::size_t xx = 0; xx < im.width; ++xx) {
                        // Inverse map: the source of output pixel (y, x) is the pixel rotated by −angle.
                        const double dy = static_cast<double>(y) - cy, dx = static_cast<double>(xx) - cx;
                        const double sy = c * dy + s * dx + cy, sx = -s * dy + c * dx + cx;
                        const double fy = std::floor(sy), fx = std::floor(sx), ty = sy - fy, tx = sx - fx;
                        const long y0 = static_cast<long>(fy), x0 = static_cast<long>(fx);
                        o[(ch * im.height + y) * im.width + xx] =
                            (1 - ty) * ((1 - tx) * pixel(ch, y0, x0) + tx * pixel(ch, y0, x0 + 1)) +
                            ty * ((1 - tx) * pixel(ch, y0 + 1, x0) + tx * pixel(ch, y0 + 1, x0 + 1));
                    }
        }
        return out;
    }

private:
    double max_, fill_;
};

class PixelMask final : public Augmentation {
public:
    static std::vector<ParamSpec> parameters() {
        return {ParamSpec::real("fraction", 0.1, "probability that a pixel is masked"),
                ParamSpec::real("fill", 0.0, "value of masked pixels")};
    }
    explicit PixelMask(const Config& cfg) : fraction_(cfg.get_real("fraction")), fill_(cfg.get_real("fill")) {
        cfg.require(fraction_ >= 0 && fraction_ <= 1, "fraction", "must be between 0 and 1");
    }
    Matrix apply(const Matrix& x, const Shape& sample_shape, Rng& rng) const override {
        const ImageShape im = image_shape(sample_shape, x.shape(1), "pixel_mask");
        Matrix out = x;
        const std::size_t plane = im.height * im.width;
        for (std::size_t i = 0; i < x.shape(0); ++i)
            for (std::size_t p = 0; p < plane; ++p)
                if (rng.uniform() < fraction_)
                    for (std::size_t ch = 0; ch < im.channels; ++ch) out(i, ch * plane + p) = fill_;
        return out;
    }

private:
    double fraction_, fill_;
};

}  // namespace ntkssl::plugins

NTKSSL_PLUGIN("ntkssl.augmentations.image", NTKSSL_VERSION) {
    using namespace ntkssl::plugins;
    ntkssl::register_plugin<RandomShift>(registrar, "random_shift", "translate each image by up to max_shift pixels");
    ntkssl::register_plugin<RandomCrop>(registrar, "random_crop", "pad, then crop the original size at a random offset");
    ntkssl::register_plugin<RandomRotation>(registrar, "random_rotation", "rotate each image by a small random angle (bilinear)");
    ntkssl::register_plugin<PixelMask>(registrar, "pixel_mask", "mask a random fraction of the pixels");
}
