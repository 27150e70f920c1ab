// The only source of randomness a plugin may use.
//
// WHAT IT REPRESENTS: a seeded pseudo-random stream (xoshiro256** seeded through SplitMix64).
// The core hands one to every call that needs randomness. Streams are *derived* by name or
// index from the seed they were made with, never from how many numbers were already drawn:
// Rng(seed).derive("views").derive(1) is the same stream on any machine, in any thread, in any
// order of evaluation. That is what makes results reproducible and independent of the number
// of threads.
//
// Normal variates use the Box–Muller transform on the stream's own uniforms, so the numbers
// are the same with any standard library (std::normal_distribution is not portable).
#pragma once

#include <cstdint>
#include <string_view>

#include "ntkssl/export.hpp"
#include "ntkssl/tensor.hpp"

namespace ntkssl {

class NTKSSL_SDK_API Rng {
public:
    explicit Rng(std::uint64_t seed);

    // A new independent stream determined by this stream's key and the label/index.
    Rng derive(std::string_view label) const;
    Rng derive(std::uint64_t index) const;

    // The key this stream was made from (seed, or the hash of its derivation path).
    std::uint64_t key() const noexcept { return key_; }

    std::uint64_t next_u64() noexcept;
    // Uniform in [0, 1), 53 random bits.
    double uniform() noexcept;
    // Uniform integer in [0, n); n > 0. Unbiased (rejection).
    std::uint64_t uniform_index(std::uint64_t n);
    // Standard normal.
    double normal() noexcept;
    // Fills every entry with mean + stddev·N(0,1), in row-major order.
    void fill_normal(Matrix& m, double mean = 0.0, double stddev = 1.0) noexcept;
    void fill_normal(Vector& v, double mean = 0.0, double stddev = 1.0) noexcept;

private:
    std::uint64_t key_;
    std::uint64_t s_[4];
    bool has_spare_ = false;
    double spare_ = 0.0;
};

}  // namespace ntkssl
