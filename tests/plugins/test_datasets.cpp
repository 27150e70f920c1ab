// Datasets and augmentations: round trips, every malformed file, the common options, seeded views.
#include <doctest/doctest.h>

#include <zlib.h>

#include <cmath>
#include <cstring>
#include <map>

#include "ntkssl/core/dataset_preparation.hpp"
#include "ntkssl/core/pipeline.hpp"
#include "plugin_fixture.hpp"

using namespace ntkssl;
using namespace ntkssl::core;
using ntkssl::test::param;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<unsigned char>;

void write_bytes(const fs::path& p, const Bytes& b) {
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

void write_gz(const fs::path& p, const Bytes& b) {
    gzFile f = gzopen(p.c_str(), "wb");
    REQUIRE(f != nullptr);
    REQUIRE(gzwrite(f, b.data(), static_cast<unsigned>(b.size())) == static_cast<int>(b.size()));
    gzclose(f);
}

void be32(Bytes& b, std::uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(v >> s));
}

// An IDX file of the given type code with the given values (written big-endian).
Bytes idx(unsigned char type, const std::vector<std::uint32_t>& shape, const std::vector<double>& values) {
    Bytes b = {0, 0, type, static_cast<unsigned char>(shape.size())};
    for (auto s : shape) be32(b, s);
    for (double v : values) {
        unsigned char raw[8];
        std::size_t size = 1;
        switch (type) {
            case 0x08: raw[0] = static_cast<unsigned char>(v); break;
            case 0x09: raw[0] = static_cast<unsigned char>(static_cast<signed char>(v)); break;
            case 0x0B: { const auto x = static_cast<std::int16_t>(v); std::memcpy(raw, &x, 2); size = 2; break; }
            case 0x0C: { const auto x = static_cast<std::int32_t>(v); std::memcpy(raw, &x, 4); size = 4; break; }
            case 0x0D: { const auto x = static_cast<float>(v); std::memcpy(raw, &x, 4); size = 4; break; }
            default: { std::memcpy(raw, &v, 8); size = 8; break; }
        }
        for (std::size_t i = size; i-- > 0;) b.push_back(raw[i]);  // little-endian memory → big-endian file
    }
    return b;
}

// A version-1 .npy file.
Bytes npy(const std::string& descr, const std::string& shape, const Bytes& data, bool fortran = false) {
    std::string header = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': " + shape + ", }";
    while ((10 + header.size() + 1) % 64) header += ' ';
    header += '\n';
    const unsigned char prefix[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, static_cast<unsigned char>(header.size() & 0xff),
                                      static_cast<unsigned char>(header.size() >> 8)};
    Bytes b(10 + header.size() + data.size());
    std::memcpy(b.data(), prefix, 10);
    std::memcpy(b.data() + 10, header.data(), header.size());
    if (!data.empty()) std::memcpy(b.data() + 10 + header.size(), data.data(), data.size());
    return b;
}

template <class T>
Bytes raw(const std::vector<T>& v) {
    Bytes b(v.size() * sizeof(T));
    std::memcpy(b.data(), v.data(), b.size());
    return b;
}

DatasetData load(const std::string& type, std::vector<Config::Entry> params) {
    const auto ds = ntkssl::test::registry().create<Dataset>(PluginKind::dataset, type, "dataset", {"test", 0, 0}, std::move(params), {});
    Rng rng(1);
    return ds.call("load", [&](const Dataset& d) { return d.load(rng); });
}

std::string load_error(const std::string& type, std::vector<Config::Entry> params) {
    return ntkssl::test::error_message<ConfigError>([&] { load(type, std::move(params)); });
}

}  // namespace

