// The only MPI user in ntkssl (built with -DNTKSSL_MPI=ON). Protocol between rank 0 (the
// dispatcher, on its main thread, next to its own worker threads) and each worker rank r:
//
//   r → 0  REQUEST              a slot of r is free
//   0 → r  ASSIGN id            run point id; id = −1: no more points, stop asking
//   r → 0  RESULT id, outcome   the point's CBOR-encoded outcome (sweep.hpp)
//   r → 0  HEARTBEAT            every 2 s (a rank silent for NTKSSL_MPI_TIMEOUT is taken as lost)
//   0 → r  STOP                 the run is stopping: end the running points at their next step
//   r → 0  BYE                  r has nothing in flight and will ask for nothing more
//
// Only main threads call MPI (MPI_THREAD_FUNNELED); points run on other threads.
#include "ntkssl/core/mpi_sweep.hpp"

#include <mpi.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <ntkssl/errors.hpp>

extern "C" void openblas_set_num_threads(int);

namespace ntkssl::core {

namespace {

using Clock = std::chrono::steady_clock;

enum Tag : int { kRequest = 1, kAssign = 2, kResult = 3, kHeartbeat = 4, kStop = 5, kBye = 6 };

double timeout_seconds() {
    if (const char* env = std::getenv("NTKSSL_MPI_TIMEOUT")) {
        const double v = std::atof(env);
        if (v > 0) return v;
    }
    return 30.0;
}

void check(int rc, const char* what) {
    if (rc != MPI_SUCCESS) {
        char msg[MPI_MAX_ERROR_STRING];
        int len = 0;
        MPI_Error_string(rc, msg, &len);
        throw std::runtime_error(std::string("MPI: ") + what + " failed: " + std::string(msg, static_cast<std::size_t>(len)));
    }
}

// MPI_Init_thread / MPI_Finalize for the lifetime of a run.
class Session {
public:
    Session() {
        int provided = 0;
        check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
        MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
        MPI_Comm_size(MPI_COMM_WORLD, &size_);
        MPI_Comm node;
        MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node);
        MPI_Comm_size(node, &node_size_);
        MPI_Comm_free(&node);
    }
    ~Session() { MPI_Finalize(); }
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    int rank() const { return rank_; }
    int size() const { return size_; }
    int node_size() const { return node_size_; }
    // True when every rank passes true.
    bool all(bool mine) const {
        int in = mine ? 1 : 0, out = 0;
        MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
        return out == 1;
    }

private:
    int rank_ = 0, size_ = 1, node_size_ = 1;
};

void send_id(int to, int tag, std::int64_t id) { check(MPI_Send(&id, 1, MPI_INT64_T, to, tag, MPI_COMM_WORLD), "MPI_Send"); }

std::vector<std::uint8_t> receive_bytes(const MPI_Status& st) {
    int count = 0;
    MPI_Get_count(&st, MPI_BYTE, &count);
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(std::max(count, 0)));
    check(MPI_Recv(bytes.data(), count, MPI_BYTE, st.MPI_SOURCE, st.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
    return bytes;
}

// Rank 0's side: serves the other ranks from the run's scheduler.
class Dispatcher {
public:
    explicit Dispatcher(int size) {
        for (int r = 1; r < size; ++r) ranks_[r] = Rank{};
    }

    // While the run lasts: hand out points, take results, watch heartbeats. Returns once every
    // live rank has said BYE. An MPI failure stops the run (it never escapes: the local worker
    // threads are still running when this is called).
    void serve(Scheduler& scheduler) {
        try {
            serve_until_done(scheduler);
        } catch (const std::exception& e) {
            scheduler.stop(std::string("the MPI dispatcher failed: ") + e.what());
        }
    }

    // After a run that ended early (e.g. rank 0 refused the output directory): tell every rank
    // still waiting that there is nothing to do, and wait for their goodbyes.
    void drain() {
        struct Nothing final : Scheduler {
            std::optional<std::size_t> take(const std::string&) override { return std::nullopt; }
            void complete(std::size_t, PointOutcome, const std::string&) override {}
            bool stopping() const override { return true; }
            void stop(const std::string&) override {}
            void note(const std::string&) override {}
        } nothing;
        try {
            serve_until_done(nothing);
        } catch (const std::exception&) {
        }
    }

    // Whether a rank stopped responding during the run.
    bool lost_any() const {
        return std::any_of(ranks_.begin(), ranks_.end(), [](const auto& r) { return r.second.dead; });
    }

private:
    void serve_until_done(Scheduler& scheduler) {
        const double timeout = timeout_seconds();
        bool stop_sent = false;
        while (live() > 0) {
            if (scheduler.stopping() && !stop_sent) {
                for (auto& [r, s] : ranks_)
                    if (!s.dead && !s.gone) send_id(r, kStop, -1);
                stop_sent = true;
            }
            int flag = 0;
            MPI_Status st;
            check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &st), "MPI_Iprobe");
            if (!flag) {
                check_timeouts(scheduler, timeout);
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
                continue;
            }
            const int r = st.MPI_SOURCE;
            Rank& rank = ranks_[r];
            rank.last_heard = Clock::now();
            const std::vector<std::uint8_t> bytes = receive_bytes(st);
            switch (st.MPI_TAG) {
                case kRequest: {
                    const auto id = (rank.dead || stop_sent) ? std::nullopt : scheduler.take("rank " + std::to_string(r));
                    send_id(r, kAssign, id ? static_cast<std::int64_t>(*id) : -1);
                    if (id) rank.in_flight.insert(*id);
                    break;
                }
                case kResult: {
                    std::int64_t id = -1;
                    if (bytes.size() >= sizeof id) std::memcpy(&id, bytes.data(), sizeof id);
                    PointOutcome outcome;
                    try {
                        outcome = decode_outcome(std::vector<std::uint8_t>(bytes.begin() + sizeof id, bytes.end()));
                    } catch (const std::exception& e) {
                        outcome.error = std::string("rank ") + std::to_string(r) + " sent an unreadable result: " + e.what();
                    }
                    // A rank declared dead that comes back late: its result is still better than a failure.
                    if (id >= 0 && (rank.in_flight.erase(static_cast<std::size_t>(id)) || rank.dead))
                        scheduler.complete(static_cast<std::size_t>(id), std::move(outcome), "rank " + std::to_string(r));
                    break;
                }
                case kBye: rank.gone = true; break;
                default: break;  // heartbeats only refresh last_heard
            }
        }
    }

private:
    struct Rank {
        std::set<std::size_t> in_flight;
        Clock::time_point last_heard = Clock::now();
        bool dead = false, gone = false;
    };

