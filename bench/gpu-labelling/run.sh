#!/usr/bin/env bash
# GPU labelling throughput (issue 14): the `llama` labeler in score mode on the authors' Sports
# candidates with a random-weight model of a real model's shape, with prefix reuse and with one full
# prompt per candidate. Modes:
#   pack [DIR]     here, after `npm run build`: write the bundle a GPU machine without network needs
#                  (node, npm, the runtime dist files and node_modules, the patched llama.cpp source,
#                  the Sports files) into DIR (default gpu-bundle), under 64 MiB
#   gpu [OPTIONS]  on the GPU machine, as `bash gpu-bundle/run.sh gpu`: unpack, build node-llama-cpp's
#                  CUDA backend from the packed source for the local GPU's architecture only (and
#                  without the flash-attention kernels the labeler does not use), write
#                  the model (while the build runs), label
#   cpu [OPTIONS]  in the repository: the same on CPU with the prebuilt CPU binary and a small shape
# GPU choice goes through node-llama-cpp's own detection and its NODE_LLAMA_CPP_CMAKE_OPTION_* variables
# (the build and the run must see the same ones: they name the build folder).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

usage() {
  cat <<'EOF'
usage: run.sh pack [DIR]
       run.sh gpu|cpu [--shape 8b|3b|1b|0.5b|tiny] [--seconds S] [--sequences N[,N...]]
                      [--schemes reuse,full] [--max-users N] [--full-candidates-per-user N]
                      [--work DIR] [--keep-model]
  pack  write the GPU bundle into DIR (default: gpu-bundle in the repository)
  gpu   from a bundle: build the CUDA backend for the local GPU, write the model, label
        (defaults: --shape 8b --seconds 45 --sequences 1,16 --work BUNDLE/work)
  cpu   in the repository, prebuilt CPU binary (defaults: --shape 0.5b --seconds 120
        --sequences 1 --full-candidates-per-user 2 --work /tmp/dtlns-gpu-labelling)
Results: a line per case on stderr, the JSON report in WORK/result-SHAPE.json (and in $OUT when set).
EOF
}

fail() { echo "run.sh: $*" >&2; exit 2; }

mode=${1:-}
case "$mode" in
  -h|--help) usage; exit 0 ;;
  pack|gpu|cpu) shift ;;
  '') usage >&2; fail "give a mode: pack, gpu or cpu" ;;
  *) usage >&2; fail "unknown mode \"$mode\": choose pack, gpu or cpu" ;;
esac

shapes="8b 3b 1b 0.5b tiny"
schemes=reuse,full max_users='' full_per_user='' work='' keep_model=0 pack_dir=''
if [[ $mode == gpu ]]; then shape=8b seconds=45 sequences=1,16; else shape=0.5b seconds=120 sequences=1 full_per_user=2; fi
while [[ $# -gt 0 ]]; do
  opt=$1
  case "$opt" in
    --shape|--seconds|--sequences|--schemes|--max-users|--full-candidates-per-user|--work)
      [[ $mode != pack ]] || fail "pack takes only a folder, not $opt"
      [[ $# -ge 2 && -n $2 ]] || fail "$opt needs a value"
      value=$2; shift 2 ;;
    --keep-model) [[ $mode != pack ]] || fail "pack takes only a folder, not $opt"; keep_model=1; shift; continue ;;
    -h|--help) usage; exit 0 ;;
    -*) fail "unknown option $opt (see run.sh --help)" ;;
    *) [[ $mode == pack && -z $pack_dir ]] || fail "unexpected argument \"$opt\" (see run.sh --help)"; pack_dir=$1; shift; continue ;;
  esac
  case "$opt" in
    --shape) [[ " $shapes " == *" $value "* ]] || fail "--shape must be one of: $shapes (got \"$value\")"; shape=$value ;;
    --seconds) [[ $value =~ ^[0-9]+([.][0-9]+)?$ && $value != 0 ]] || fail "--seconds must be a positive number (got \"$value\")"; seconds=$value ;;
    --sequences) [[ $value =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || fail "--sequences must be positive integers separated by commas (got \"$value\")"; sequences=$value ;;
    --schemes) [[ $value =~ ^(reuse|full)(,(reuse|full))*$ ]] || fail "--schemes must be reuse, full or reuse,full (got \"$value\")"; schemes=$value ;;
    --max-users) [[ $value =~ ^[1-9][0-9]*$ ]] || fail "--max-users must be a positive integer (got \"$value\")"; max_users=$value ;;
    --full-candidates-per-user) [[ $value =~ ^[1-9][0-9]*$ ]] || fail "--full-candidates-per-user must be a positive integer (got \"$value\")"; full_per_user=$value ;;
    --work) work=$value ;;
  esac