TEST_CASE("idx: every element type round-trips exactly, raw and gzip") {
    const auto dir = ntkssl::test::scratch("datasets_idx");
    const std::map<unsigned char, std::vector<double>> cases = {
        {0x08, {0, 1, 127, 255, 3, 9}}, {0x09, {-128, -1, 0, 1, 127, 5}}, {0x0B, {-32768, -2, 0, 7, 32767, 1}},
        {0x0C, {-2147483648.0, -5, 0, 6, 2147483647.0, 2}}, {0x0D, {-1.5, 0.25, 3.0e10f, 1e-20f, 7, 8}},
        {0x0E, {-1.5, 0.1, 3.0e100, 1e-300, 7, 8}}};
    for (const auto& [type, values] : cases) {
        CAPTURE(int(type));
        for (bool gz : {false, true}) {
            const auto path = dir / ("x" + std::to_string(type) + (gz ? ".gz" : ""));
            const Bytes b = idx(type, {3, 1, 2}, values);
            gz ? write_gz(path, b) : write_bytes(path, b);
            const auto d = load("idx", {param("images", path.string()), param("labels", std::string(""))});
            REQUIRE(d.x.shape(0) == 3);
            REQUIRE(d.x.shape(1) == 2);
            CHECK(d.sample_shape == Shape{1, 2});
            for (std::size_t i = 0; i < 6; ++i)
                CHECK(d.x.data()[i] == (type == 0x0D ? static_cast<double>(static_cast<float>(values[i])) : values[i]));
        }
    }
    write_bytes(dir / "labels", idx(0x08, {3}, {2, 0, 1}));
    const auto d = load("idx", {param("images", (dir / "x8").string()), param("labels", (dir / "labels").string())});
    CHECK(d.labels == Labels{2, 0, 1});
}

TEST_CASE("idx: every malformed file is a ConfigError naming the file and what was expected") {
    const auto dir = ntkssl::test::scratch("datasets_idx_bad");
    auto images = [&](const std::string& name, const Bytes& b) {
        write_bytes(dir / name, b);
        return load_error("idx", {param("images", (dir / name).string()), param("labels", std::string(""))});
    };
    auto m = images("magic", {1, 2, 8, 1, 0, 0, 0, 1, 0});
    CHECK(m.find((dir / "magic").string() + ": not an IDX file") != std::string::npos);
    CHECK(m.find("expected the magic bytes 00 00, found 01 02") != std::string::npos);
    m = images("type", {0, 0, 0x0A, 1, 0, 0, 0, 1, 0});
    CHECK(m.find("unsupported IDX element type 0x0a; valid types are 0x08") != std::string::npos);
    Bytes overflow = {0, 0, 8, 4};
    for (int i = 0; i < 4; ++i) be32(overflow, 0xFFFFFFFFu);
    m = images("overflow", overflow);
    CHECK(m.find("exceed the largest array ntkssl reads") != std::string::npos);
    Bytes big = {0, 0, 8, 2};
    be32(big, 60000);
    be32(big, 784);
    m = images("truncated", big);  // a header for 47 million bytes, none present
    CHECK(m.find("truncated IDX data: the header promises 47040000 elements (47040000 bytes) but only 0 bytes follow") != std::string::npos);
    Bytes extra = idx(0x08, {2}, {1, 2});
    extra.push_back(9);
    CHECK(images("extra", extra).find("1 bytes after the data the header describes") != std::string::npos);
    CHECK(images("short", {0, 0}).find("too short for an IDX file") != std::string::npos);
    // gzip: corrupted in the middle, and cut short.
    write_gz(dir / "good.gz", idx(0x08, {100, 10}, std::vector<double>(1000, 7)));
    Bytes gz;
    {
        std::ifstream in(dir / "good.gz", std::ios::binary);
        gz.assign(std::istreambuf_iterator<char>(in), {});
    }
    Bytes corrupt = gz;
    for (std::size_t i = 12; i < 20 && i < corrupt.size(); ++i) corrupt[i] ^= 0x5a;
    CHECK(images("corrupt.gz", corrupt).find("corrupt gzip stream") != std::string::npos);
    const Bytes cut(gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(gz.size() / 2));
    CHECK(images("cut.gz", cut).find("truncated") != std::string::npos);
    // images and labels with different counts
    write_bytes(dir / "img", idx(0x08, {3, 2}, {1, 2, 3, 4, 5, 6}));
    write_bytes(dir / "lab", idx(0x08, {4}, {0, 1, 0, 1}));
    m = load_error("idx", {param("images", (dir / "img").string()), param("labels", (dir / "lab").string())});
    CHECK(m.find((dir / "lab").string() + ": 4 labels, but '" + (dir / "img").string() + "' has 3 samples") != std::string::npos);
    CHECK(load_error("idx", {param("images", (dir / "missing").string())}).find("cannot open the file") != std::string::npos);
}