    int live() const {
        int n = 0;
        for (const auto& [r, s] : ranks_) n += !s.dead && !s.gone;
        return n;
    }

    void check_timeouts(Scheduler& scheduler, double timeout) {
        const auto now = Clock::now();
        // Every live rank is heard from at least every 2 s (heartbeats, requests, results), with
        // or without points in flight: one that goes silent is gone, even between two points.
        for (auto& [r, s] : ranks_) {
            if (s.dead || s.gone) continue;
            const double silent = std::chrono::duration<double>(now - s.last_heard).count();
            if (silent < timeout) continue;
            s.dead = true;
            std::ostringstream why;
            why << "rank " << r << " stopped responding (nothing heard for " << static_cast<int>(silent)
                << " s, NTKSSL_MPI_TIMEOUT = " << timeout << " s) while running this point; --resume runs it again";
            scheduler.note("ntkssl: " + why.str().substr(0, why.str().find(" while")) + (s.in_flight.empty() ? "" : "; its points are marked failed") +
                           ", the other ranks go on");
            for (std::size_t id : s.in_flight) {
                PointOutcome failed;
                failed.error = why.str();
                scheduler.complete(id, std::move(failed), "rank " + std::to_string(r));
            }
            s.in_flight.clear();
        }
    }

    std::map<int, Rank> ranks_;
};

