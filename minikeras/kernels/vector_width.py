"""The SIMD width the kernels are compiled for.

LLVM compiles for the host CPU but, on CPUs with AVX-512, limits its
auto-vectorised loops to 256-bit vectors (the `prefer-256-bit` tuning of
Intel's server cores, once meant to avoid the clock drop of wide
instructions on Skylake-SP). Our kernels are long, contiguous
multiply-add loops: on an Emerald Rapids Xeon 512-bit vectors cut the
seed's, mnist_cnn's and cifar10_cnn's training CPU time by 10-25%
(benchmarks/RESULTS.md). So where the CPU has AVX-512F, Numba is asked
for the host's features without that preference. CPUs without AVX-512
(AMD Zen 3, older Intel) compile exactly as before.

The choice is part of Numba's cache key (its target features), so a
kernel cached under one setting is never loaded under the other.
"""
import numba
from numba.core import registry

WITHOUT_256_BIT_PREFERENCE = '-prefer-256-bit'


def use_full_vector_width():
    """Let Numba's kernels use the CPU's widest vectors (512 bits with AVX-512F).

    Does nothing where the user chose Numba's target (NUMBA_CPU_NAME or
    NUMBA_CPU_FEATURES), where the CPU has no AVX-512F, or where Numba
    already compiled something in this process (its code generator then
    holds the old features, and the cache key with them).

    # Returns
        The width in bits the kernels are compiled for: 512, or None where
        Numba's own choice stands.
    """
    from llvmlite import binding as llvm

    if numba.config.CPU_NAME is not None or numba.config.CPU_FEATURES is not None:
        return None
    if '_toplevel_target_context' in vars(registry.cpu_target):
        return None
    features = llvm.get_host_cpu_features()
    if not features.get('avx512f', False):
        return None
    numba.config.CPU_FEATURES = features.flatten() + ',' + WITHOUT_256_BIT_PREFERENCE
    return 512


def full_vector_width_in_use():
    """Whether this process compiles its kernels with `use_full_vector_width`'s
    setting (for benchmark reports)."""
    return WITHOUT_256_BIT_PREFERENCE in (numba.config.CPU_FEATURES or '')
