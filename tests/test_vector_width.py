"""The kernels' vector width (minikeras/kernels/vector_width.py), each case in a
fresh process, since the setting must come before Numba's first compilation."""
import json
import os
import subprocess
import sys

from llvmlite import binding as llvm

HOST_HAS_AVX512 = bool(llvm.get_host_cpu_features().get('avx512f', False))

# Compiles a multiply-add loop after importing minikeras and reports Numba's
# target features and whether the loop's machine code uses 512-bit registers.
PROBE = r'''
import json, sys
PRELUDE
import minikeras  # noqa: F401
import numba, numpy as np

@numba.njit(fastmath={'contract'})
def axpy(a, x, y):
    for i in range(y.shape[0]):
        y[i] += a * x[i]

x = np.ones(1024, np.float32)
axpy(np.float32(2), x, x.copy())
asm = next(iter(axpy.inspect_asm().values()))
print(json.dumps({'features': numba.config.CPU_FEATURES, 'zmm': 'zmm' in asm}))
'''


def _probe(prelude='', env_extra=None):
    env = dict(os.environ)
    env.pop('NUMBA_CPU_FEATURES', None)
    env.pop('NUMBA_CPU_NAME', None)
    env.update(env_extra or {})
    out = subprocess.run([sys.executable, '-c', PROBE.replace('PRELUDE', prelude)],
                         env=env, capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_avx512_cpus_compile_with_512_bit_vectors_and_others_as_before():
    got = _probe()
    if HOST_HAS_AVX512:
        assert got['features'].endswith(',-prefer-256-bit')
        assert got['zmm'], 'a contiguous float32 loop should use zmm registers'
    else:
        assert got['features'] is None
        assert not got['zmm']


def test_a_target_the_user_chose_is_left_alone():
    host = llvm.get_host_cpu_features().flatten()
    got = _probe(env_extra={'NUMBA_CPU_FEATURES': host})
    assert got['features'] == host


def test_numba_already_compiling_in_the_process_is_left_alone():
    # Once Numba has compiled something, its code generator holds the target:
    # changing the setting then would only mislabel the disk cache.
    got = _probe(prelude='import numba\nnumba.njit(lambda v: v + 1)(1)\n')
    assert got['features'] is None
