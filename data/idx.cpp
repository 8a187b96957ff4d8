#include "data/idx.h"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "io/atomic_file.h"
#include "io/limits.h"

namespace tinyopt {
namespace {

// Largest single dimension and total element count accepted: far above any
// real IDX dataset, far below anything that could exhaust memory by accident.
constexpr uint64_t kMaxIdxDim = uint64_t{1} << 31;
constexpr uint64_t kMaxIdxElements = uint64_t{1} << 34;
constexpr size_t kReadChunk = size_t{1} << 20;

std::string magic_text(uint32_t magic) {
  return fmt::format("0x{:08x} (type 0x{:02x}, {} dims)", magic, (magic >> 8) & 0xff, magic & 0xff);
}

class GzReader {
 public:
  explicit GzReader(const std::string& path) : path_(path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    TINYOPT_CHECK(std::filesystem::exists(status), "cannot read '{}': no such file", path);
    TINYOPT_CHECK(!std::filesystem::is_directory(status), "cannot read '{}': it is a directory", path);
    TINYOPT_CHECK(std::filesystem::is_regular_file(status), "cannot read '{}': not a regular file", path);
    errno = 0;
    file_ = gzopen(path.c_str(), "rb");
    if (file_ == nullptr) fail("cannot read '{}': {}", path, errno ? std::strerror(errno) : "gzopen failed");
  }
  ~GzReader() {
    if (file_ != nullptr) gzclose_r(file_);
  }
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Reads up to `bytes` bytes; returns how many arrived (fewer only at the end
  // of the data). A corrupt stream is an error.
  size_t read_some(void* dst, size_t bytes) {
    char* p = static_cast<char*>(dst);
    size_t done = 0;
    while (done < bytes) {
      const unsigned chunk = static_cast<unsigned>(std::min<size_t>(bytes - done, size_t{1} << 30));
      const int n = gzread(file_, p + done, chunk);
      if (n < 0) {
        int code = 0;
        const char* msg = gzerror(file_, &code);
        fail("cannot read '{}': corrupt or truncated gzip data after {} decompressed bytes ({})", path_, offset_ + done,
             msg ? msg : "unknown zlib error");
      }
      if (n == 0) {
        // zlib reports a stream cut short (no end-of-stream marker or CRC
        // trailer) as end of file plus a non-fatal Z_BUF_ERROR: check for it.
        int code = Z_OK;
        const char* msg = gzerror(file_, &code);
        if (code != Z_OK) {
          fail("cannot read '{}': the gzip data is truncated after {} decompressed bytes ({})", path_, offset_ + done,
               msg ? msg : "unknown zlib error");
        }
        break;
      }
      done += static_cast<size_t>(n);
    }
    offset_ += done;
    return done;
  }

 private:
  std::string path_;
  gzFile file_ = nullptr;
  uint64_t offset_ = 0;
};

uint32_t load_be32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

}  // namespace

IdxArray read_idx(const std::string& path, uint32_t expected_magic) {
  GzReader in(path);
  unsigned char head[4];
  const size_t got = in.read_some(head, 4);
  TINYOPT_CHECK(got == 4, "'{}' is not an IDX file: expected a 4-byte magic number, found only {} bytes", path, got);
  const uint32_t magic = load_be32(head);
  TINYOPT_CHECK(magic == expected_magic, "'{}': wrong IDX magic number: expected {}, found {}", path,
                magic_text(expected_magic), magic_text(magic));

  const size_t ndim = magic & 0xff;
  TINYOPT_CHECK(ndim >= 1, "'{}': IDX file declares zero dimensions", path);
  check_limit(ndim, limits().max_rank, "max_rank", fmt::format("'{}': the IDX array's rank", path));
  std::vector<unsigned char> dim_bytes(4 * ndim);
  const size_t got_dims = in.read_some(dim_bytes.data(), dim_bytes.size());
  TINYOPT_CHECK(got_dims == dim_bytes.size(), "'{}' is truncated: expected {} bytes of dimensions, found {}", path,
                dim_bytes.size(), got_dims);

  IdxArray out;
  uint64_t expected = 1;
  for (size_t i = 0; i < ndim; ++i) {
    const uint64_t d = load_be32(&dim_bytes[4 * i]);
    TINYOPT_CHECK(d <= kMaxIdxDim, "'{}': IDX dimension {} is {}, which is absurd", path, i, d);
    // expected <= 2^34 and d <= 2^31 here, so the product can exceed 2^64:
    // check the multiplication itself, not only the result against the cap.
    TINYOPT_CHECK(!__builtin_mul_overflow(expected, d, &expected) && expected <= kMaxIdxElements, "'{}': IDX dimensions describe more than {} elements", path,
                  kMaxIdxElements);
    out.dims.push_back(static_cast<int64_t>(d));
  }
  // The byte limit is enforced as data arrives (the buffer only grows with
  // real data), so a truncated file still says it is truncated.
  const uint64_t max_bytes = limits().max_tensor_bytes;

  // Grow the buffer only as data really arrives.
  out.data.reserve(static_cast<size_t>(std::min<uint64_t>(expected, 16 * kReadChunk)));
  uint64_t have = 0;
  while (have < expected) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(expected - have, kReadChunk));
    if (have + chunk > max_bytes) {
      check_limit(expected, max_bytes, "max_tensor_bytes", fmt::format("'{}': the IDX array's size in bytes", path));
    }
    out.data.resize(static_cast<size_t>(have) + chunk);
    const size_t n = in.read_some(out.data.data() + have, chunk);
    have += n;
    if (n < chunk) break;
  }
  out.data.resize(static_cast<size_t>(have));
  std::string dims_text;
  for (size_t i = 0; i < out.dims.size(); ++i) dims_text += (i ? " x " : "") + std::to_string(out.dims[i]);
  TINYOPT_CHECK(have == expected, "'{}' is truncated: dimensions {} need {} bytes of data, found {}", path, dims_text,
                expected, have);
  unsigned char extra;
  TINYOPT_CHECK(in.read_some(&extra, 1) == 0, "'{}': unexpected bytes after the {} bytes of data that dimensions {} need",
                path, expected, dims_text);
  return out;
}

