#include "ntkssl/core/launcher.hpp"

#include <algorithm>
#include <cstdlib>

namespace ntkssl::core {

int mpi_launcher_ranks() {
    for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"})
        if (const char* size = std::getenv(v)) return std::max(1, std::atoi(size));
    for (const char* v : {"PMIX_RANK", "PMI_RANK"})
        if (std::getenv(v)) return 1;
    return 0;
}

}  // namespace ntkssl::core
