// Collecting configuration problems of independent parts, so that one `ntkssl validate`
// reports them all (each distinct line once) instead of stopping at the first.
#pragma once

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <ntkssl/errors.hpp>

namespace ntkssl::core {

class Problems {
public:
    // Runs f; a ConfigError it throws is recorded (line by line) instead of propagating.
    template <class F>
    bool check(F&& f) {
        try {
            f();
            return true;
        } catch (const ConfigError& e) {
            add(e.what());
            return false;
        }
    }
    void add(const std::string& message) {
        std::istringstream lines(message);
        std::string line;
        while (std::getline(lines, line))
            if (!line.empty() && std::find(list_.begin(), list_.end(), line) == list_.end()) list_.push_back(line);
    }
    bool empty() const noexcept { return list_.empty(); }
    const std::vector<std::string>& lines() const noexcept { return list_; }
    // Throws one ConfigError whose message is every problem, one per line.
    void throw_if_any() const {
        if (list_.empty()) return;
        std::string all;
        for (const auto& l : list_) all += (all.empty() ? "" : "\n") + l;
        throw ConfigError(all);
    }

private:
    std::vector<std::string> list_;
};

}  // namespace ntkssl::core