TEST_CASE("npy: dtypes round-trip exactly - unsupported dtype, Fortran order, truncation are refused") {
    const auto dir = ntkssl::test::scratch("datasets_npy");
    write_bytes(dir / "f8.npy", npy("<f8", "(2, 3)", raw(std::vector<double>{1.5, -2, 0.1, 1e300, -0.0, 7})));
    auto d = load("npy", {param("path", (dir / "f8.npy").string())});
    CHECK(d.x.shape(0) == 2);
    CHECK(d.x(0, 2) == 0.1);
    CHECK(d.x(1, 0) == 1e300);
    write_bytes(dir / "i4.npy", npy("<i4", "(3,)", raw(std::vector<std::int32_t>{-7, 0, 2147483647})));
    write_bytes(dir / "u1.npy", npy("|u1", "(3, 2, 2)", Bytes(12, 200)));
    d = load("npy", {param("path", (dir / "u1.npy").string())});
    CHECK(d.sample_shape == Shape{2, 2});
    CHECK(d.x(2, 3) == 200);
    write_bytes(dir / "lab.npy", npy("<i8", "(3,)", raw(std::vector<std::int64_t>{0, 1, 1})));
    d = load("npy", {param("path", (dir / "u1.npy").string()), param("labels", (dir / "lab.npy").string())});
    CHECK(d.labels == Labels{0, 1, 1});

    write_bytes(dir / "c16.npy", npy("<c16", "(2,)", Bytes(32, 0)));
    auto m = load_error("npy", {param("path", (dir / "c16.npy").string())});
    CHECK(m.find((dir / "c16.npy").string() + ": unsupported") != std::string::npos);
    CHECK(m.find("unsupported .npy dtype '<c16'") != std::string::npos);
    write_bytes(dir / "fortran.npy", npy("<f8", "(2, 2)", Bytes(32, 0), true));
    CHECK(load_error("npy", {param("path", (dir / "fortran.npy").string())}).find("Fortran order") != std::string::npos);
    write_bytes(dir / "short.npy", npy("<f8", "(1000, 1000)", Bytes(16, 0)));
    CHECK(load_error("npy", {param("path", (dir / "short.npy").string())}).find("truncated .npy data: the header promises 1000000 elements") != std::string::npos);
    write_bytes(dir / "notnpy.npy", Bytes{'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'});
    CHECK(load_error("npy", {param("path", (dir / "notnpy.npy").string())}).find("not a .npy file") != std::string::npos);
    // labels of a different count than the samples
    write_bytes(dir / "lab2.npy", npy("<i8", "(2,)", raw(std::vector<std::int64_t>{0, 1})));
    CHECK(load_error("npy", {param("path", (dir / "u1.npy").string()), param("labels", (dir / "lab2.npy").string())})
              .find("2 labels, but") != std::string::npos);
    // negative labels (the int32 file holds −7)
    CHECK(load_error("npy", {param("path", (dir / "u1.npy").string()), param("labels", (dir / "i4.npy").string())})
              .find("label -7.000000 is not a non-negative integer") != std::string::npos);
}

TEST_CASE("csv: header detection, label column, exact values - ragged rows and non-numeric fields are refused") {
    const auto dir = ntkssl::test::scratch("datasets_csv");
    ntkssl::test::write_text(dir / "a.csv", "x1,x2,label\n0.5,-1,2\n1e-3,4,0\n\n7,8,1\n");
    auto d = load("csv", {param("path", (dir / "a.csv").string()), param("label_column", std::int64_t(2))});
    CHECK(d.x.shape(0) == 3);
    CHECK(d.x.shape(1) == 2);
    CHECK(d.x(1, 0) == 1e-3);
    CHECK(d.labels == Labels{2, 0, 1});
    ntkssl::test::write_text(dir / "b.csv", "1,2\n3,4\n");
    d = load("csv", {param("path", (dir / "b.csv").string())});
    CHECK(d.x.shape(0) == 2);
    CHECK(d.x(1, 1) == 4);
    ntkssl::test::write_text(dir / "ragged.csv", "1,2,3\n4,5\n");
    auto m = load_error("csv", {param("path", (dir / "ragged.csv").string())});
    CHECK(m.find(": load: " + (dir / "ragged.csv").string() + ":2: row has 2 fields, the first row has 3") != std::string::npos);
    ntkssl::test::write_text(dir / "text.csv", "a,b\n1,2\n3,x\n");
    m = load_error("csv", {param("path", (dir / "text.csv").string())});
    CHECK(m.find((dir / "text.csv").string() + ":3: field 2 ('x') is not a number") != std::string::npos);
    ntkssl::test::write_text(dir / "label.csv", "1,2.5\n");
    CHECK(load_error("csv", {param("path", (dir / "label.csv").string()), param("label_column", std::int64_t(1))})
              .find("label 2.5") != std::string::npos);
}

