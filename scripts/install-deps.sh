#!/usr/bin/env bash
# Installs, from Debian packages, whatever the build and the tests need and is missing.
# Idempotent and non-interactive; re-running it on a complete machine changes nothing.
set -euo pipefail

pkgs=(build-essential cmake pkg-config clang llvm clang-format
	libbpf-dev bpftool libelf-dev zlib1g-dev
	libncurses-dev libmicrohttpd-dev libcmocka-dev libamdhip64-dev
	tmux python3 procps util-linux libcap2-bin prometheus)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

# The deployment test validates the DaemonSet with an npm package: any Node.js with npm will do.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)

if ((${#missing[@]})); then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The CUDA driver API headers come with NVIDIA's toolkit (Debian: nvidia-cuda-toolkit, in non-free);
# the build finds them and says so if they are missing.
if ! [ -f "${CUDA_HOME:-/usr/local/cuda}/include/cuda.h" ] && ! [ -f /usr/include/cuda.h ]; then
	echo "install-deps: cuda.h not found: install the CUDA toolkit (Debian package nvidia-cuda-toolkit, non-free) or set CUDA_HOME" >&2
	exit 1
fi
