// libFuzzer target: the csv reader must turn any input into either an array or a ConfigError,
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
        parse_csv(std::string(bytes.begin(), bytes.end()), "fuzz", size % 3 == 0 ? -1 : 0, "auto");
    } catch (const ntkssl::ConfigError&) {
        // the expected answer to a malformed file
    }
    return 0;
}
