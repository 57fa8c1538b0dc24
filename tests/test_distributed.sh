#!/usr/bin/env bash
# Data-parallel colorgan-train on loopback (c10d Gloo): 2 processes with batch B
# train what 1 process with batch 2B trains; a killed rank ends the group with
# an error; an interrupted and resumed 2-rank run equals an uninterrupted one.
# Usage: test_distributed.sh BUILD_DIR SOURCE_DIR
set -uo pipefail
build="$1" src="$2"
source "$(dirname "$0")/cli_support.sh"
train="$build/tools/colorgan-train" model_tool="$build/tools/colorgan-model"
launch="$src/tools/train-local.sh"
export COLORGAN_TRAIN="$train"

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
# The largest weight difference colorgan-model compare prints for two model files.
difference() { "$model_tool" compare "$1" "$2" | sed -n 's/^max abs difference: \([^ ]*\).*/\1/p'; }
below() { /usr/bin/python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < float(sys.argv[2]) else 1)' "$1" "$2"; }

# Textured data: a real photo and busy test patterns. (Flat colours make batch norm's
# variance ~0, where any rounding difference is amplified 300x and runs drift apart.)
mkdir -p "$tmp/data"
cp "$COLORGAN_TEST_DATA/astronaut-128.jpg" "$tmp/data/"
for p in 0 1 13 16 22 23 24 25; do
  gst-launch-1.0 -q videotestsrc pattern=$p num-buffers=1 ! video/x-raw,width=96,height=72 ! videoconvert ! \
    pngenc ! filesink location="$tmp/data/p$p.png"
done
common=(--data "$tmp/data" --size 32 --generator tiny --threads 1 --checkpoint-every 1000 --sample-every 1000)

check "1 process, batch 4, 10 steps" 0 "$train" "${common[@]}" --batch 4 --steps 10 --out "$tmp/one"
check "1 process, batch 2, 10 steps" 0 "$train" "${common[@]}" --batch 2 --steps 10 --out "$tmp/one-b2"
MASTER_PORT=$(free_port) check "2 processes (train-local.sh), batch 2 each, 10 steps" 0 \
  "$launch" 2 "${common[@]}" --batch 2 --steps 10 --out "$tmp/two"
expect_output "rank 0 says the world size" "world size 2, 2 images per rank and step (4 in all)"
expect_output "... and the share of time in collectives" "rank 0 of 2: collectives"
same=$(difference "$tmp/one/model.cgan" "$tmp/two/model.cgan")
other=$(difference "$tmp/one/model.cgan" "$tmp/one-b2/model.cgan")
echo "     2 x batch 2 vs 1 x batch 4: $same; 1 x batch 2 vs 1 x batch 4: $other"
check "2 x batch 2 trains the weights of 1 x batch 4 (max difference < 1e-4)" 0 below "$same" 1e-4
check "... where a different batch gives other weights (> 1e-3): the comparison can fail" 0 below 1e-3 "$other"
check "only rank 0 wrote the run directory (one log row per 10 steps)" 0 test "$(grep -c '^10,' "$tmp/two/log.csv")" -eq 1

# A killed rank: the other stops with a clear error, well within its group timeout.
port=$(free_port)
MASTER_PORT=$port WORLD_SIZE=2 RANK=0 "$train" "${common[@]}" --batch 2 --steps 1000000 --out "$tmp/killed" \
  --group-timeout 120 > "$tmp/rank0.log" 2>&1 &
rank0=$!
MASTER_PORT=$port WORLD_SIZE=2 RANK=1 "$train" "${common[@]}" --batch 2 --steps 1000000 --out "$tmp/killed" \
  --group-timeout 120 > "$tmp/rank1.log" 2>&1 &
rank1=$!
for _ in $(seq 1200); do grep -q "^training: Ctrl-C" "$tmp/rank0.log" && break; sleep 0.1; done
sleep 1
kill -KILL "$rank1"
start=$SECONDS
for _ in $(seq 600); do kill -0 "$rank0" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$rank0" 2>/dev/null; then kill -KILL "$rank0"; fi
wait "$rank0"
status=$?
check "rank 0 stops with an error when rank 1 is killed (exit $status after $((SECONDS - start)) s)" 0 \
  test "$status" -ne 0 -a "$status" -ne 137
cp "$tmp/rank0.log" "$tmp/out"
expect_output "... saying the group failed" "training group: .* failed on rank 0"

# SIGINT on rank 1 stops both with a checkpoint; resuming the group gives the uninterrupted run's weights.
# The interrupted run aims at a million steps and is stopped once it has logged some: the step it stops at
# depends on the machine's speed, so the resumed and the uninterrupted runs train to that step + 20.
port=$(free_port)
MASTER_PORT=$port WORLD_SIZE=2 RANK=0 "$train" "${common[@]}" --batch 2 --steps 1000000 --log-every 5 \
  --out "$tmp/parts" > "$tmp/rank0.log" 2>&1 &
rank0=$!
MASTER_PORT=$port WORLD_SIZE=2 RANK=1 "$train" "${common[@]}" --batch 2 --steps 1000000 --log-every 5 \
  --out "$tmp/parts" > "$tmp/rank1.log" 2>&1 &
rank1=$!
for _ in $(seq 1200); do
  test "$(grep -c '^[0-9]' "$tmp/parts/log.csv" 2>/dev/null)" -ge 2 && break
  kill -0 "$rank0" 2>/dev/null || break
  sleep 0.1
done
kill -INT "$rank1"
wait "$rank0"
status0=$?
wait "$rank1"
status1=$?
stopped_at=$(sed -n 's/^interrupted: step \([0-9]*\),.*/\1/p' "$tmp/rank0.log")
echo "     interrupted at step ${stopped_at:-?}"
check "SIGINT on rank 1 stops both ranks with status 130 (rank 0: $status0, rank 1: $status1)" 0 \
  test "$status0" -eq 130 -a "$status1" -eq 130
check "... after step 10, with rank 0's checkpoint" 0 test "${stopped_at:-0}" -ge 10 -a -s "$tmp/parts/checkpoint.pt"
steps=$((${stopped_at:-0} + 20))
MASTER_PORT=$(free_port) check "2 processes, $steps steps, uninterrupted" 0 \
  "$launch" 2 "${common[@]}" --batch 2 --steps $steps --log-every 5 --out "$tmp/whole"
MASTER_PORT=$(free_port) check "the group resumes to step $steps" 0 "$launch" 2 --resume "$tmp/parts" --steps $steps
expect_output "rank 0 resumed at the step it stopped" "resumed .* at step ${stopped_at:-x}"
same=$(difference "$tmp/whole/model.cgan" "$tmp/parts/model.cgan")
echo "     resumed vs uninterrupted: $same"
check "interrupted and resumed equals uninterrupted (max difference < 1e-6)" 0 below "${same:-1}" 1e-6

finish
