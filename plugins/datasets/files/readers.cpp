#include "readers.hpp"

#include <zlib.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include <ntkssl/errors.hpp>

namespace ntkssl::plugins::readers {

namespace {

[[noreturn]] void fail(const std::string& name, const std::string& what) { throw ConfigError(name + ": " + what); }

// n1 · n2 without overflow, and within kMaxElements.
std::size_t checked_product(const std::vector<std::size_t>& shape, const std::string& name) {
    std::size_t total = 1;
    for (std::size_t s : shape) {
        if (s != 0 && total > kMaxElements / s) {
            std::ostringstream os;
            os << "the header's dimensions (";
            for (std::size_t i = 0; i < shape.size(); ++i) os << (i ? " × " : "") << shape[i];
            os << ") exceed the largest array ntkssl reads (" << kMaxElements << " elements)";
            fail(name, os.str());
        }
        total *= s;
    }
    return total;
}

std::uint32_t be32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
}

// Reads one element of `size` bytes at p, big- or little-endian, as the given kind.
enum class Kind { u, i, f, b };
double element(const unsigned char* p, std::size_t size, Kind kind, bool big_endian) {
    unsigned char buf[8];
    for (std::size_t i = 0; i < size; ++i) buf[i] = big_endian ? p[size - 1 - i] : p[i];  // to little-endian
    std::uint64_t raw = 0;
    for (std::size_t i = size; i-- > 0;) raw = (raw << 8) | buf[i];
    switch (kind) {
        case Kind::b: return raw ? 1.0 : 0.0;
        case Kind::u: return static_cast<double>(raw);
        case Kind::i: {
            const std::uint64_t sign = std::uint64_t{1} << (8 * size - 1);
            const std::int64_t v = (raw & sign) ? static_cast<std::int64_t>(raw | ~((sign << 1) - 1)) : static_cast<std::int64_t>(raw);
            return static_cast<double>(v);
        }
        case Kind::f:
            if (size == 4) {
                float f;
                std::uint32_t r = static_cast<std::uint32_t>(raw);
                std::memcpy(&f, &r, 4);
                return f;
            } else {
                double d;
                std::memcpy(&d, &raw, 8);
                return d;
            }
    }
    return 0.0;
}

Array decode(const unsigned char* data, std::size_t available, std::vector<std::size_t> shape, std::size_t elem, Kind kind,
             bool big_endian, const std::string& name, const char* format) {
    const std::size_t count = checked_product(shape, name);
    const std::size_t need = count * elem;  // ≤ 2^31 · 8, no overflow
    if (available < need) {
        fail(name, std::string("truncated ") + format + " data: the header promises " + std::to_string(count) + " elements (" +
                       std::to_string(need) + " bytes) but only " + std::to_string(available) + " bytes follow it");
    }
    if (available > need) {
        fail(name, std::string(format) + " file has " + std::to_string(available - need) +
                       " bytes after the data the header describes (a different or damaged file?)");
    }
    Array a;
    a.shape = std::move(shape);
    a.values.resize(count);  // sized only after the check against the bytes present
    for (std::size_t i = 0; i < count; ++i) a.values[i] = element(data + i * elem, elem, kind, big_endian);
    return a;
}

}  // namespace

std::vector<unsigned char> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary | std::ios::ate);
    if (!in) fail(path, "cannot open the file (" + std::string(std::strerror(errno)) + ")");
    const std::streamoff size = in.tellg();
    if (size < 0) fail(path, "cannot determine the file's size");
    if (static_cast<std::uint64_t>(size) > kMaxBytes) fail(path, "is larger than " + std::to_string(kMaxBytes) + " bytes");
    std::vector<unsigned char> bytes(static_cast<std::size_t>(size));
    in.seekg(0);
    if (size > 0 && !in.read(reinterpret_cast<char*>(bytes.data()), size)) fail(path, "read error");
    return bytes;
}

bool is_gzip(const std::vector<unsigned char>& b) { return b.size() >= 2 && b[0] == 0x1f && b[1] == 0x8b; }

