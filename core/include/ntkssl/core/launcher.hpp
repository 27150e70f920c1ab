// Whether an MPI launcher (mpirun, srun) started this process, read from the environment it
// sets. No MPI library is needed for that: the plain ntkssl asks too (docs/scaling.md).
#pragma once

namespace ntkssl::core {

// The number of ranks the launcher started: OMPI_COMM_WORLD_SIZE (Open MPI) or PMI_SIZE (PMI,
// e.g. srun --mpi=pmi2); 1 when only a rank is known (PMIX_RANK, PMI_RANK); 0 without a launcher.
int mpi_launcher_ranks();

}  // namespace ntkssl::core
