"""Keeps freed memory for reuse by the next batch.

Every training step allocates the same few dozen arrays of 0.1 to 10 MB and
frees them again. glibc's malloc serves blocks that large with fresh `mmap`
pages and returns them on free, so each step pays a page fault (and the
kernel's zeroing) for every page it touches: on a virtual machine that is
most of a small model's epoch. Raising malloc's mmap and trim thresholds
makes freed blocks stay in the heap and come back warm. Arrays larger than the
threshold (whole data sets) are still mapped and unmapped as before. A
script that runs the same network again and again outside `fit` (the
feature maps of a style transfer) gains the same: `minikeras run` calls this
before the script starts, `fit` at its first batch.

Set `MINIKERAS_MALLOC_TUNING=0`, or glibc's own `MALLOC_TRIM_THRESHOLD_` or
`MALLOC_MMAP_THRESHOLD_`, to leave malloc alone.
"""
import ctypes
import ctypes.util
import os

_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD = 64 << 20
_TRIM_THRESHOLD = 1 << 30

_GLIBC_VARIABLES = ('MALLOC_TRIM_THRESHOLD_', 'MALLOC_MMAP_THRESHOLD_')

_done = False


def keep_freed_memory():
    """Raises glibc's mmap and trim thresholds once per process (a no-op
    elsewhere, when MINIKERAS_MALLOC_TUNING=0, or when the user set glibc's
    MALLOC_*_THRESHOLD_ variables). Returns whether it did."""
    global _done
    if _done:
        return _done is True
    _done = 'skipped'
    if (os.environ.get('MINIKERAS_MALLOC_TUNING', '1') == '0'
            or any(name in os.environ for name in _GLIBC_VARIABLES)):
        return False
    name = ctypes.util.find_library('c')
    try:
        libc = ctypes.CDLL(name) if name else None
        mallopt = libc.mallopt if libc is not None else None
    except (OSError, AttributeError):
        return False
    if mallopt is None:
        return False
    if mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD) and mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD):
        _done = True
    return _done is True