std::vector<unsigned char> gunzip(const std::vector<unsigned char>& compressed, const std::string& name, std::size_t cap) {
    z_stream zs{};
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) fail(name, "cannot initialise zlib");
    std::vector<unsigned char> out;
    std::size_t in_pos = 0;
    int rc = Z_OK;
    unsigned char chunk[1 << 16];
    while (rc != Z_STREAM_END) {
        if (zs.avail_in == 0 && in_pos < compressed.size()) {
            const std::size_t take = std::min<std::size_t>(compressed.size() - in_pos, 1u << 30);
            zs.next_in = const_cast<unsigned char*>(compressed.data() + in_pos);
            zs.avail_in = static_cast<uInt>(take);
            in_pos += take;
        }
        zs.next_out = chunk;
        zs.avail_out = sizeof chunk;
        rc = inflate(&zs, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && zs.avail_in == 0 && in_pos < compressed.size())) {
            const std::string msg = zs.msg ? zs.msg : "error " + std::to_string(rc);
            inflateEnd(&zs);
            if (rc == Z_BUF_ERROR) fail(name, "the gzip stream is truncated (it ends before its end marker)");
            fail(name, "corrupt gzip stream: " + msg);
        }
        const std::size_t produced = sizeof chunk - zs.avail_out;
        if (out.size() + produced > cap) {
            inflateEnd(&zs);
            fail(name, "decompresses to more than " + std::to_string(cap) + " bytes; refusing it");
        }
        out.insert(out.end(), chunk, chunk + produced);
        if (rc != Z_STREAM_END && produced == 0 && zs.avail_in == 0 && in_pos >= compressed.size()) {
            inflateEnd(&zs);
            fail(name, "the gzip stream is truncated (it ends before its end marker)");
        }
    }
    inflateEnd(&zs);
    return out;
}

Array parse_idx(const std::vector<unsigned char>& b, const std::string& name) {
    if (b.size() < 4) fail(name, "too short for an IDX file (" + std::to_string(b.size()) + " bytes; the header alone is at least 8)");
    if (b[0] != 0 || b[1] != 0) {
        char found[32];
        std::snprintf(found, sizeof found, "%02x %02x", b[0], b[1]);
        fail(name, std::string("not an IDX file: expected the magic bytes 00 00, found ") + found +
                       (is_gzip(b) ? " (gzip data inside a gzip stream?)" : ""));
    }
    std::size_t elem;
    Kind kind;
    switch (b[2]) {
        case 0x08: elem = 1; kind = Kind::u; break;
        case 0x09: elem = 1; kind = Kind::i; break;
        case 0x0B: elem = 2; kind = Kind::i; break;
        case 0x0C: elem = 4; kind = Kind::i; break;
        case 0x0D: elem = 4; kind = Kind::f; break;
        case 0x0E: elem = 8; kind = Kind::f; break;
        default: {
            char found[8];
            std::snprintf(found, sizeof found, "0x%02x", b[2]);
            fail(name, std::string("unsupported IDX element type ") + found +
                           "; valid types are 0x08 (uint8), 0x09 (int8), 0x0B (int16), 0x0C (int32), 0x0D (float32), 0x0E (float64)");
        }
    }
    const std::size_t ndim = b[3];
    if (ndim == 0) fail(name, "IDX header declares 0 dimensions");
    if (b.size() < 4 + 4 * ndim) fail(name, "truncated IDX header: " + std::to_string(ndim) + " dimensions need " + std::to_string(4 + 4 * ndim) + " bytes, the file has " + std::to_string(b.size()));
    std::vector<std::size_t> shape;
    for (std::size_t i = 0; i < ndim; ++i) shape.push_back(be32(&b[4 + 4 * i]));
    const std::size_t offset = 4 + 4 * ndim;
    return decode(b.data() + offset, b.size() - offset, std::move(shape), elem, kind, true, name, "IDX");
}

Array read_idx(const std::string& path) {
    std::vector<unsigned char> bytes = read_bytes(path);
    if (is_gzip(bytes)) bytes = gunzip(bytes, path);
    return parse_idx(bytes, path);
}