TEST_CASE("common dataset options: stratified subset, holdout, normalization fitted on the training part") {
    DatasetData d;
    d.x = Matrix::from_shape({40, 2});
    for (std::size_t i = 0; i < 40; ++i) {
        d.x(i, 0) = static_cast<double>(i);
        d.x(i, 1) = 2.0 * static_cast<double>(i) + 1;
        d.labels.push_back(i < 30 ? 0 : (i < 36 ? 1 : 2));  // 30 / 6 / 4
    }
    d.sample_shape = {2};
    auto opts = [](std::vector<Config::Entry> e) { return Config("dataset", {"test", 0, 0}, std::move(e), Pipeline::dataset_common_parameters()); };
    // 12 stratified from classes of 30, 6, 4: 4 each.
    auto p = prepare_dataset(d, opts({param("subset", std::int64_t(12)), param("subset_mode", std::string("stratified"))}), Rng(3));
    std::map<int, int> count;
    for (int y : p.train.labels) count[y]++;
    CHECK(count == std::map<int, int>{{0, 4}, {1, 4}, {2, 4}});
    // 14 stratified: class 2 has only 4, the others share the rest.
    p = prepare_dataset(d, opts({param("subset", std::int64_t(14)), param("subset_mode", std::string("stratified"))}), Rng(3));
    count.clear();
    for (int y : p.train.labels) count[y]++;
    CHECK(count[2] == 4);
    CHECK(count[0] + count[1] == 10);
    CHECK(std::abs(count[0] - count[1]) <= 1);
    // Same seed, same subset; first mode keeps the first rows.
    const auto a = prepare_dataset(d, opts({param("subset", std::int64_t(10))}), Rng(5)), b = prepare_dataset(d, opts({param("subset", std::int64_t(10))}), Rng(5));
    CHECK(std::equal(a.train.x.begin(), a.train.x.end(), b.train.x.begin()));
    p = prepare_dataset(d, opts({param("subset", std::int64_t(3)), param("subset_mode", std::string("first"))}), Rng(5));
    CHECK(p.train.x(2, 0) == 2.0);
    // holdout 25 %: 10 held out, disjoint from the 30 training rows; standardize uses the training rows only.
    p = prepare_dataset(d, opts({param("holdout", 0.25), param("normalize", std::string("standardize"))}), Rng(7));
    REQUIRE(p.heldout.x.shape(0) == 10);
    REQUIRE(p.train.x.shape(0) == 30);
    double mean = 0, sq = 0;
    for (std::size_t i = 0; i < 30; ++i) {
        mean += p.train.x(i, 0) / 30;
        sq += p.train.x(i, 0) * p.train.x(i, 0) / 30;
    }
    CHECK(std::fabs(mean) < 1e-12);
    CHECK(sq == doctest::Approx(1.0).epsilon(1e-12));
    p = prepare_dataset(d, opts({param("normalize", std::string("sphere"))}), Rng(7));
    CHECK(std::hypot(p.train.x(5, 0), p.train.x(5, 1)) == doctest::Approx(1.0).epsilon(1e-14));
    p = prepare_dataset(d, opts({param("normalize", std::string("unit_interval"))}), Rng(7));
    CHECK(*std::min_element(p.train.x.begin(), p.train.x.end()) == 0.0);
    CHECK(*std::max_element(p.train.x.begin(), p.train.x.end()) == 1.0);
    // impossible requests
    auto m = ntkssl::test::error_message<ConfigError>([&] { prepare_dataset(d, opts({param("subset", std::int64_t(41))}), Rng(1)); });
    CHECK(m.find("asks for more samples than the dataset has (40)") != std::string::npos);
    DatasetData unlabelled = d;
    unlabelled.labels.clear();
    m = ntkssl::test::error_message<ConfigError>(
        [&] { prepare_dataset(unlabelled, opts({param("subset", std::int64_t(4)), param("subset_mode", std::string("stratified"))}), Rng(1)); });
    CHECK(m.find("stratified needs labels") != std::string::npos);
}