// A worker rank's side: `slots` points at once, each on its own thread.
void serve_points(const Pipeline& pipeline, const Registry& registry, int slots) {
    struct Slot {
        std::thread thread;
        std::int64_t id = -1;
        std::atomic<bool> done{false};
        PointOutcome outcome;
    };
    std::vector<std::unique_ptr<Slot>> running;
    std::atomic<bool> stop{false};
    bool exhausted = false;
    auto last_beat = Clock::now();
    const std::atomic<bool>& interrupted = interrupt_flag();
    while (true) {
        if (interrupted.load()) stop = true;
        // Fill free slots.
        while (!exhausted && !stop && static_cast<int>(running.size()) < slots) {
            send_id(0, kRequest, 0);
            std::int64_t id = -1;
            MPI_Status st;
            // Wait for the answer, but keep watching for STOP.
            while (true) {
                int flag = 0;
                check(MPI_Iprobe(0, kAssign, MPI_COMM_WORLD, &flag, &st), "MPI_Iprobe");
                if (flag) break;
                check(MPI_Iprobe(0, kStop, MPI_COMM_WORLD, &flag, &st), "MPI_Iprobe");
                if (flag) {
                    std::int64_t dummy;
                    MPI_Recv(&dummy, 1, MPI_INT64_T, 0, kStop, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                    stop = true;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
            check(MPI_Recv(&id, 1, MPI_INT64_T, 0, kAssign, MPI_COMM_WORLD, MPI_STATUS_IGNORE), "MPI_Recv");
            if (id < 0) {
                exhausted = true;
                break;
            }
            auto slot = std::make_unique<Slot>();
            slot->id = id;
            Slot* raw = slot.get();
            slot->thread = std::thread([raw, &pipeline, &registry, &stop] {
                raw->outcome = execute_point(pipeline, registry, static_cast<std::size_t>(raw->id), nullptr, stop);
                raw->done = true;
            });
            running.push_back(std::move(slot));
        }
        // Send finished results.
        for (auto it = running.begin(); it != running.end();) {
            Slot& s = **it;
            if (!s.done) {
                ++it;
                continue;
            }
            s.thread.join();
            std::vector<std::uint8_t> bytes(sizeof s.id);
            std::memcpy(bytes.data(), &s.id, sizeof s.id);
            const std::vector<std::uint8_t> encoded = encode_outcome(s.outcome);
            bytes.insert(bytes.end(), encoded.begin(), encoded.end());
            check(MPI_Send(bytes.data(), static_cast<int>(bytes.size()), MPI_BYTE, 0, kResult, MPI_COMM_WORLD), "MPI_Send");
            it = running.erase(it);
        }
        if ((exhausted || stop) && running.empty()) break;
        // A STOP from rank 0 ends the running points at their next step.
        int flag = 0;
        MPI_Status st;
        check(MPI_Iprobe(0, kStop, MPI_COMM_WORLD, &flag, &st), "MPI_Iprobe");
        if (flag) {
            std::int64_t dummy;
            MPI_Recv(&dummy, 1, MPI_INT64_T, 0, kStop, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            stop = true;
        }
        if (Clock::now() - last_beat > std::chrono::seconds(2)) {
            send_id(0, kHeartbeat, 0);
            last_beat = Clock::now();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    send_id(0, kBye, 0);
}

}  // namespace

int run_sweep_mpi(const PipelineLoader& load, RunOptions options, std::ostream& out, std::ostream& log) {
    Session mpi;
    Registry registry;
    std::optional<Pipeline> pipeline;
    std::exception_ptr failure;
    try {
        pipeline = load(registry, options);
    } catch (...) {
        failure = std::current_exception();
    }
    if (!mpi.all(!failure)) {
        // Usually every rank fails alike (the same file, the same plugins): rank 0 alone reports.
        int root_failed = mpi.rank() == 0 && failure ? 1 : 0;
        MPI_Bcast(&root_failed, 1, MPI_INT, 0, MPI_COMM_WORLD);
        if (mpi.rank() == 0 && failure) std::rethrow_exception(failure);
        if (failure && !root_failed) {
            try {
                std::rethrow_exception(failure);
            } catch (const std::exception& e) {
                log << "ntkssl: rank " << mpi.rank() << " could not load the pipeline: " << e.what() << "\n";
            }
        }
        if (mpi.rank() == 0) log << "ntkssl: another MPI rank could not load the pipeline (its message is above); nothing ran\n";
        // Only a rank with a message of its own exits non-zero: mpirun kills the job at the first
        // non-zero exit, which could cut rank 0 off before it reports.
        return mpi.rank() == 0 || (failure && !root_failed) ? exit_usage : exit_ok;
    }

    const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
    const int share = std::max(1, static_cast<int>(hw) / std::max(1, mpi.node_size()));
    const int slots = options.jobs > 0 ? options.jobs : share;
    if (mpi.rank() != 0) {
        openblas_set_num_threads(blas_threads_per_point());  // as rank 0's run_sweep does
        serve_points(*pipeline, registry, slots);
        return exit_ok;
    }
    Dispatcher dispatcher(mpi.size());
    options.jobs = slots;
    std::ostringstream note;
    note << mpi.size() << " MPI ranks (" << slots << " point" << (slots > 1 ? "s" : "") << " at a time each)";
    options.machine_note = note.str();
    options.remote = [&](Scheduler& s) { dispatcher.serve(s); };
    int code = exit_failure;
    std::exception_ptr error;
    try {
        code = run_sweep(*pipeline, registry, options, out, log);
    } catch (...) {
        error = std::current_exception();
    }
    dispatcher.drain();  // returns at once after a full run: every rank has said goodbye
    if (dispatcher.lost_any()) {
        // MPI_Finalize waits for every rank, the lost one too: end the job instead. Everything
        // is on disk; MPI_Abort only ends processes that have nothing left to do.
        out << std::flush;
        log << "ntkssl: a rank was lost during the run (see above); the results are complete for the other points. "
               "Ending the MPI job (MPI_Abort) since MPI cannot finalize without the lost rank.\n"
            << std::flush;
        MPI_Abort(MPI_COMM_WORLD, error ? exit_failure : std::max(code, static_cast<int>(exit_failure)));
    }
    if (error) std::rethrow_exception(error);
    return code;
}

}  // namespace ntkssl::core
