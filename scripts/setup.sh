#!/usr/bin/env bash
# Installs every Debian package qdet's build, tests and benchmarks need. Idempotent, non-interactive.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config
  libxnnpack-dev libpthreadpool-dev libcpuinfo-dev
  flatbuffers-compiler libflatbuffers-dev zlib1g-dev
  libjpeg62-turbo-dev libpng-dev libfreetype-dev fonts-dejavu-core
  nlohmann-json3-dev libsimdjson-dev libcli11-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libonnx-dev libprotobuf-dev protobuf-compiler libdnnl-dev
  darknet
  nodejs npm
  chromium
  python3-dev pybind11-dev python3-numpy python3-pytest
  python3-nbclient python3-ipykernel python3-matplotlib
  python3-venv python3-pip python3-setuptools python3-wheel
  munge slurmctld slurmd slurm-client
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from elsewhere on the machine (e.g. a newer node): accept it when present.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -r -a missing <<< "${missing[*]}"
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  # No system service is started (munge, slurmctld, slurmd): the Slurm test starts its own
  # daemons in a folder of its own (deploy/slurm/local_cluster.sh).
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod 755 "$policy"
    trap '$sudo rm -f "$policy"' EXIT
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: all packages present" >&2
