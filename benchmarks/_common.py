"""Helpers shared by the benchmark scripts (standard library only).

- `machine_info()`: date, CPU model and cores, Python/NumPy/Numba versions,
  the OpenBLAS variables, the minikeras tree (git commit, dirty flag, a hash
  of the kernel sources, since the kernels change often).
- `md_table()`: a markdown table from rows of cells.
- `write_section()`: replace (or append) one marked section of RESULTS.md.

Nothing here imports minikeras, NumPy or Numba at module level, so run.py
can use it without paying for those imports.
"""
import datetime
import hashlib
import os
import platform
import resource
import re
import shlex
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
RESULTS_MD = os.path.join(HERE, 'RESULTS.md')

# Environment variables that change how the BLAS / thread pools behave; a run
# records which of them were set (the harness never sets them itself).
THREAD_ENV_VARS = ('OPENBLAS_CORETYPE', 'OPENBLAS_L2_SIZE', 'OPENBLAS_NUM_THREADS',
                   'OMP_NUM_THREADS', 'OMP_WAIT_POLICY', 'GOMP_SPINCOUNT', 'MKL_NUM_THREADS',
                   'NUMBA_NUM_THREADS', 'NUMBA_THREADING_LAYER', 'NUMBA_CACHE_DIR',
                   'NUMBA_DISABLE_JIT')


def _run_text(cmd, cwd=None):
    try:
        return subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              universal_newlines=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return ''


def cpu_info():
    """(model name, logical CPUs, cores per socket * sockets) from lscpu, with fallbacks."""
    text = _run_text(['lscpu'])
    fields = {}
    for line in text.splitlines():
        if ':' in line:
            key, _, value = line.partition(':')
            fields[key.strip()] = value.strip()
    model = fields.get('Model name') or platform.processor() or platform.machine()
    cpus = fields.get('CPU(s)') or str(os.cpu_count())
    try:
        cores = int(fields['Core(s) per socket']) * int(fields.get('Socket(s)', '1'))
    except (KeyError, ValueError):
        cores = None
    hyper = fields.get('Hypervisor vendor')
    return {'model': model, 'cpus': int(cpus) if str(cpus).isdigit() else cpus,
            'cores': cores, 'hypervisor': hyper,
            'affinity': len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity')
            else None}


def simd_flags():
    """The CPU's vector extensions that matter for float32 kernels, from /proc/cpuinfo."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags'):
                    flags = set(line.split(':', 1)[1].split())
                    break
            else:
                flags = set()
    except OSError:
        return 'unknown'
    wanted = ['sse4_2', 'avx', 'avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl',
              'avx512_vnni', 'avx512_bf16', 'amx_tile']
    have = [f for f in wanted if f in flags]
    if 'avx512f' not in flags:
        avx512 = 'no'
    elif os.environ.get('NUMBA_CPU_NAME') or os.environ.get('NUMBA_CPU_FEATURES'):
        avx512 = 'yes (Numba target set by NUMBA_CPU_*)'
    else:
        avx512 = 'yes (minikeras kernels use 512-bit vectors: kernels/vector_width.py)'
    return '%s; AVX-512: %s' % (', '.join(have) or 'none', avx512)


def tree_info():
    """git commit and dirty flag of the repository, and a hash of the kernel sources."""
    head = _run_text(['git', 'rev-parse', '--short=12', 'HEAD'], cwd=REPO).strip()
    dirty = _run_text(['git', 'status', '--porcelain', '--', 'minikeras'], cwd=REPO).strip()
    digest = hashlib.sha1()
    kdir = os.path.join(REPO, 'minikeras', 'kernels')  # threads.py, conv2d_gemm.py included
    try:
        names = sorted(n for n in os.listdir(kdir) if n.endswith('.py'))
    except OSError:
        names = []
    for name in names:
        with open(os.path.join(kdir, name), 'rb') as f:
            digest.update(name.encode() + b'\0' + f.read() + b'\0')
    return {'git_head': head or None, 'minikeras_dirty': bool(dirty),
            'kernels_sha1': digest.hexdigest()[:12] if names else None}


def thread_env():
    """The thread/BLAS environment variables that are set, name -> value."""
    return {k: os.environ[k] for k in THREAD_ENV_VARS if k in os.environ}


def machine_info(with_libs=True):
    """Everything a results section records about the machine and the software."""
    info = {
        'date': datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z'),
        'cpu': cpu_info(),
        'kernel': platform.release(),
        'python': platform.python_version(),
        'python_executable': sys.executable,
        'thread_env': thread_env(),
        'openblas_coretype_set': 'OPENBLAS_CORETYPE' in os.environ,
        'tree': tree_info(),
    }
    if with_libs:
        info.update(lib_versions())
    return info


def lib_versions():
    """numpy/numba/llvmlite/minikeras versions, numba's threading layer, the BLAS."""
    out = {}
    try:
        import numpy
        out['numpy'] = numpy.__version__
    except ImportError:
        out['numpy'] = None
    try:
        import numba
        import llvmlite
        out['numba'] = numba.__version__
        out['llvmlite'] = llvmlite.__version__
        out['numba_threads'] = numba.config.NUMBA_NUM_THREADS
    except ImportError:
        out['numba'] = None
    try:
        import minikeras
        out['minikeras'] = getattr(minikeras, '__version__', '?')
    except ImportError:
        out['minikeras'] = None
    out['blas'] = blas_info()
    return out