Array parse_npy(const std::vector<unsigned char>& b, const std::string& name) {
    static const unsigned char magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
    if (b.size() < 10 || std::memcmp(b.data(), magic, 6) != 0) fail(name, "not a .npy file: it does not start with \\x93NUMPY");
    const unsigned major = b[6];
    std::size_t header_len, header_start;
    if (major == 1) {
        header_len = b[8] | (std::size_t{b[9]} << 8);
        header_start = 10;
    } else if (major == 2 || major == 3) {
        if (b.size() < 12) fail(name, "truncated .npy header");
        header_len = b[8] | (std::size_t{b[9]} << 8) | (std::size_t{b[10]} << 16) | (std::size_t{b[11]} << 24);
        header_start = 12;
    } else {
        fail(name, "unsupported .npy format version " + std::to_string(major) + "; valid versions are 1, 2 and 3");
    }
    if (header_len > b.size() - header_start) fail(name, "truncated .npy header: it declares " + std::to_string(header_len) + " bytes, " + std::to_string(b.size() - header_start) + " follow");
    const std::string header(reinterpret_cast<const char*>(b.data() + header_start), header_len);

    auto value_of = [&](const std::string& key) {
        const std::size_t k = header.find("'" + key + "'");
        if (k == std::string::npos) fail(name, ".npy header has no '" + key + "' entry: " + header);
        const std::size_t colon = header.find(':', k);
        if (colon == std::string::npos) fail(name, "malformed .npy header: " + header);
        std::size_t v = colon + 1;
        while (v < header.size() && header[v] == ' ') ++v;
        return v;
    };
    // descr: a quoted dtype string.
    std::size_t v = value_of("descr");
    if (v >= header.size() || (header[v] != '\'' && header[v] != '"')) fail(name, ".npy 'descr' is not a simple dtype string (structured dtypes are not supported): " + header);
    const std::size_t end = header.find(header[v], v + 1);
    if (end == std::string::npos) fail(name, "malformed .npy header: " + header);
    const std::string descr = header.substr(v + 1, end - v - 1);
    // fortran_order
    v = value_of("fortran_order");
    if (header.compare(v, 4, "True") == 0) fail(name, "the array is stored in Fortran order; save it in C order (numpy.ascontiguousarray) — only C order is read");
    if (header.compare(v, 5, "False") != 0) fail(name, "malformed .npy 'fortran_order': " + header);
    // shape: a tuple of integers
    v = value_of("shape");
    if (v >= header.size() || header[v] != '(') fail(name, "malformed .npy 'shape': " + header);
    const std::size_t close = header.find(')', v);
    if (close == std::string::npos) fail(name, "malformed .npy 'shape': " + header);
    std::vector<std::size_t> shape;
    std::stringstream ss(header.substr(v + 1, close - v - 1));
    std::string item;
    while (std::getline(ss, item, ',')) {
        const auto first = item.find_first_not_of(' ');
        if (first == std::string::npos) continue;
        item = item.substr(first, item.find_last_not_of(' ') - first + 1);
        if (item.empty() || item.size() > 18 || item.find_first_not_of("0123456789") != std::string::npos)
            fail(name, "malformed .npy shape entry '" + item + "' in " + header);
        shape.push_back(static_cast<std::size_t>(std::stoull(item)));
    }
    if (descr.size() < 3) fail(name, "unsupported .npy dtype '" + descr + "'");
    const char order = descr[0], code = descr[1];
    const std::string width = descr.substr(2);
    const bool big = order == '>';
    if (order != '<' && order != '>' && order != '|' && order != '=') fail(name, "unsupported .npy byte order in dtype '" + descr + "'");
    std::size_t elem = 0;
    Kind kind = Kind::f;
    if (code == 'b' && width == "1") { elem = 1; kind = Kind::b; }
    else if ((code == 'u' || code == 'i') && (width == "1" || width == "2" || width == "4" || width == "8")) {
        elem = std::stoul(width);
        kind = code == 'u' ? Kind::u : Kind::i;
    } else if (code == 'f' && (width == "4" || width == "8")) {
        elem = std::stoul(width);
        kind = Kind::f;
    } else {
        fail(name, "unsupported .npy dtype '" + descr + "'; valid dtypes are bool, (u)int8/16/32/64, float32, float64");
    }
    const std::size_t data_start = header_start + header_len;
    return decode(b.data() + data_start, b.size() - data_start, std::move(shape), elem, kind, big, name, ".npy");
}