TEST_CASE("synthetic datasets: shapes, labels, reproducible from the seed") {
    const auto g = load("synthetic.gaussian_mixture", {param("n", std::int64_t(30)), param("dim", std::int64_t(5)), param("classes", std::int64_t(3))});
    CHECK(g.x.shape(0) == 30);
    CHECK(g.labels.size() == 30);
    CHECK(*std::max_element(g.labels.begin(), g.labels.end()) == 2);
    const auto l = load("synthetic.latent_classes", {param("signal_dims", std::int64_t(2)), param("nuisance_dims", std::int64_t(3)),
                                                     param("nuisance_sigma", 0.0), param("signal_sigma", 0.0)});
    CHECK(l.x.shape(1) == 5);
    // Without spread, samples of one class are identical in the signal coordinates and zero elsewhere.
    CHECK(l.x(0, 0) == l.x(4, 0));
    CHECK(l.x(3, 4) == 0.0);
    const auto again = load("synthetic.gaussian_mixture", {param("n", std::int64_t(30)), param("dim", std::int64_t(5)), param("classes", std::int64_t(3))});
    CHECK(std::equal(g.x.begin(), g.x.end(), again.x.begin()));
}

TEST_CASE("Debian's Fashion-MNIST loads, and a stratified subset has every class equally") {
    const std::string images = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
    if (!fs::exists(images)) {
        MESSAGE("skipped: " << images << " is not installed (Debian package dataset-fashion-mnist; the README's set-up installs it)");
        return;
    }
    const auto ds = ntkssl::test::registry().create<Dataset>(PluginKind::dataset, "idx", "dataset", {"test", 0, 0}, {}, {});
    Rng rng(1);
    const DatasetData d = ds.get().load(rng);
    CHECK(d.x.shape(0) == 60000);
    CHECK(d.x.shape(1) == 784);
    CHECK(d.sample_shape == Shape{28, 28});
    CHECK(*std::max_element(d.x.begin(), d.x.end()) == 255.0);
    const auto p = prepare_dataset(d, Config("dataset", {"test", 0, 0}, {param("subset", std::int64_t(200)), param("subset_mode", std::string("stratified"))},
                                             Pipeline::dataset_common_parameters()),
                                   Rng(2));
    std::map<int, int> count;
    for (int y : p.train.labels) count[y]++;
    CHECK(count.size() == 10);
    for (const auto& [label, c] : count) CHECK(c == 20);
}

namespace {

Component<Augmentation> augmentation(const std::string& type, std::vector<Config::Entry> params) {
    return ntkssl::test::registry().create<Augmentation>(PluginKind::augmentation, type, "augmentation[0]", {"test", 0, 0},
                                                         std::move(params), {});
}

Matrix images(std::size_t n, std::size_t h, std::size_t w, std::uint64_t seed) {
    Matrix x = Matrix::from_shape({n, h * w});
    Rng(seed).fill_normal(x);
    return x;
}

}  // namespace

TEST_CASE("augmentations: the same stream gives the same views, another stream other views, shapes kept") {
    const Matrix x = images(5, 6, 7, 1);
    const Shape shape = {6, 7};
    for (const auto& [type, params] : std::vector<std::pair<std::string, std::vector<Config::Entry>>>{
             {"gaussian_noise", {}}, {"random_shift", {}}, {"random_crop", {}}, {"random_rotation", {}}, {"pixel_mask", {param("fraction", 0.3)}}}) {
        CAPTURE(type);
        const auto aug = augmentation(type, params);
        Rng a(11), b(11), c(12);
        const Matrix va = aug.get().apply(x, shape, a), vb = aug.get().apply(x, shape, b), vc = aug.get().apply(x, shape, c);
        CHECK(va.shape() == x.shape());
        CHECK(std::equal(va.begin(), va.end(), vb.begin()));
        CHECK_FALSE(std::equal(va.begin(), va.end(), vc.begin()));
    }
}