def blas_info():
    """threadpoolctl's view of the BLAS NumPy uses (None without threadpoolctl)."""
    try:
        import numpy  # noqa: F401  (loads the BLAS so threadpoolctl can see it)
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    libs = []
    for lib in threadpool_info():
        if lib.get('user_api') != 'blas':
            continue
        libs.append({'api': lib.get('internal_api'), 'version': lib.get('version'),
                     'threads': lib.get('num_threads'),
                     'architecture': lib.get('architecture'),
                     'threading_layer': lib.get('threading_layer')})
    return libs


def describe_machine(info):
    """Markdown bullet lines for a results section."""
    cpu = info['cpu']
    tree = info['tree']
    env = info['thread_env']
    blas = info.get('blas') or []
    blas_text = ', '.join('%s %s (%s, %s threads)' % (b['api'], b['version'], b['architecture'],
                                                      b['threads']) for b in blas) or 'unknown'
    lines = [
        '- date: %s' % info['date'],
        '- machine: %s, %s logical CPUs (%s cores)%s, Linux %s'
        % (cpu['model'], cpu['cpus'], cpu['cores'],
           ', %s VM' % cpu['hypervisor'] if cpu.get('hypervisor') else '', info['kernel']),
        '- software: Python %s, NumPy %s, Numba %s (llvmlite %s, %s threads), minikeras %s; '
        'BLAS: %s' % (info['python'], info.get('numpy'), info.get('numba'),
                      info.get('llvmlite'), info.get('numba_threads'),
                      info.get('minikeras'), blas_text),
        '- tree: commit %s%s, kernels sha1 %s'
        % (tree['git_head'], ' + uncommitted changes in minikeras/' if tree['minikeras_dirty']
           else '', tree['kernels_sha1']),
        '- OPENBLAS_CORETYPE set: %s%s' % (
            'yes' if info['openblas_coretype_set'] else 'no',
            ' (%s)' % env['OPENBLAS_CORETYPE'] if 'OPENBLAS_CORETYPE' in env else ''),
        '- thread/BLAS environment: %s' % (
            ', '.join('%s=%s' % kv for kv in sorted(env.items())) or 'none set'),
    ]
    return lines


def command_line(argv=None):
    """The exact command line of this process, shell-quoted."""
    argv = sys.argv if argv is None else argv
    script = argv[0]
    try:
        script = os.path.relpath(script, REPO)
    except ValueError:
        pass
    return ' '.join(shlex.quote(a) for a in ['python3', script] + list(argv[1:]))


def fmt(value, digits=2):
    """A table cell: numbers rounded, None as an em dash."""
    if value is None:
        return '—'
    if isinstance(value, float):
        return '%.*f' % (digits, value)
    return str(value)


def md_table(header, rows, align=None):
    """A markdown table; `align` is a string of 'l'/'r' per column (default: first l)."""
    align = align or ('l' + 'r' * (len(header) - 1))
    marks = {'l': '---', 'r': '---:', 'c': ':---:'}
    lines = ['| ' + ' | '.join(header) + ' |',
             '| ' + ' | '.join(marks[a] for a in align) + ' |']
    for row in rows:
        lines.append('| ' + ' | '.join(fmt(c) for c in row) + ' |')
    return '\n'.join(lines)


_HEADER = """# minikeras benchmark results

Written by the scripts in this folder (`--write-results`); each script owns
the section between its BEGIN/END markers and replaces it when re-run. The
numbers are a snapshot of the tree named in each section; see README.md for
what is measured and the targets.
"""