void write_idx_gz(const std::string& path, const IdxArray& array) {
  TINYOPT_CHECK(!array.dims.empty() && array.dims.size() <= 255, "write_idx_gz '{}': rank {} must be 1..255", path,
                array.dims.size());
  std::string raw;
  const uint32_t magic = 0x0800u | static_cast<uint32_t>(array.dims.size());
  auto put_be32 = [&](uint32_t v) {
    for (int s = 24; s >= 0; s -= 8) raw += static_cast<char>((v >> s) & 0xff);
  };
  put_be32(magic);
  uint64_t n = 1;
  for (int64_t d : array.dims) {
    TINYOPT_CHECK(d >= 0 && static_cast<uint64_t>(d) <= UINT32_MAX, "write_idx_gz '{}': bad dimension {}", path, d);
    put_be32(static_cast<uint32_t>(d));
    n *= static_cast<uint64_t>(d);
  }
  TINYOPT_CHECK(n == array.data.size(), "write_idx_gz '{}': dimensions need {} bytes, data has {}", path, n,
                array.data.size());
  raw.append(reinterpret_cast<const char*>(array.data.data()), array.data.size());
  write_file_atomic(path, gzip_compress(raw));
}

std::string gzip_compress(std::string_view bytes) {
  TINYOPT_CHECK(bytes.size() < (uint64_t{1} << 32) - 1024, "gzip_compress: {} bytes is too large", bytes.size());
  z_stream zs{};
  // windowBits 15 + 16 selects the gzip wrapper (header and CRC-32 trailer).
  TINYOPT_CHECK(deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK,
                "gzip_compress: deflateInit2 failed");
  std::string out;
  out.resize(deflateBound(&zs, static_cast<uLong>(bytes.size())) + 64);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  zs.avail_in = static_cast<uInt>(bytes.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const size_t produced = zs.total_out;
  deflateEnd(&zs);
  TINYOPT_CHECK(rc == Z_STREAM_END, "gzip_compress: deflate failed (code {})", rc);
  out.resize(produced);
  return out;
}

}  // namespace tinyopt