done

# ---------------------------------------------------------------- pack
pack() {
  local repo out tmp
  repo=$(cd "$here/../.." && pwd)
  [[ -f $repo/package.json && -d $repo/node_modules/node-llama-cpp ]] || fail "pack runs in the repository (bench/gpu-labelling/run.sh) with node_modules installed"
  [[ -f $repo/dist/bench/gpu-labelling/driver.js ]] || fail "dist/ is missing: run npm run build first"
  [[ -f $repo/build/Release/dtlns_native.node ]] || fail "build/Release/dtlns_native.node is missing: run npm run build first"
  local data="$repo/../shared/datasets/dtlns-sports"
  for f in train.txt valid.txt test.txt candidates.txt paths-struct.txt paths-semantic.txt; do
    [[ -f $data/$f ]] || fail "$data/$f is missing (the Sports dataset travels in the bundle)"
  done
  out=$(mkdir -p "${pack_dir:-$repo/gpu-bundle}" && cd "${pack_dir:-$repo/gpu-bundle}" && pwd)
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  local xz="nice -n 10 xz -T1 -6"

  echo "pack: the files the driver and node-llama-cpp's build need" >&2
  (cd "$repo" && node dist/bench/gpu-labelling/runtime-files.js dist/bench/gpu-labelling/driver.js) > "$tmp/files"
  {
    echo package.json
    echo build/Release/dtlns_native.node
    echo node_modules/.bin/cmake-js
  } >> "$tmp/files"
  mkdir -p "$tmp/data/dtlns-sports"
  cp "$data"/{train,valid,test}.txt "$data"/{candidates,paths-struct,paths-semantic}.txt "$tmp/data/dtlns-sports/"
  (cd "$repo" && tar -cf - -T "$tmp/files") > "$tmp/app.tar"
  tar -rf "$tmp/app.tar" -C "$tmp" data
  $xz < "$tmp/app.tar" > "$out/app.tar.xz"

  echo "pack: llama.cpp source from node-llama-cpp's git bundle, patched as \`source download\` does, without docs, models and tests" >&2
  local llama="$repo/node_modules/node-llama-cpp/llama"
  git clone -q "$llama/gitRelease.bundle" "$tmp/llama.cpp" 2>/dev/null
  for patch in "$llama"/patches/*.diff; do
    git -C "$tmp/llama.cpp" apply --check "$patch" 2>/dev/null && git -C "$tmp/llama.cpp" apply "$patch"
  done
  tar -C "$tmp/llama.cpp" --exclude=./.git --exclude=./models --exclude=./docs --exclude=./tests --exclude=./benches \
    --exclude=./examples --exclude=./pocs --exclude=./tools --exclude=./gguf-py --exclude=./conversion --exclude=./media \
    --exclude=./skills -cf - . | $xz > "$out/llama.cpp.tar.xz"

  local versions
  versions="node $(node -v), npm $(npm -v 2>/dev/null)"
  if [[ -f $out/node.xz && -f $out/npm.tar.xz && $(cat "$out/versions" 2>/dev/null) == "$versions" ]]; then
    echo "pack: keeping the packed $versions" >&2
  else
    echo "pack: $versions (node-llama-cpp's build runs cmake-js through npm)" >&2
    rm -f "$out/versions"
    $xz < "$(command -v node)" > "$out/node.xz"
    local npm_dir
    npm_dir=$(cd "$(dirname "$(readlink -f "$(command -v npm)")")/.." && pwd)
    tar -C "$(dirname "$npm_dir")" --exclude='*.md' --exclude=./npm/docs --exclude=./npm/man -cf - "$(basename "$npm_dir")" | $xz > "$out/npm.tar.xz"
    echo "$versions" > "$out/versions"
  fi

  cp "$here/run.sh" "$out/run.sh"
  du -b "$out"/* | awk '{printf "  %-50s %6.1f MiB\n", $2, $1 / 1048576; total += $1} END {printf "  %-50s %6.1f MiB\n", "total", total / 1048576}' >&2
  local bytes
  bytes=$(du -cb "$out"/* | tail -1 | cut -f1)
  # The device tool carries at most 64 MiB of working tree, the repository's tracked files included.
  (( bytes < 60 * 1048576 )) || fail "the bundle in $out is $((bytes / 1048576)) MiB: over the 60 MiB that leaves room for the repository in a 64 MiB carry"
  echo "pack: on the GPU machine: bash $(basename "$out")/run.sh gpu" >&2
}

# ---------------------------------------------------------------- gpu
find_nvcc() {
  local candidate
  for candidate in "$(command -v nvcc 2>/dev/null || true)" /usr/local/cuda/bin/nvcc /usr/local/cuda-*/bin/nvcc; do
    [[ -n $candidate && -x $candidate ]] && { echo "$candidate"; return 0; }
  done
  return 1
}

