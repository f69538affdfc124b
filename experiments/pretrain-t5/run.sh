#!/usr/bin/env bash
# propetl-mini-t5: build the corpus and the 8,000-id vocabulary (once), then start or resume
# T5 span-corruption pretraining, and stop it cleanly at a wall-clock time (UTC): SIGINT, the
# trainer saves its state after the current step, the model folder gets the latest
# parameters, and an F16 copy is written next to it. Rerun the same command to resume.
#
#   experiments/pretrain-t5/run.sh 03:05            # stop at 03:05 UTC (today, or tomorrow if past)
#   setsid nohup experiments/pretrain-t5/run.sh 03:05 > /dev/null 2>&1 &
#
# Environment (defaults in brackets; the measured settings are in README.md):
#   OUT [experiments/pretrain-t5/runs/propetl-mini-t5]   model folder + train state + logs
#   THREADS [2]  STEPS [3000]  BATCH [16]  SEQ_LEN [64]  LR [1e-3]  WARMUP [200]
#   SAVE_STEPS [50]  EVAL_EVERY [200]  STDLIB [/tmp/t5p-data/node_modules]
#   BIBLE_ES_EN [data/bible-es-en/train.jsonl, else /work/wt-seq2seq-data/data/bible-es-en/train.jsonl]
#   T5_TOKENIZER [../shared/data/tokenizers/t5-small/tokenizer.json]
set -euo pipefail
cd "$(dirname "$0")/../.."
HERE=experiments/pretrain-t5
STOP="${1:?usage: run.sh HH:MM  (UTC wall-clock time to stop at)}"
OUT="${OUT:-$HERE/runs/propetl-mini-t5}"
THREADS="${THREADS:-2}"
STEPS="${STEPS:-3000}"
BATCH="${BATCH:-16}"
SEQ_LEN="${SEQ_LEN:-64}"
LR="${LR:-1e-3}"
WARMUP="${WARMUP:-200}"
SAVE_STEPS="${SAVE_STEPS:-50}"
EVAL_EVERY="${EVAL_EVERY:-200}"
STDLIB="${STDLIB:-/tmp/t5p-data/node_modules}"
T5_TOKENIZER="${T5_TOKENIZER:-../shared/data/tokenizers/t5-small/tokenizer.json}"
CORPUS="$HERE/corpus/corpus.txt"
VOCAB="$HERE/vocab"
mkdir -p "$OUT"
LOG="$OUT/run.log"
say() { echo "[$(date -u +%FT%TZ)] $*" | tee -a "$LOG"; }

stop_at=$(date -u -d "$STOP" +%s)
now=$(date -u +%s)
if [ "$stop_at" -le "$now" ]; then stop_at=$((stop_at + 86400)); fi
say "run.sh: stop at $(date -u -d "@$stop_at" +%FT%TZ) ($((stop_at - now)) s from now); output $OUT"

# 1. Build (dist/ is git-ignored).
[ -f dist/src/cli/main.js ] && [ -f dist/tools/trim-unigram-vocab.js ] || npx tsc -p tsconfig.json

# 2. Corpus: English sources without the Bibles, plus both sides of the bible-es-en TRAIN split.
if [ ! -f "$CORPUS" ]; then
  if [ ! -f "$HERE/corpus/bible-es-en-train.jsonl" ]; then
    src="${BIBLE_ES_EN:-}"
    [ -n "$src" ] || { [ -f data/bible-es-en/train.jsonl ] && src=data/bible-es-en/train.jsonl; } || src=/work/wt-seq2seq-data/data/bible-es-en/train.jsonl
    [ -f "$src" ] || { say "no bible-es-en training split at $src (set BIBLE_ES_EN)"; exit 1; }
    cp "$src" "$HERE/corpus/bible-es-en-train.jsonl"
  fi
  node dist/experiments/pretrain/build-corpus.js --stdlib "$STDLIB" --sources moby-dick,sotu,wordnet,glue,bible-es-en --no-vocab \
    --bible-es-en "$HERE/corpus/bible-es-en-train.jsonl" --out "$HERE/corpus" 2>&1 | tee -a "$LOG"
fi
want=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")).sha256)' "$HERE/corpus/manifest.json")
have=$(sha256sum "$CORPUS" | cut -d' ' -f1)
[ "$want" = "$have" ] || { say "$CORPUS: sha256 $have differs from manifest.json's $want; rebuild it (delete corpus.txt)"; exit 1; }

# 3. Vocabulary: t5-small's Unigram pieces trimmed to 8,000 ids on this corpus.
if [ ! -f "$VOCAB/tokenizer.json" ]; then
  node dist/tools/trim-unigram-vocab.js --tokenizer "$T5_TOKENIZER" --size 8000 --add-unk-chars 4 --out "$VOCAB" "$CORPUS" 2>&1 | tee -a "$LOG"
fi

# 4. Pretrain: start, or resume the saved state; SIGINT at the stop time.
RESUME=()
[ -f "$OUT/train_state.safetensors" ] && RESUME=(--resume)
left=$((stop_at - $(date -u +%s)))
if [ "$left" -le 0 ]; then say "the stop time has passed"; else
  say "pretraining ${RESUME[*]:-(fresh)} for at most $left s"
  set +e
  timeout --signal=INT --kill-after=1200 "${left}s" \
    node dist/src/cli/main.js pretrain --arch t5 --tokenizer "$VOCAB/tokenizer.json" --text "$CORPUS" --output "$OUT" "${RESUME[@]}" \
      --d-model 256 --d-ff 1024 --layers 4 --decoder-layers 4 --heads 4 --d-kv 64 --ffn relu \
      --steps "$STEPS" --batch-size "$BATCH" --seq-len "$SEQ_LEN" --lr "$LR" --warmup-steps "$WARMUP" \
      --mask-prob 0.15 --mean-noise-span 3 --eval-every "$EVAL_EVERY" --eval-batches 8 --eval-batch-size 16 \
      --save-steps "$SAVE_STEPS" --keep-train-state --threads "$THREADS" --json >> "$OUT/pretrain.jsonl" 2>> "$LOG"
  rc=$?
  set -e
  say "pretraining exited with status $rc (0 finished, 124/130 stopped at the stop time with the state saved)"
fi

# 5. F16 copy of whatever model the folder holds.
if [ -f "$OUT/model.safetensors" ]; then
  node dist/experiments/pretrain-t5/export-f16.js "$OUT" "$OUT-f16" 2>&1 | tee -a "$LOG"
fi
