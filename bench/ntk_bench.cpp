// Times the structured empirical NTK of the two_layer plugin (loaded through the real loader)
// against a dgemm of the size of its dominant product, in the same process, and reports the
// peak resident memory. One width per process, so that the peak belongs to that width.
//
//   ntkssl_bench_ntk --n 256 --d 784 --k 8 --width 1024 [--repeat 3] [--dump DIR]
//
// Prints one JSON object. With --dump, writes x.bin, W.bin, V.bin (the inputs and parameters,
// float64, row-major) and ntk.bin (the (N·K)×(N·K) NTK) for bench/torch_ntk.py to compare.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include <ntkssl/linalg.hpp>

#include "ntkssl/core/loader.hpp"

using namespace ntkssl;
using namespace ntkssl::core;

namespace {

double seconds_of(const std::function<void()>& f, int repeat) {
    double best = 1e300;
    for (int r = 0; r < repeat; ++r) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    return best;
}

void dump(const std::string& path, const double* data, std::size_t n) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(n * sizeof(double)));
}

double peak_rss_mib() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t n = 256, d = 784, k = 8, width = 1024, budget_mb = 512;
    int repeat = 3;
    std::string dump_dir;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i], v = argv[i + 1];
        if (a == "--n") n = std::stoul(v);
        else if (a == "--d") d = std::stoul(v);
        else if (a == "--k") k = std::stoul(v);
        else if (a == "--width") width = std::stoul(v);
        else if (a == "--repeat") repeat = std::stoi(v);
        else if (a == "--budget-mb") budget_mb = std::stoul(v);
        else if (a == "--dump") dump_dir = v;
        else {
            std::cerr << "unknown option " << a << "\n";
            return 2;
        }
    }
    try {
        Registry registry;
        load_plugins(registry, PluginSearch{});
        BuildContext ctx;
        ctx.input_dim = d;
        const SourceLocation here{"ntk_bench", 0, 0};
        const auto arch = registry.create<Architecture>(
            PluginKind::architecture, "two_layer", "architecture", here,
            {{"width", static_cast<std::int64_t>(width), here}, {"output_dim", static_cast<std::int64_t>(k), here}, {"activation", std::string("tanh"), here}},
            ctx);
        Rng rng(2024);
        Vector theta;
        arch.get().initialize(theta, rng);
        Matrix x = Matrix::from_shape({n, d});
        rng.derive("x").fill_normal(x);
        const double rss_before = peak_rss_mib();

        Matrix ntk;
        const double t_ntk = seconds_of([&] { ntk = arch.get().structured_ntk(theta, x, x, NtkOutput::full, budget_mb << 20); }, repeat);
        const double rss_ntk = peak_rss_mib();
        // Flops the structured path performs: U = X Wᵀ (2·N·d·M), the readout-weighted syrk
        // ((N·K)(N·K+1)·M) and the H Hᵀ syrk (N(N+1)·M); element-wise work not counted.
        const double nk = static_cast<double>(n * k), nd = static_cast<double>(n), m = static_cast<double>(width);
        const double flops = 2 * nd * static_cast<double>(d) * m + nk * (nk + 1) * m + nd * (nd + 1) * m;

        // The machine's ceiling for the dominant product: C = A Bᵀ, A and B (N·K)×M, with dgemm.
        double t_gemm = 0, gemm_gflops = 0;
        if (n * k * width * 8 * 3 < (std::size_t{8} << 30)) {
            Matrix a = Matrix::from_shape({n * k, width}), b = Matrix::from_shape({n * k, width}), c = Matrix::from_shape({n * k, n * k});
            rng.fill_normal(a);
            rng.fill_normal(b);
            t_gemm = seconds_of([&] { linalg::gemm(a, linalg::Op::none, b, linalg::Op::transpose, c); }, repeat);
            gemm_gflops = 2 * nk * nk * m / t_gemm / 1e9;
        }
        if (!dump_dir.empty()) {
            dump(dump_dir + "/x.bin", x.data(), x.size());
            dump(dump_dir + "/W.bin", theta.data(), width * d);
            dump(dump_dir + "/V.bin", theta.data() + width * d, k * width);
            dump(dump_dir + "/ntk.bin", ntk.data(), ntk.size());
        }
        const double gflops = flops / t_ntk / 1e9;
        nlohmann::json out = {{"n", n}, {"d", d}, {"k", k}, {"width", width}, {"repeat", repeat},
                              {"structured_seconds", t_ntk}, {"structured_gflops", gflops},
                              {"dgemm_seconds", t_gemm}, {"dgemm_gflops", gemm_gflops},
                              {"fraction_of_dgemm", gemm_gflops > 0 ? gflops / gemm_gflops : 0.0},
                              {"peak_rss_mib_before_ntk", rss_before}, {"peak_rss_mib_after_ntk", rss_ntk},
                              {"ntk_result_mib", static_cast<double>(ntk.size() * 8) / (1 << 20)}, {"budget_mib", budget_mb}};
        std::cout << out.dump() << std::endl;
    } catch (const std::exception& e) {
        std::cerr << "ntk_bench: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
