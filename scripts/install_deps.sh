#!/usr/bin/env bash
# Installs the Debian packages tinyopt builds and runs with (Debian 12).
# Usage: scripts/install_deps.sh [--tests] [--fuzz]
#   --tests adds what only the test suite and scripts/fresh_machine_check.sh use;
#   --fuzz what scripts/fuzz.sh uses.
# Skips apt-get entirely when everything is already installed.
#
# This list is the whole truth about what a build needs: CI proves it on a
# pristine Debian 12 root (scripts/fresh_machine_check.sh), where nothing but
# these packages is installed.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  git                    # the build stamps the commit into leaderboard entries
  libdnnl-dev            # oneDNN: the CPU library backend
  ocl-icd-opencl-dev opencl-c-headers  # libdnnl-dev's CMake config requires OpenCL (its GPU
                                       # runtime) but the package does not depend on it
  libfmt-dev nlohmann-json3-dev libcli11-dev zlib1g-dev libsqlite3-dev
  libgtest-dev libbenchmark-dev
  dataset-fashion-mnist  # real images for training and accuracy
  fortunes               # real text for the character-level GPT
)
for arg in "$@"; do
  case "$arg" in
    --tests) packages+=(python3-torch python3-numpy  # PyTorch interop cross-checks
                        chromium                     # renders the Olympics HTML report in a test (headless)
                        mmdebstrap) ;;               # the pristine Debian 12 root of fresh_machine_check.sh
    --fuzz) packages+=(clang-14 libclang-rt-14-dev libomp-14-dev) ;;  # libFuzzer + sanitizers, clang's OpenMP
    *) echo "install_deps: unknown option $arg" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install_deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install_deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
