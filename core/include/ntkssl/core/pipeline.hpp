// A pipeline: one TOML file, its --set overrides, and the sweep grid it spans.
//
// This is the only part of ntkssl that uses TOML++. It turns the file into plain structures:
// component specs (plugin name + parameter entries with their file:line:col) and the core's own
// sections as ntkssl::Config, validated against the core's declared parameters exactly the way
// plugin tables are validated against theirs. See docs/pipelines.md for the schema.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <ntkssl/config.hpp>

namespace ntkssl::core {

// One plugin table: [dataset], [[augmentation]], [architecture], [loss], [kernel].
struct ComponentSpec {
    std::string section;  // "loss", "augmentation[2]"
    std::string type;     // registered plugin name
    SourceLocation where;
    std::vector<Config::Entry> params;  // every key but `type`
};

// A stated expectation on the width-scaling of a metric ([measure.expect]).
struct Expectation {
    std::string metric;
    std::optional<double> slope_max, slope_min;
    SourceLocation where;
    // Only for the summary groups whose swept values match these (empty: every group).
    std::vector<std::pair<std::string, Value>> only;
};

// The pipeline as one sweep point sees it: every sweep value substituted.
struct ResolvedPipeline {
    std::string name;
    std::int64_t seed = 0;
    std::vector<std::filesystem::path> plugin_paths;  // absolute
    ComponentSpec dataset;
    std::vector<ComponentSpec> augmentations;
    ComponentSpec architecture;
    ComponentSpec loss;
    std::optional<ComponentSpec> kernel;  // [kernel], when the pipeline has one
    Config train, measure, report;
    std::vector<Expectation> expectations;
};

// One axis of the sweep grid. A dotted key ("architecture.width") takes a list of values; a
// section name ("loss") takes a list of whole tables, the component variants, whose values
// here are their labels (each table's `label`, else its `type`).
struct SweepAxis {
    std::string key;
    std::vector<Value> values;
    SourceLocation where;
    bool variants = false;
};

class Pipeline {
public:
    // Parses the file and applies the overrides ("key=value", value in TOML syntax or a bare
    // string). Throws ConfigError with file:line:col on any problem; problems in different
    // sections or sweep points are all reported, one per line.
    static Pipeline load(const std::filesystem::path& file, const std::vector<std::string>& overrides = {});
    // The same from text in memory; `name` stands for the file in messages (and its directory
    // anchors relative plugin paths).
    static Pipeline parse(const std::string& text, const std::filesystem::path& name,
                          const std::vector<std::string>& overrides = {});
    // A sweep larger than this is refused: every point is resolved (and validated) up front.
    static constexpr std::size_t max_points = 100000;
    ~Pipeline();
    Pipeline(Pipeline&&) noexcept;
    Pipeline& operator=(Pipeline&&) noexcept;

    const std::filesystem::path& file() const;
    const std::vector<SweepAxis>& sweep() const;
    std::size_t num_points() const;
    // The sweep values of point i, one per axis, in axis order (last axis varies fastest).
    std::vector<Value> point_values(std::size_t index) const;
    ResolvedPipeline resolve(std::size_t index) const;
    // The effective pipeline (after --set) as TOML text; its hash identifies a result set.
    std::string resolved_toml() const;
    std::string fingerprint() const;
    // Plugin search paths of the pipeline (same for every point; sweeping them is refused).
    std::vector<std::filesystem::path> plugin_paths() const;

    // The core's declared parameters of its own sections, for docs and `describe`.
    static std::vector<ParamSpec> pipeline_parameters();
    static std::vector<ParamSpec> train_parameters();
    static std::vector<ParamSpec> measure_parameters();
    static std::vector<ParamSpec> report_parameters();
    // Options every [dataset] table takes besides its plugin's own (subset, holdout, normalize);
    // the core applies them after load(). Dataset plugins may not declare these names.
    static std::vector<ParamSpec> dataset_common_parameters();

private:
    struct Impl;
    explicit Pipeline(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace ntkssl::core