def write_section(name, body, path=RESULTS_MD):
    """Replaces the section `name` of RESULTS.md (or appends it) with `body`."""
    begin = '<!-- BEGIN %s -->' % name
    end = '<!-- END %s -->' % name
    block = '%s\n%s\n%s\n' % (begin, body.rstrip('\n'), end)
    # Several scripts may finish at once: serialise the read-modify-write.
    # The lock file lives in /tmp and is never removed (removing it would
    # let two writers lock two different files).
    lock_path = os.path.join(tempfile.gettempdir(), 'minikeras-results-%s.lock'
                             % hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:8])
    with open(lock_path, 'w') as lock:
        try:
            import fcntl
            fcntl.flock(lock, fcntl.LOCK_EX)
        except ImportError:  # not on POSIX: no lock
            pass
        try:
            with open(path) as f:
                text = f.read()
        except FileNotFoundError:
            text = _HEADER
        pattern = re.compile(re.escape(begin) + r'.*?' + re.escape(end) + r'\n?', re.S)
        if pattern.search(text):
            text = pattern.sub(lambda _: block, text, count=1)
        else:
            text = text.rstrip('\n') + '\n\n' + block
        tmp = '%s.%d.tmp' % (path, os.getpid())
        with open(tmp, 'w') as f:
            f.write(text)
        os.replace(tmp, path)
    return path


# ---------------------------------------------------------------------------
# Load on the machine (other processes compete for the 2 cores of the test VM)
# ---------------------------------------------------------------------------

_HZ = os.sysconf('SC_CLK_TCK')


def cpu_jiffies():
    """(busy, steal) CPU seconds of the whole machine since boot, from /proc/stat."""
    try:
        with open('/proc/stat') as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    # user nice system idle iowait irq softirq steal guest guest_nice
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
    steal = fields[7] if len(fields) > 7 else 0
    busy = sum(fields[:8]) - idle - steal
    return busy / _HZ, steal / _HZ


def own_cpu():
    """CPU seconds of this process and of its waited-for children."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, ch.ru_utime + ch.ru_stime


def other_load(seconds=1.0):
    """Cores kept busy by other processes over `seconds` (None if unknown)."""
    a = cpu_jiffies()
    s0, c0 = own_cpu()
    time.sleep(seconds)
    b = cpu_jiffies()
    s1, c1 = own_cpu()
    if a is None or b is None:
        return None
    return max(0.0, (b[0] - a[0]) - (s1 - s0) - (c1 - c0)) / seconds


def wait_idle(max_wait, threshold=0.3):
    """Waits (up to max_wait s) until other load < threshold cores; returns the last load."""
    deadline = time.monotonic() + max_wait
    load = other_load(1.0)
    while load is not None and load >= threshold and time.monotonic() < deadline:
        time.sleep(min(4.0, max(0.0, deadline - time.monotonic())))
        load = other_load(1.0)
    return load


# ---------------------------------------------------------------------------
# The benchmark model
# ---------------------------------------------------------------------------

def minikeras_seed_model(input_shape=(1, 28, 28)):
    """The seed script's CNN ('th' ordering), compiled as the seed compiles it:
    categorical crossentropy, SGD(lr=0.05, decay=1e-6, momentum=0.9,
    nesterov=True), accuracy."""
    from minikeras.layers import Activation, Convolution2D, Dense, Flatten, MaxPooling2D
    from minikeras.models import Sequential
    from minikeras.optimizers import SGD
    model = Sequential()
    model.add(Convolution2D(4, 5, 5, border_mode='valid', input_shape=input_shape,
                            dim_ordering='th'))
    model.add(Activation('tanh'))
    model.add(Convolution2D(8, 3, 3, border_mode='valid', dim_ordering='th'))
    model.add(Activation('tanh'))
    model.add(MaxPooling2D(pool_size=(2, 2), dim_ordering='th'))
    model.add(Convolution2D(16, 3, 3, border_mode='valid', dim_ordering='th'))
    model.add(Activation('relu'))
    model.add(MaxPooling2D(pool_size=(2, 2), dim_ordering='th'))
    model.add(Flatten())
    model.add(Dense(128, init='normal'))
    model.add(Activation('tanh'))
    model.add(Dense(10, init='normal'))
    model.add(Activation('softmax'))
    model.compile(loss='categorical_crossentropy',
                  optimizer=SGD(lr=0.05, decay=1e-6, momentum=0.9, nesterov=True),
                  metrics=['accuracy'])
    return model
