// Atomic file writes: every file tinyopt writes (models, .npy arrays, traces)
// goes through here, so a crash, a full disk or a throwing writer never leaves
// a half-written file where a good one used to be.
//
// How: the bytes go to a fresh temporary file in the target's own directory
// (so the final rename stays on one file system), which is flushed and
// fsync'ed, then renamed over the target, and the directory is fsync'ed so the
// rename itself is durable. On any failure the temporary file is removed and
// the old target (if any) is left exactly as it was.
#pragma once

#include <functional>
#include <ostream>
#include <string>
#include <string_view>

namespace tinyopt {

// Calls `writer` with a binary output stream and atomically replaces `path`
// with what it wrote. Throws tinyopt::Error naming the path when the directory
// does not exist or is not writable, when a write fails (e.g. disk full), or
// when the stream is left in a failed state; exceptions thrown by `writer`
// propagate unchanged after the temporary file has been removed.
// The new file gets mode 0644, or the old target's mode when replacing one.
void write_file_atomic(const std::string& path, const std::function<void(std::ostream&)>& writer);

// Same, for bytes already in memory.
void write_file_atomic(const std::string& path, std::string_view bytes);

// Fault injection: from now on the disk behaves as if only `free_bytes` more
// bytes fit; writes past that fail with ENOSPC, as a full disk's do. -1 (the
// default) turns it off. TINYOPT_DISK_FREE_BYTES=N arms it at start-up, so
// tests can check that the CLI leaves no half-written output behind.
// Returns the previous setting.
int64_t inject_disk_free_bytes(int64_t free_bytes);

}  // namespace tinyopt
