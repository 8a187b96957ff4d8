# Writes OUT: the C++ constant kGitCommit with `git rev-parse --short=12 HEAD`
# of SOURCE_DIR ("-dirty" when tracked files have changes, "unknown" outside a
# git checkout). Run on every build (target tinyopt_git_commit) so leaderboard
# entries name the commit the binary was built from, not the one it was
# configured at; the file is rewritten only when the text changes, so an
# unchanged commit recompiles nothing.
execute_process(COMMAND git rev-parse --short=12 HEAD WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
execute_process(COMMAND git status --porcelain --untracked-files=no WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE dirty OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT commit)
  set(commit "unknown")
elseif(dirty)
  string(APPEND commit "-dirty")
endif()
set(text "// Generated on every build by cmake/git_commit.cmake.\n#pragma once\n\nnamespace tinyopt::olympics::build_info {\ninline constexpr const char* kGitCommit = \"${commit}\";\n}  // namespace tinyopt::olympics::build_info\n")
if(EXISTS ${OUT})
  file(READ ${OUT} old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE ${OUT} "${text}")
endif()
