#include "ntkssl/random.hpp"

#include <cmath>

#include "ntkssl/errors.hpp"

namespace ntkssl {

namespace {

// SplitMix64 (Steele, Lea, Flood 2014): the recommended seeder for xoshiro.
std::uint64_t splitmix64(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::uint64_t mix(std::uint64_t a, std::uint64_t b) noexcept {
    std::uint64_t x = a ^ (b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2));
    return splitmix64(x);
}

std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }

}  // namespace

Rng::Rng(std::uint64_t seed) : key_(seed) {
    std::uint64_t x = seed;
    for (auto& s : s_) s = splitmix64(x);
}

Rng Rng::derive(std::string_view label) const {
    // FNV-1a of the label, then mixed with this stream's key.
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : label) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return Rng(mix(key_, h));
}

Rng Rng::derive(std::uint64_t index) const { return Rng(mix(key_ ^ 0x5bd1e995ULL, index)); }

// xoshiro256** (Blackman, Vigna 2018).
std::uint64_t Rng::next_u64() noexcept {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

double Rng::uniform() noexcept { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

std::uint64_t Rng::uniform_index(std::uint64_t n) {
    NTKSSL_CHECK(n > 0, NumericError, "Rng::uniform_index needs n > 0");
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t r;
    do {
        r = next_u64();
    } while (r >= limit);
    return r % n;
}

double Rng::normal() noexcept {
    if (has_spare_) {
        has_spare_ = false;
        return spare_;
    }
    // Box–Muller; u1 in (0, 1] so the logarithm is finite.
    const double u1 = 1.0 - uniform();
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double a = 2.0 * M_PI * u2;
    spare_ = r * std::sin(a);
    has_spare_ = true;
    return r * std::cos(a);
}

void Rng::fill_normal(Matrix& m, double mean, double stddev) noexcept {
    for (auto& v : m) v = mean + stddev * normal();
}

void Rng::fill_normal(Vector& v, double mean, double stddev) noexcept {
    for (auto& x : v) x = mean + stddev * normal();
}

}  // namespace ntkssl