TEST_CASE("augmentations: zero displacement is the identity, a known shift moves pixels exactly") {
    const Matrix x = images(3, 5, 4, 2);
    const Shape shape = {5, 4};
    Rng rng(3);
    for (const auto& [type, params] : std::vector<std::pair<std::string, std::vector<Config::Entry>>>{
             {"random_shift", {param("max_shift", std::int64_t(0))}},
             {"random_crop", {param("padding", std::int64_t(0))}},
             {"random_rotation", {param("max_degrees", 0.0)}},
             {"pixel_mask", {param("fraction", 0.0)}}}) {
        CAPTURE(type);
        const Matrix v = augmentation(type, params).get().apply(x, shape, rng);
        for (std::size_t i = 0; i < x.size(); ++i) CHECK(v.data()[i] == doctest::Approx(x.data()[i]).epsilon(1e-14));
    }
    // max_shift = 1: every pixel of the output is either the fill or the input pixel at a displacement
    // (dy, dx) ∈ {−1, 0, 1}², the same displacement for the whole image.
    const Matrix v = augmentation("random_shift", {param("max_shift", std::int64_t(1)), param("fill", -100.0)}).get().apply(x, shape, rng);
    for (std::size_t i = 0; i < 3; ++i) {
        bool found = false;
        for (int dy = -1; dy <= 1 && !found; ++dy)
            for (int dx = -1; dx <= 1 && !found; ++dx) {
                bool match = true;
                for (int y = 0; y < 5; ++y)
                    for (int xx = 0; xx < 4; ++xx) {
                        const int sy = y - dy, sx = xx - dx;
                        const double expected = (sy >= 0 && sy < 5 && sx >= 0 && sx < 4) ? x(i, static_cast<std::size_t>(sy * 4 + sx)) : -100.0;
                        match = match && v(i, static_cast<std::size_t>(y * 4 + xx)) == expected;
                    }
                found = match;
            }
        CHECK(found);
    }
    // Rotation keeps the centre pixel of an odd-sized image whatever the angle, and with a
    // constant image every pixel whose source lies inside stays that constant.
    const Matrix ones = xt::ones<double>({1, 25});
    const Matrix r = augmentation("random_rotation", {param("max_degrees", 30.0)}).get().apply(ones, {5, 5}, rng);
    CHECK(r(0, 12) == doctest::Approx(1.0).epsilon(1e-14));
    CHECK(r(0, 7) == doctest::Approx(1.0).epsilon(1e-14));  // one pixel from the centre: source inside for |angle| ≤ 30°
}

TEST_CASE("gaussian_noise adds noise of the configured sigma (statistical, 5 standard errors)") {
    Matrix x = xt::zeros<double>({200, 500});  // 100000 coordinates
    Rng rng(9);
    const Matrix v = augmentation("gaussian_noise", {param("sigma", 0.3)}).get().apply(x, {500}, rng);
    double s2 = 0, mean = 0;
    for (double e : v) {
        mean += e / 100000.0;
        s2 += e * e / 100000.0;
    }
    CHECK(std::fabs(mean) < 5 * 0.3 / std::sqrt(100000.0));
    CHECK(std::fabs(std::sqrt(s2) - 0.3) < 5 * 0.3 / std::sqrt(2 * 100000.0));
}

TEST_CASE("image augmentations on non-image data are a ConfigError that says why") {
    const Matrix x = images(2, 1, 10, 5);
    Rng rng(1);
    const auto aug = augmentation("random_shift", {});
    const auto m = ntkssl::test::error_message<ConfigError>([&] { aug.call("apply", [&](const Augmentation& a) { return a.apply(x, {10}, rng); }); });
    CHECK(m.find("random_shift needs image data (a sample shape of (H, W) or (C, H, W)), but the dataset's samples have shape [10]") !=
          std::string::npos);
}