unpack() {
  local app=$1
  [[ -f $here/app.tar.xz && -f $here/node.xz && -f $here/npm.tar.xz && -f $here/llama.cpp.tar.xz ]] ||
    fail "gpu runs from a bundle made by \`run.sh pack\` (app.tar.xz, node.xz, npm.tar.xz, llama.cpp.tar.xz next to run.sh); $here has none"
  if [[ ! -f $app/.unpacked ]]; then
    echo "gpu: unpacking the bundle into $app" >&2
    rm -rf "$app" && mkdir -p "$app/bin" "$app/lib"
    xz -dc "$here/node.xz" > "$app/bin/node" && chmod +x "$app/bin/node"
    xz -dc "$here/npm.tar.xz" | tar -C "$app/lib" -xf -
    printf '#!/bin/sh\nexec "%s/bin/node" "%s/lib/npm/bin/npm-cli.js" "$@"\n' "$app" "$app" > "$app/bin/npm" && chmod +x "$app/bin/npm"
    xz -dc "$here/app.tar.xz" | tar -C "$app" -xf -
    local src="$app/node_modules/node-llama-cpp/llama/llama.cpp"
    mkdir -p "$src" && xz -dc "$here/llama.cpp.tar.xz" | tar -C "$src" -xf -
    # node-llama-cpp counts the source as downloaded when llama.cpp/.git exists (the bundle has no history).
    mkdir -p "$src/.git"
    touch "$app/.unpacked"
  fi
}

build_cuda() {
  local app=$1 log=$2
  if [[ -f $app/.cuda-built-$CUDA_ARCH ]]; then echo "gpu: CUDA backend for sm_$CUDA_ARCH already built" >&2; return; fi
  echo "gpu: building node-llama-cpp's CUDA backend for sm_$CUDA_ARCH only (log: $log)" >&2
  local started=$SECONDS
  (cd "$app" && node node_modules/node-llama-cpp/dist/cli/cli.js source build --gpu cuda --noUsageExample) > "$log" 2>&1 ||
    { tail -40 "$log" >&2; fail "the CUDA build failed (full log: $log)"; }
  echo "gpu: built in $((SECONDS - started)) s" >&2
  touch "$app/.cuda-built-$CUDA_ARCH"
}

write_model() {
  local app=$1 file=$2
  if [[ $keep_model == 1 && -f $file ]]; then echo "gpu: keeping $file" >&2; return; fi
  (cd "$app" && node dist/bench/gpu-labelling/driver.js model --shape "$shape" --out "$file") > "$file.json"
  echo "model: $(cat "$file.json")" >&2
}