Array read_npy(const std::string& path) { return parse_npy(read_bytes(path), path); }

Csv parse_csv(const std::string& text, const std::string& name, int label_column, const std::string& header) {
    Csv out;
    std::vector<std::vector<double>> rows;
    std::istringstream in(text);
    std::string line;
    std::size_t line_no = 0, fields = 0;
    bool first = true;
    while (std::getline(in, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;  // blank lines
        std::vector<std::string> cells;
        std::stringstream ls(line);
        std::string cell;
        while (std::getline(ls, cell, ',')) cells.push_back(cell);
        if (!line.empty() && line.back() == ',') cells.emplace_back();
        std::vector<double> values;
        bool numeric = true;
        for (auto& c : cells) {
            const auto b = c.find_first_not_of(" \t"), e = c.find_last_not_of(" \t");
            c = b == std::string::npos ? "" : c.substr(b, e - b + 1);
            char* endp = nullptr;
            const double d = c.empty() ? 0.0 : std::strtod(c.c_str(), &endp);
            if (c.empty() || endp != c.c_str() + c.size()) numeric = false;
            values.push_back(d);
        }
        if (first) {
            first = false;
            fields = cells.size();
            const bool is_header = header == "yes" || (header == "auto" && !numeric);
            if (is_header) {
                out.header = cells;
                continue;
            }
        }
        if (cells.size() != fields) {
            fail(name + ":" + std::to_string(line_no), "row has " + std::to_string(cells.size()) + " fields, the first row has " + std::to_string(fields));
        }
        if (!numeric) {
            for (std::size_t i = 0; i < cells.size(); ++i) {
                char* endp = nullptr;
                std::strtod(cells[i].c_str(), &endp);
                if (cells[i].empty() || endp != cells[i].c_str() + cells[i].size())
                    fail(name + ":" + std::to_string(line_no), "field " + std::to_string(i + 1) + " ('" + cells[i] + "') is not a number");
            }
        }
        for (double d : values)
            if (!std::isfinite(d)) fail(name + ":" + std::to_string(line_no), "a field is not a finite number");
        rows.push_back(std::move(values));
        if (rows.size() > kMaxElements / std::max<std::size_t>(fields, 1)) fail(name, "too many rows");
    }
    if (rows.empty()) fail(name, "has no data rows");
    if (label_column >= static_cast<int>(fields)) {
        fail(name, "label_column = " + std::to_string(label_column) + " but rows have " + std::to_string(fields) + " fields (columns are counted from 0)");
    }
    const std::size_t cols = fields - (label_column >= 0 ? 1 : 0);
    if (cols == 0) fail(name, "has no feature columns besides the label column");
    out.x = Matrix::from_shape({rows.size(), cols});
    for (std::size_t r = 0; r < rows.size(); ++r) {
        std::size_t c = 0;
        for (std::size_t f = 0; f < fields; ++f) {
            if (static_cast<int>(f) == label_column) {
                const double y = rows[r][f];
                if (y != std::floor(y) || y < 0 || y > 1e9)
                    fail(name, "row " + std::to_string(r + 1) + ": label " + std::to_string(y) + " is not a non-negative integer");
                out.labels.push_back(static_cast<int>(y));
            } else {
                out.x(r, c++) = rows[r][f];
            }
        }
    }
    return out;
}

Csv read_csv(const std::string& path, int label_column, const std::string& header) {
    const std::vector<unsigned char> bytes = read_bytes(path);
    return parse_csv(std::string(bytes.begin(), bytes.end()), path, label_column, header);
}

}  // namespace ntkssl::plugins::readers
