#!/usr/bin/env bash
# Runs the decoder fuzzer: seeds a corpus with every frame of vectors.json, then runs
# RUNS inputs (default 30000; the CI smoke) or, with RUNS=0, until stopped.
#   scripts/fuzz-decode.sh FUZZER VECTORS CORPUS [RUNS]
set -euo pipefail
fuzzer=$1; vectors=$2; corpus=$3; runs=${4:-30000}
mkdir -p "$corpus"
python3 - "$vectors" "$corpus" <<'PY'
import json, sys, os
vectors, corpus = sys.argv[1], sys.argv[2]
for i, v in enumerate(json.load(open(vectors))):
    with open(os.path.join(corpus, "vector-%02d" % i), "w") as f:
        f.write(json.dumps(v["json"], ensure_ascii=False, separators=(",", ":")))
PY
args=(-max_len=4096 -timeout=10 -rss_limit_mb=2048)
[ "$runs" != 0 ] && args+=(-runs="$runs")
exec "$fuzzer" "${args[@]}" "$corpus"
