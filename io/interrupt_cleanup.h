// Temporary files of writes in flight are removed when the process is
// interrupted (Ctrl-C, kill), so an interrupted command leaves nothing behind.
//
// io/atomic_file.cpp registers each temporary file while it exists. The
// `tinyopt` command installs the handlers once at start-up; a program that
// embeds the library (Python, for one) keeps its own signal handling unless it
// calls install_interrupt_cleanup() itself.
#pragma once

namespace tinyopt {

// Remembers `path` until release_temp_file(slot); returns the slot, or -1
// when the path is too long or every slot is taken (the file is then only
// removed by the normal error paths). Thread-safe.
int register_temp_file(const char* path);
void release_temp_file(int slot);

// On SIGINT, SIGTERM or SIGHUP: removes every registered file, then ends the
// process by the same signal (a shell reports 130, 143 or 129).
void install_interrupt_cleanup();

}  // namespace tinyopt
