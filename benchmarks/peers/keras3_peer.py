#!/usr/bin/env python3
"""Keras 3 peer for the minikeras "wphh seed CNN" benchmark.

Runs unchanged under each of the three Keras 3 virtual environments; the
backend is chosen the usual Keras 3 way, through the KERAS_BACKEND
environment variable (tensorflow, jax or torch).  See README.md beside this
file for how the environments were made.

Model (the wphh seed CNN, channels-first in the Keras 1 original):

    conv 4 @ 5x5 valid, tanh -> conv 8 @ 3x3 valid, tanh -> maxpool 2x2
    -> conv 16 @ 3x3 valid, relu -> maxpool 2x2 -> flatten
    -> dense 128 tanh (normal, stddev 0.05) -> dense 10 softmax (normal 0.05)
    loss categorical crossentropy, SGD(lr=0.05, momentum=0.9, nesterov=True),
    batch 100, validation_split 0.2, shuffle=True, accuracy metric.

Layout: this peer uses channels_last (N, 28, 28, 1), the natural fast layout
of Keras 3 on the CPU for all three backends (TensorFlow's CPU convolution
kernels do not support NCHW at all, and Keras 3 defaults to channels_last).

Optimizer: Keras 1's SGD took a per-update ``decay`` (lr / (1 + decay *
iterations)).  Keras 3's SGD has no such argument (it would need a
LearningRateSchedule instead); it is omitted here.  With the small decay
values used in practice this changes nothing measurable for speed.

Data are synthetic: random float32 inputs and random one-hot labels from a
fixed seed (the benchmark measures speed, not accuracy).

Stdout receives exactly one JSON line; everything else (library logs,
warnings) goes to stderr.
"""
import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time

# Quiet TensorFlow's C++ logging; must happen before TensorFlow is imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SEED = 1234


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--samples", type=int, default=42000,
                   help="number of samples (default 42000: 33600 train / "
                        "8400 validation)")
    p.add_argument("--epochs", type=int, default=3,
                   help="epochs of model.fit (default 3)")
    p.add_argument("--predict", action=argparse.BooleanOptionalAction,
                   default=True,
                   help="also time model.predict on all samples at batch "
                        "sizes 32 (Keras 1 default) and 100 (default: on)")
    p.add_argument("--threads", type=int, default=None,
                   help="number of CPU threads; default: library defaults")
    return p.parse_args()


def main():
    args = parse_args()

    # Keep stdout clean for the single JSON line: point fd 1 at stderr for
    # the whole run (catches C-level prints too) and write the result to a
    # duplicate of the original stdout at the end.
    sys.stdout.flush()
    json_fd = os.dup(1)
    os.dup2(2, 1)

    t_launch = time.perf_counter()
    backend_name = os.environ.get("KERAS_BACKEND", "tensorflow")
    versions = {"python": platform.python_version()}
    thread_note = "library defaults"

    # Thread control has to be set before the backend runs any op.
    if backend_name == "tensorflow":
        import tensorflow as tf
        versions["tensorflow"] = tf.__version__
        if args.threads:
            tf.config.threading.set_intra_op_parallelism_threads(args.threads)
            tf.config.threading.set_inter_op_parallelism_threads(args.threads)
            thread_note = "tf intra/inter-op threads"
    elif backend_name == "torch":
        import torch
        versions["torch"] = torch.__version__
        if args.threads:
            torch.set_num_threads(args.threads)
            thread_note = "torch.set_num_threads"
    elif backend_name == "jax":
        # JAX/XLA has no supported per-process thread-count setting on the
        # CPU; restrict the process to T cores instead.
        if args.threads:
            cpus = sorted(os.sched_getaffinity(0))[:args.threads]
            os.sched_setaffinity(0, cpus)
            thread_note = "sched_setaffinity(%s)" % cpus
        import jax
        import jaxlib
        versions["jax"] = jax.__version__
        versions["jaxlib"] = jaxlib.__version__

    import numpy as np
    import keras
    from keras import layers

    assert keras.backend.backend() == backend_name, (
        keras.backend.backend(), backend_name)
    versions["keras"] = keras.__version__
    versions["numpy"] = np.__version__

    keras.utils.set_random_seed(SEED)

    # Synthetic data, fixed seed.
    rng = np.random.RandomState(SEED)
    n = args.samples
    x = rng.rand(n, 28, 28, 1).astype("float32")
    y = np.zeros((n, 10), dtype="float32")
    y[np.arange(n), rng.randint(0, 10, size=n)] = 1.0

    normal = keras.initializers.RandomNormal(mean=0.0, stddev=0.05)
    model = keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(4, (5, 5), padding="valid", activation="tanh",
                      data_format="channels_last"),
        layers.Conv2D(8, (3, 3), padding="valid", activation="tanh",
                      data_format="channels_last"),
        layers.MaxPooling2D(pool_size=(2, 2), data_format="channels_last"),
        layers.Conv2D(16, (3, 3), padding="valid", activation="relu",
                      data_format="channels_last"),
        layers.MaxPooling2D(pool_size=(2, 2), data_format="channels_last"),
        layers.Flatten(),
        layers.Dense(128, activation="tanh", kernel_initializer=normal),
        layers.Dense(10, activation="softmax", kernel_initializer=normal),
    ])
    # Keras 1 had SGD(..., decay=...); Keras 3 has no per-update decay
    # argument, so it is left out (see module docstring).
    opt = keras.optimizers.SGD(learning_rate=0.05, momentum=0.9,
                               nesterov=True)
    model.compile(loss="categorical_crossentropy", optimizer=opt,
                  metrics=["accuracy"])

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.times = []
            self._t0 = None

        def on_epoch_begin(self, epoch, logs=None):
            self._t0 = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self._t0)

    timer = EpochTimer()
    t_fit = time.perf_counter()
    hist = model.fit(x, y, batch_size=100, epochs=args.epochs, verbose=0,
                     validation_split=0.2, shuffle=True, callbacks=[timer])
    fit_s = time.perf_counter() - t_fit

    predict = {}
    if args.predict:
        for bs in (32, 100):
            model.predict(x, batch_size=bs, verbose=0)  # warm-up call
            t0 = time.perf_counter()
            out = model.predict(x, batch_size=bs, verbose=0)
            predict[bs] = time.perf_counter() - t0
            assert out.shape == (n, 10), out.shape

    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

    warm = timer.times[1:]
    result = {
        "system": "keras3-" + backend_name,
        "versions": versions,
        "first_epoch_s": round(timer.times[0], 4) if timer.times else None,
        "warm_epoch_s": round(statistics.median(warm), 4) if warm else None,
        "warm_epochs": [round(t, 4) for t in warm],
        "predict_s_b32": round(predict[32], 4) if 32 in predict else None,
        "predict_s_b100": round(predict[100], 4) if 100 in predict else None,
        "peak_rss_mb": round(peak_rss_mb, 1),
        "samples": n,
        "threads": args.threads,
        # Extra context, not part of the common key set.
        "extra": {
            "layout": "channels_last (N, 28, 28, 1)",
            "jit_compile": bool(model.jit_compile),
            "thread_control": thread_note,
            "fit_s": round(fit_s, 4),
            "in_process_s": round(time.perf_counter() - t_launch, 4),
            "final_loss": float(hist.history["loss"][-1]),
            "final_val_loss": float(hist.history["val_loss"][-1]),
        },
    }
    os.write(json_fd, (json.dumps(result) + "\n").encode())
    os.close(json_fd)


if __name__ == "__main__":
    main()