label() {
  local app=$1 file=$2 data=$3 result=$4
  local args=(label --model "$file" --data "$data" --seconds "$seconds" --sequences "$sequences" --schemes "$schemes" --json "$result")
  [[ -n $max_users ]] && args+=(--max-users "$max_users")
  [[ -n $full_per_user ]] && args+=(--full-candidates-per-user "$full_per_user")
  (cd "$app" && node dist/bench/gpu-labelling/driver.js "${args[@]}") > /dev/null
  if [[ -n ${OUT:-} && -d ${OUT:-} ]]; then cp "$result" "$OUT/"; fi
  echo "report: $result" >&2
}

run_gpu() {
  command -v nvidia-smi > /dev/null && nvidia-smi > /dev/null 2>&1 || fail "no working nvidia-smi: this mode needs an NVIDIA GPU (use \`run.sh cpu\` without one)"
  local cap nvcc
  cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' ')
  [[ $cap =~ ^[0-9]+\.[0-9]+$ ]] || fail "cannot read the GPU's compute capability from nvidia-smi (got \"$cap\")"
  nvcc=$(find_nvcc) || fail "no nvcc (CUDA toolkit) on PATH or in /usr/local/cuda*: the CUDA backend cannot be built here; stopping"
  local cuda_home
  cuda_home=$(cd "$(dirname "$nvcc")/.." && pwd)
  command -v cmake > /dev/null || fail "no cmake on PATH: node-llama-cpp's build needs it"
  # A toolkit with nvcc but without cuBLAS configures until ggml-cuda links CUDA::cublas, then fails.
  [[ -f $cuda_home/include/cublas_v2.h || -f /usr/include/cublas_v2.h ]] ||
    echo "gpu: warning: no cublas_v2.h in $cuda_home/include or /usr/include; ggml-cuda needs cuBLAS" >&2
  export CUDA_ARCH=${cap/./}
  export PATH="$(dirname "$nvcc"):$PATH" CUDACXX="$nvcc" CUDA_PATH="$cuda_home"
  export LD_LIBRARY_PATH="$cuda_home/lib64${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export NODE_LLAMA_CPP_CMAKE_OPTION_CMAKE_CUDA_ARCHITECTURES=$CUDA_ARCH
  # The labeler runs with flash attention off; its CUDA kernels are about a third of the build.
  export NODE_LLAMA_CPP_CMAKE_OPTION_GGML_CUDA_FA=OFF
  echo "gpu: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1), compute capability $cap; $("$nvcc" --version | tail -1); $(cmake --version | head -1)" >&2

  work=${work:-$here/work}
  local app="$work/app"
  mkdir -p "$work"
  unpack "$app"
  export PATH="$app/bin:$PATH"
  local file="$work/model-$shape.gguf"
  # The model is written (one core, the disk) while the build uses the other cores.
  write_model "$app" "$file" &
  local writer=$!
  build_cuda "$app" "$work/cuda-build.log"
  wait "$writer" || fail "writing the model failed"
  [[ -n ${OUT:-} && -d ${OUT:-} ]] && cp "$work/cuda-build.log" "$OUT/" 2>/dev/null || true
  local picked
  picked=$(cd "$app" && node dist/bench/gpu-labelling/driver.js check-gpu --expect cuda) ||
    fail "the CUDA build is not what node-llama-cpp loads (see above)"
  echo "gpu: node-llama-cpp picks $picked" >&2
  label "$app" "$file" "$app/data/dtlns-sports" "$work/result-$shape.json"
}

run_cpu() {
  local repo
  repo=$(cd "$here/../.." && pwd)
  [[ -f $repo/dist/bench/gpu-labelling/driver.js ]] || fail "dist/ is missing: run npm run build first"
  work=${work:-/tmp/dtlns-gpu-labelling}
  mkdir -p "$work"
  local file="$work/model-$shape.gguf"
  write_model "$repo" "$file"
  label "$repo" "$file" "$repo/../shared/datasets/dtlns-sports" "$work/result-$shape.json"
}

case "$mode" in
  pack) pack ;;
  gpu) run_gpu ;;
  cpu) run_cpu ;;
esac
