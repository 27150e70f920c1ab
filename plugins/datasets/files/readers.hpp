// Readers for the data files users bring: IDX (MNIST's format, raw or gzip), NumPy .npy, CSV.
//
// These parse files downloaded from anywhere, so they trust nothing in them:
//   - every size in a header is checked (no overflow, product against the bytes actually
//     present, and a sane bound) before anything is allocated from it;
//   - a gzip stream is inflated incrementally with a hard cap, never into a buffer sized from
//     the (untrusted) header;
//   - any inconsistency is an ntkssl::ConfigError that names the file, what was expected and
//     what was found — never a crash, an out-of-memory or a silently shortened array.
// The parse_* functions work on bytes in memory (what the fuzz targets call); read_* open a file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <ntkssl/tensor.hpp>

namespace ntkssl::plugins::readers {

// Largest array the readers accept, in elements (2^31: 16 GiB as doubles).
constexpr std::size_t kMaxElements = std::size_t{1} << 31;
// Largest file, and largest decompressed gzip stream, in bytes.
constexpr std::size_t kMaxBytes = std::size_t{4} << 30;

struct Array {
    std::vector<std::size_t> shape;
    std::vector<double> values;  // row-major (C order)
};

// The bytes of a file (ConfigError if it cannot be read or exceeds kMaxBytes).
std::vector<unsigned char> read_bytes(const std::string& path);
// Inflates a gzip stream (ConfigError naming `name` if corrupt, truncated, or larger than `cap`).
std::vector<unsigned char> gunzip(const std::vector<unsigned char>& compressed, const std::string& name,
                                  std::size_t cap = kMaxBytes);
bool is_gzip(const std::vector<unsigned char>& bytes);

// IDX: magic 0x00 0x00 <type> <ndim>, ndim big-endian uint32 sizes, big-endian data of type
// 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
Array parse_idx(const std::vector<unsigned char>& bytes, const std::string& name);
Array read_idx(const std::string& path);  // raw or gzip, detected from the content

// .npy versions 1–3: dtypes b1, u1, i1, <u2, <i2, <u4, <i4, <u8, <i8, <f4, <f8 (and '|' / '='
// byte orders where meaningful), C order only.
Array parse_npy(const std::vector<unsigned char>& bytes, const std::string& name);
Array read_npy(const std::string& path);

// CSV: numeric fields separated by commas; a first row with any non-numeric field is a header
// when `header` is "auto" (or always/never with "yes"/"no"). label_column: index of an integer
// label column, or -1 for none. Every row must have the same number of fields.
struct Csv {
    Matrix x;
    Labels labels;
    std::vector<std::string> header;
};
Csv parse_csv(const std::string& text, const std::string& name, int label_column, const std::string& header);
Csv read_csv(const std::string& path, int label_column, const std::string& header);

}  // namespace ntkssl::plugins::readers
