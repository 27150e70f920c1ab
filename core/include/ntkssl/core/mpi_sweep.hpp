// Running one sweep across MPI ranks (the ntkssl-mpi executable of -DNTKSSL_MPI=ON; docs/scaling.md).
//
// `mpirun -n R ntkssl-mpi run P.toml --out DIR`: every rank loads the pipeline and the plugins.
// Rank 0 owns DIR and runs the sweep exactly as a single process would (same files, same
// resume), with its own worker threads; the other ranks are remote workers that ask rank 0 for
// the next point whenever one of their slots is free (dynamic scheduling: a wide point costs far
// more than a narrow one), run it, and send back its outcome (measurements, bit for bit, and
// artifacts). Points are self-contained and seeded, so the results do not depend on R.
//
// Threads: a rank runs `--jobs` points at once, by default its share of its node's cores
// (hardware threads / ranks on the node, at least 1), each point on blas_threads_per_point()
// BLAS threads (sweep.hpp), as in a single process.
//
// Faults: a worker rank sends a heartbeat every 2 s. If rank 0 hears nothing from a rank for
// NTKSSL_MPI_TIMEOUT seconds (default 30), the rank is lost: its points in flight are marked
// failed ("rank r stopped responding"), the other ranks go on, and at the end rank 0 ends the
// job with MPI_Abort (MPI_Finalize would wait for the lost rank forever); --resume (with or
// without MPI) runs the missing points. Open MPI 4 keeps the other ranks alive after one dies
// only with `mpirun --enable-recovery` (which then always exits 0: read manifest.json's
// status); without it mpirun kills every rank at once and exits non-zero — either way nothing
// finished is lost or half-written, because every file is replaced atomically.
#pragma once

#include <functional>
#include <iosfwd>

#include "ntkssl/core/sweep.hpp"

namespace ntkssl::core {

// Loads the plugins into the registry and returns the pipeline (and may complete the options,
// e.g. the default --out from the pipeline's name); throws ntkssl errors.
using PipelineLoader = std::function<Pipeline(Registry&, RunOptions&)>;

// Initializes MPI, loads the pipeline on every rank, runs the sweep over all ranks (see above)
// and finalizes MPI. Returns this rank's exit code: rank 0's is the run's, the others' 0. When
// loading fails on rank 0 its error is rethrown (for main to report); a rank ≥ 1 that fails
// alone reports itself, and every rank stops.
int run_sweep_mpi(const PipelineLoader& load, RunOptions options, std::ostream& out, std::ostream& log);

}  // namespace ntkssl::core
