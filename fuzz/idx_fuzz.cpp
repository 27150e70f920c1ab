// libFuzzer target: the idx reader must turn any input into either an array or a ConfigError,
// never a crash, a sanitizer report, a hang or an out-of-memory. Built by fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <ntkssl/errors.hpp>

#include "readers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ntkssl::plugins::readers;
    const std::vector<unsigned char> bytes(data, data + size);
    try {
        // Raw, or gzip with a small cap so that decompression bombs are found quickly.
        const std::vector<unsigned char> plain = is_gzip(bytes) ? gunzip(bytes, "fuzz", std::size_t{1} << 24) : bytes;
        parse_idx(plain, "fuzz");
    } catch (const ntkssl::ConfigError&) {
        // the expected answer to a malformed file
    }
    return 0;
}
