#!/usr/bin/env bash
# Starts N colorgan-train processes on this machine as one data-parallel group,
# the way torchrun's --standalone does: RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR
# and MASTER_PORT for each. Every process gets the same arguments (--batch is
# each one's); rank 0 writes the run directory. Ctrl-C stops all with a
# checkpoint; if one process fails, the others are stopped.
#
# usage: tools/train-local.sh N [colorgan-train options...]
#   e.g. tools/train-local.sh 2 --data photos --out runs/a --batch 8 --threads 1
# COLORGAN_TRAIN: the colorgan-train to run (default: build/tools/colorgan-train
# beside this script, else the one on PATH); MASTER_PORT: the rendezvous port (29500).
set -uo pipefail

if [ $# -lt 1 ] || ! [[ "$1" =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: $0 N [colorgan-train options...]  (N: processes, 1 or more)" >&2
  exit 2
fi
n=$1
shift
train=${COLORGAN_TRAIN:-$(dirname "$0")/../build/tools/colorgan-train}
if [ ! -x "$train" ]; then train=$(command -v colorgan-train) || { echo "$0: no colorgan-train found" >&2; exit 2; }; fi

export MASTER_ADDR=127.0.0.1 MASTER_PORT=${MASTER_PORT:-29500} WORLD_SIZE=$n
pids=()
for ((rank = 0; rank < n; rank++)); do
  RANK=$rank LOCAL_RANK=$rank "$train" "$@" &
  pids+=($!)
done
trap 'kill -INT "${pids[@]}" 2>/dev/null' INT TERM

status=0
for ((left = n; left > 0; left--)); do
  wait -n
  code=$?
  if [ "$code" -ne 0 ] && [ "$status" -eq 0 ]; then
    status=$code
    kill -TERM "${pids[@]}" 2>/dev/null  # a rank failed: the group cannot go on
  fi
done
exit "$status"
