#!/usr/bin/env bash
# Run every peer one after another and append their JSON lines to a file.
#
#   bash benchmarks/peers/run_peers.sh [OUT.jsonl] [peer args...]
#
# e.g. bash benchmarks/peers/run_peers.sh /tmp/peers.jsonl --samples 42000 --epochs 3
# The venvs are expected under $VENVS (default /work/venvs), made as README.md
# says.  Peer stderr goes to OUT.jsonl.stderr.
set -u
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-peers.jsonl}"
shift || true
venvs="${VENVS:-/work/venvs}"

run() {  # run LABEL CMD...
    local label="$1"; shift
    echo "== $label" >&2
    echo "== $label" >> "$out.stderr"
    if "$@" >> "$out" 2>> "$out.stderr"; then
        tail -n 1 "$out" >&2
    else
        echo "!! $label failed (see $out.stderr)" >&2
    fi
}

run keras3-tensorflow env KERAS_BACKEND=tensorflow "$venvs/keras-tf/bin/python" "$here/keras3_peer.py" "$@"
run keras3-jax        env KERAS_BACKEND=jax        "$venvs/keras-jax/bin/python" "$here/keras3_peer.py" "$@"
run keras3-torch      env KERAS_BACKEND=torch      "$venvs/keras-torch/bin/python" "$here/keras3_peer.py" "$@"
run pytorch           "$venvs/keras-torch/bin/python" "$here/torch_peer.py" "$@"
