#!/usr/bin/env python3
"""Plain PyTorch peer for the minikeras "wphh seed CNN" benchmark.

Run it with the keras-torch virtual environment's python (see README.md
beside this file).  Same model and hyperparameters as keras3_peer.py, as a
hand-written eager training loop:

    conv 4 @ 5x5 valid, tanh -> conv 8 @ 3x3 valid, tanh -> maxpool 2x2
    -> conv 16 @ 3x3 valid, relu -> maxpool 2x2 -> flatten
    -> dense 128 tanh (normal, stddev 0.05) -> dense 10 (normal 0.05)
    softmax + categorical crossentropy, done as nn.CrossEntropyLoss on the
    logits (the same function, fused and numerically stable);
    SGD(lr=0.05, momentum=0.9, nesterov=True), batch 100; the last 20% of
    the samples are held out for validation (as Keras' validation_split
    does: 33,600 train / 8,400 validation of 42,000); the training part is
    reshuffled every epoch; a validation pass runs after every epoch;
    training and validation accuracy are computed as Keras' metric would.

Initialisation follows Keras: glorot-uniform convolution kernels, normal
(stddev 0.05) dense kernels, zero biases.

Layout: NCHW (N, 1, 28, 28), PyTorch's natural layout on the CPU.

Keras 1's per-update SGD ``decay`` is omitted, as in keras3_peer.py.

Prediction runs under torch.no_grad() in eval mode and returns softmax
probabilities gathered into one NumPy array, like Keras' model.predict.

Stdout receives exactly one JSON line with the same keys as keras3_peer.py.
"""
import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

SEED = 1234


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--samples", type=int, default=42000,
                   help="number of samples (default 42000)")
    p.add_argument("--epochs", type=int, default=3,
                   help="training epochs (default 3)")
    p.add_argument("--predict", action=argparse.BooleanOptionalAction,
                   default=True,
                   help="also time inference on all samples at batch sizes "
                        "32 and 100 (default: on)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch.set_num_threads(T); default: library default")
    return p.parse_args()


def main():
    args = parse_args()
    sys.stdout.flush()
    json_fd = os.dup(1)
    os.dup2(2, 1)  # anything else printed goes to stderr

    t_launch = time.perf_counter()
    import numpy as np
    import torch
    from torch import nn

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(SEED)

    n = args.samples
    rng = np.random.RandomState(SEED)
    x_np = rng.rand(n, 1, 28, 28).astype("float32")
    labels_np = rng.randint(0, 10, size=n)
    y_np = np.zeros((n, 10), dtype="float32")  # one-hot, as in the Keras peer
    y_np[np.arange(n), labels_np] = 1.0

    x = torch.from_numpy(x_np)
    # One-hot targets -> class indices: CrossEntropyLoss with indices is the
    # same value as categorical crossentropy with one-hot targets.
    y = torch.from_numpy(y_np).argmax(dim=1)

    n_val = int(n * 0.2)
    n_train = n - n_val
    x_train, y_train = x[:n_train], y[:n_train]
    x_val, y_val = x[n_train:], y[n_train:]

    model = nn.Sequential(
        nn.Conv2d(1, 4, 5), nn.Tanh(),
        nn.Conv2d(4, 8, 3), nn.Tanh(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(16 * 4 * 4, 128), nn.Tanh(),
        nn.Linear(128, 10),  # softmax lives in the loss / at predict time
    )
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, mean=0.0, std=0.05)
                nn.init.zeros_(m.bias)

    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9,
                          nesterov=True)
    loss_fn = nn.CrossEntropyLoss()
    batch = 100

    epoch_times = []
    history = []
    t_fit = time.perf_counter()
    for _ in range(args.epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(n_train)
        tot_loss = torch.zeros(())
        tot_correct = torch.zeros((), dtype=torch.long)
        for i in range(0, n_train, batch):
            idx = perm[i:i + batch]
            xb, yb = x_train[idx], y_train[idx]
            opt.zero_grad(set_to_none=True)
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            with torch.no_grad():
                tot_loss += loss.detach() * len(idx)
                tot_correct += (logits.argmax(1) == yb).sum()
        model.eval()
        val_loss = torch.zeros(())
        val_correct = torch.zeros((), dtype=torch.long)
        with torch.no_grad():
            for i in range(0, n_val, batch):
                xb, yb = x_val[i:i + batch], y_val[i:i + batch]
                logits = model(xb)
                val_loss += loss_fn(logits, yb) * len(yb)
                val_correct += (logits.argmax(1) == yb).sum()
        history.append({
            "loss": tot_loss.item() / n_train,
            "acc": tot_correct.item() / n_train,
            "val_loss": val_loss.item() / max(n_val, 1),
            "val_acc": val_correct.item() / max(n_val, 1),
        })
        epoch_times.append(time.perf_counter() - t0)
    fit_s = time.perf_counter() - t_fit

    def predict(bs):
        model.eval()
        outs = []
        with torch.no_grad():
            for i in range(0, n, bs):
                outs.append(torch.softmax(model(x[i:i + bs]), dim=1))
        return torch.cat(outs).numpy()

    pred = {}
    if args.predict:
        for bs in (32, 100):
            predict(bs)  # warm-up call
            t0 = time.perf_counter()
            out = predict(bs)
            pred[bs] = time.perf_counter() - t0
            assert out.shape == (n, 10), out.shape

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    warm = epoch_times[1:]
    result = {
        "system": "pytorch",
        "versions": {"python": platform.python_version(),
                     "torch": torch.__version__,
                     "numpy": np.__version__},
        "first_epoch_s": round(epoch_times[0], 4) if epoch_times else None,
        "warm_epoch_s": round(statistics.median(warm), 4) if warm else None,
        "warm_epochs": [round(t, 4) for t in warm],
        "predict_s_b32": round(pred[32], 4) if 32 in pred else None,
        "predict_s_b100": round(pred[100], 4) if 100 in pred else None,
        "peak_rss_mb": round(peak_rss_mb, 1),
        "samples": n,
        "threads": args.threads,
        "extra": {
            "layout": "NCHW (N, 1, 28, 28)",
            "torch_num_threads": torch.get_num_threads(),
            "fit_s": round(fit_s, 4),
            "in_process_s": round(time.perf_counter() - t_launch, 4),
            "final_loss": history[-1]["loss"] if history else None,
            "final_val_loss": history[-1]["val_loss"] if history else None,
        },
    }
    os.write(json_fd, (json.dumps(result) + "\n").encode())
    os.close(json_fd)


if __name__ == "__main__":
    main()
