#!/usr/bin/env python3
"""Runs minikeras and every installed peer on the seed CNN and prints one table.

    python3 benchmarks/run.py                      # everything found, 2 runs each
    python3 benchmarks/run.py --repeat 3 --write-results
    python3 benchmarks/run.py --all --write-results  # also suite.py, kernels.py,
                                                     # suite_kernels.py, cold_start.py

Each system runs in its own process, one at a time: minikeras
(minikeras_bench.py, with this Python) and the peers in peers/ (Keras 3 on
TensorFlow, JAX and PyTorch, and plain PyTorch) with the Python of their
virtual environment under --venvs (missing ones are skipped with a note).
Runs go round-robin (every system once, then every system again, ...) so
that a noisy minute does not land on one system only; of the --repeat runs
of a system the one with the lowest total fit time is kept (all are
listed). Then each system is timed as a whole process, launch to exit, with
`--epochs 1 --no-predict` (best of --repeat).

The table gives each peer's time divided by minikeras' (above 1: minikeras
is faster) and checks the targets of README.md. Other load on the machine is
measured during every run (CPU time not spent by the benchmark process) and
reported, since this harness is often run on a shared 2-core machine.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402

HERE = _common.HERE
PEERS = os.path.join(HERE, 'peers')

# name, venv folder (None: this Python), script, extra environment, modules the
# venv must have, label of the main library for the versions line.
SYSTEMS = [
    ('minikeras', None, os.path.join(HERE, 'minikeras_bench.py'), {}, ('minikeras', 'numba')),
    ('keras3-tensorflow', 'keras-tf', os.path.join(PEERS, 'keras3_peer.py'),
     {'KERAS_BACKEND': 'tensorflow'}, ('keras', 'tensorflow')),
    ('keras3-jax', 'keras-jax', os.path.join(PEERS, 'keras3_peer.py'),
     {'KERAS_BACKEND': 'jax'}, ('keras', 'jax')),
    ('keras3-torch', 'keras-torch', os.path.join(PEERS, 'keras3_peer.py'),
     {'KERAS_BACKEND': 'torch'}, ('keras', 'torch')),
    ('pytorch', 'keras-torch', os.path.join(PEERS, 'torch_peer.py'), {}, ('torch',)),
    # Diagnostic variant, run only when named in --systems: NumPy's BLAS
    # limited to one thread, so that its threads do not compete with Numba's.
    ('minikeras-blas1', None, os.path.join(HERE, 'minikeras_bench.py'), {},
     ('minikeras', 'numba', 'threadpoolctl')),
]
EXTRA_ARGS = {'minikeras-blas1': ['--blas-threads', '1']}
OPTIONAL = {'minikeras-blas1'}
KNOWN_VENVS = {s[1] for s in SYSTEMS if s[1]}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n', 1)[1])
    p.add_argument('--venvs', default='/work/venvs',
                   help='folder holding the peer venvs keras-tf, keras-jax, keras-torch '
                        '(default /work/venvs)')
    p.add_argument('--python', default=sys.executable,
                   help='Python that runs minikeras (default: this one)')
    p.add_argument('--systems', default=None,
                   help='comma-separated systems to run (default: all but the optional '
                        'ones): ' + ', '.join(s[0] for s in SYSTEMS) + '; minikeras-blas1 '
                        '(optional) is minikeras with --blas-threads 1')
    p.add_argument('--repeat', type=int, default=2,
                   help='runs per system; the best is kept (default 2)')
    p.add_argument('--wall-repeat', type=int, default=None,
                   help='whole-process 1-epoch runs per system (default: --repeat)')
    p.add_argument('--no-wall', action='store_true',
                   help='skip the whole-process 1-epoch wall-time runs')
    p.add_argument('--samples', type=int, default=42000, help='samples (default 42000)')
    p.add_argument('--epochs', type=int, default=3,
                   help='epochs per run (default 3: one first and two warm epochs)')
    p.add_argument('--threads', type=int, default=None,
                   help='passed to every system as --threads (default: library defaults)')
    p.add_argument('--timeout', type=float, default=1800,
                   help='seconds before a run is killed (default 1800)')
    p.add_argument('--wait-idle', type=float, default=20, metavar='SECONDS',
                   help='before each run, wait up to this long for other load on the '
                        'machine to drop below 0.3 cores (default 20; 0: do not wait)')
    p.add_argument('--json', metavar='PATH',
                   help='also write every run and the summary as JSON to PATH')
    p.add_argument('--log-dir', metavar='DIR',
                   help="keep each run's stderr here (default: a new folder in /tmp)")
    p.add_argument('--write-results', action='store_true',
                   help='replace the run.py section of benchmarks/RESULTS.md')
    p.add_argument('--all', action='store_true',
                   help='then also run suite.py, kernels.py, suite_kernels.py and '
                        'cold_start.py (with --write-results if given)')
    return p.parse_args(argv)


# ---------------------------------------------------------------------------
# Systems and runs
# ---------------------------------------------------------------------------

def find_systems(args):
    """[(name, python, script, env)], and notes about what was skipped."""
    wanted = None
    if args.systems:
        wanted = [s.strip() for s in args.systems.split(',') if s.strip()]
        unknown = set(wanted) - {s[0] for s in SYSTEMS}
        if unknown:
            raise SystemExit('run.py: unknown system(s) %s; known: %s'
                             % (', '.join(sorted(unknown)), ', '.join(s[0] for s in SYSTEMS)))
    found, notes = [], []
    for name, venv, script, env, modules in SYSTEMS:
        if (name not in wanted) if wanted is not None else (name in OPTIONAL):
            continue
        if venv is None:
            python = args.python
        else:
            python = os.path.join(args.venvs, venv, 'bin', 'python')
            if not os.path.exists(python):
                notes.append('%s skipped: no venv %s' % (name, os.path.join(args.venvs, venv)))
                continue
        check = ('import importlib.util as u, sys; '
                 'sys.exit(0 if all(u.find_spec(m) for m in %r) else 1)' % (modules,))
        try:
            ok = subprocess.run([python, '-c', check], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, timeout=60).returncode == 0
        except (OSError, subprocess.SubprocessError):
            ok = False
        if not ok:
            notes.append('%s skipped: %s cannot import %s' % (name, python, ', '.join(modules)))
            continue
        found.append((name, python, script, env))
    if os.path.isdir(args.venvs) and wanted is None:
        for entry in sorted(os.listdir(args.venvs)):
            if entry not in KNOWN_VENVS and os.path.isdir(os.path.join(args.venvs, entry)):
                notes.append('venv %s ignored: not one of the peer venvs (%s)'
                             % (entry, ', '.join(sorted(KNOWN_VENVS))))
    return found, notes


def run_once(system, extra_args, args, log_dir, tag):
    """Runs one system once; returns a record with its JSON line and the run's context."""
    name, python, script, env_extra = system
    cmd = [python, script] + extra_args + EXTRA_ARGS.get(name, [])
    env = dict(os.environ)
    env.update(env_extra)
    if args.wait_idle > 0:
        load_before = _common.wait_idle(args.wait_idle)
    else:
        load_before = _common.other_load(0.5)
    log_path = os.path.join(log_dir, '%s.%s.stderr' % (name, tag))
    record = {'system': name, 'tag': tag, 'cmd': cmd, 'env': env_extra,
              'load_before': None if load_before is None else round(load_before, 2),
              'stderr': log_path}
    jiff0 = _common.cpu_jiffies()
    own0 = _common.own_cpu()
    t0 = time.perf_counter()
    with open(log_path, 'w') as err:
        try:
            proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=err, env=env,
                                  universal_newlines=True, timeout=args.timeout,
                                  cwd=os.path.dirname(script))
        except subprocess.TimeoutExpired:
            record.update(ok=False, error='timed out after %.0f s' % args.timeout)
            return record
    wall = time.perf_counter() - t0
    jiff1 = _common.cpu_jiffies()
    own1 = _common.own_cpu()
    record['wall_s'] = round(wall, 4)
    child_cpu = own1[1] - own0[1]
    record['child_cpu_s'] = round(child_cpu, 3)
    if jiff0 and jiff1:
        other = (jiff1[0] - jiff0[0]) - child_cpu - (own1[0] - own0[0])
        record['other_load'] = round(max(0.0, other) / wall, 2)
        record['steal'] = round((jiff1[1] - jiff0[1]) / wall, 2)
    lines = [l for l in proc.stdout.splitlines() if l.strip()]
    if proc.returncode != 0 or not lines:
        record.update(ok=False, error='exit status %d (see %s)' % (proc.returncode, log_path))
        return record
    try:
        record['result'] = json.loads(lines[-1])
    except ValueError:
        record.update(ok=False, error='no JSON line on stdout (see %s)' % log_path)
        return record
    record['ok'] = True
    return record


def fit_seconds(record):
    res = record['result']
    fit = (res.get('extra') or {}).get('fit_s')
    if fit is None:
        fit = (res.get('first_epoch_s') or 0) + sum(res.get('warm_epochs') or [])
    return fit


def versions_text(result):
    v = dict(result.get('versions') or {})
    v.pop('python', None)
    return ', '.join('%s %s' % kv for kv in v.items())


# ---------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------

def ratio(peer, mine):
    if peer is None or mine is None or mine <= 0:
        return None
    return peer / mine


def summarise(systems, runs, walls, args):
    """{'best': name -> record, 'wall': name -> (best, all), ...}."""
    best, wall = {}, {}
    for name, *_ in systems:
        good = [r for r in runs if r['system'] == name and r.get('ok')]
        if good:
            best[name] = min(good, key=fit_seconds)
        times = [r['wall_s'] for r in walls if r['system'] == name and r.get('ok')]
        if times:
            wall[name] = (min(times), times)
    return best, wall


def targets(best, args):
    """[(target, measured, pass/fail/—)] for the targets that run.py can check."""
    out = []
    mk = best.get('minikeras')
    keras = {n: r['result'] for n, r in best.items() if n.startswith('keras3-')}
    peers = {n: r['result'] for n, r in best.items() if n != 'minikeras'}
    if mk is None:
        return out
    mk = mk['result']

    def check(label, key, limit=0.5):
        vals = {n: r.get(key) for n, r in keras.items() if r.get(key)}
        if not vals or not mk.get(key):
            out.append((label, 'no real-Keras measurement', '—'))
            return
        fastest = min(vals, key=vals.get)
        frac = mk[key] / vals[fastest]
        out.append((label, '%.3f s vs %s %.3f s: %.2fx' % (mk[key], fastest, vals[fastest], frac),
                    'PASS' if frac <= limit else 'FAIL'))

    check('warm epoch <= 0.5x fastest real Keras', 'warm_epoch_s')
    check('predict b32 <= 0.5x fastest real Keras', 'predict_s_b32')
    check('predict b100 <= 0.5x fastest real Keras', 'predict_s_b100')
    rss = {n: r.get('peak_rss_mb') for n, r in peers.items() if r.get('peak_rss_mb')}
    if rss and mk.get('peak_rss_mb'):
        low = min(rss, key=rss.get)
        verdict = 'PASS' if mk['peak_rss_mb'] < rss[low] else 'FAIL'
        if args.samples != 42000:
            verdict = '— (target is for 42,000 samples)'
        out.append(('peak RSS below the lowest peer',
                    '%.0f MB vs %s %.0f MB' % (mk['peak_rss_mb'], low, rss[low]), verdict))
    return out


def report(info, systems, notes, runs, walls, best, wall, args, elapsed):
    n = args.samples
    lines = []
    lines.append('## Side by side: minikeras and the peers (run.py)')
    lines.append('')
    lines.extend(_common.describe_machine(info))
    lines.append('- command: `%s`' % info['command'])
    lines.append('- %d samples (%d train / %d validation), %d epochs per run, batch 100, '
                 'threads: %s; %d run(s) per system, the one with the lowest total fit '
                 'time kept; whole-process wall time: best of %s; harness time %.0f s'
                 % (n, n - int(n * 0.2), int(n * 0.2), args.epochs,
                    args.threads or 'library defaults', args.repeat,
                    'skipped' if args.no_wall else (args.wall_repeat or args.repeat), elapsed))
    loads = [r.get('other_load') for r in runs + walls if r.get('other_load') is not None]
    if loads:
        lines.append('- other load on the machine during the runs: median %.2f, max %.2f '
                     'cores (CPU time not spent by the benchmark process, divided by its '
                     'wall time)' % (sorted(loads)[len(loads) // 2], max(loads)))
    for note in notes:
        lines.append('- note: %s' % note)
    lines.append('')
    mk = best.get('minikeras')
    mkr = mk['result'] if mk else {}
    header = ['system', 'warm epoch s', 'first epoch s', 'predict %s b32 s' % format(n, ','),
              'predict %s b100 s' % format(n, ','), '1-epoch process wall s', 'peak RSS MB',
              'warm epoch ratio', 'predict b32 ratio', 'predict b100 ratio']
    rows = []
    for name, *_ in systems:
        rec = best.get(name)
        if rec is None:
            rows.append([name, 'failed'] + [None] * (len(header) - 2))
            continue
        r = rec['result']
        rows.append([
            name, r.get('warm_epoch_s'), r.get('first_epoch_s'), r.get('predict_s_b32'),
            r.get('predict_s_b100'), wall[name][0] if name in wall else None,
            '%.0f' % r['peak_rss_mb'] if r.get('peak_rss_mb') else None,
            ratio(r.get('warm_epoch_s'), mkr.get('warm_epoch_s')),
            ratio(r.get('predict_s_b32'), mkr.get('predict_s_b32')),
            ratio(r.get('predict_s_b100'), mkr.get('predict_s_b100')),
        ])
    lines.append(_common.md_table(header, rows))
    lines.append('')
    lines.append('Ratios are peer time / minikeras time: above 1 means minikeras is faster. '
                 'Seconds; an epoch includes its validation pass.')
    lines.append('')
    tg = targets(best, args)
    if tg:
        lines.append('Targets (README.md; the cold-start ones are measured by cold_start.py):')
        lines.append('')
        lines.append(_common.md_table(['target', 'measured', 'verdict'], tg, 'lll'))
        lines.append('')
    lines.append('Every run (`*` = kept; load = other processes, in cores, during the run):')
    lines.append('')
    rrows = []
    for name, *_ in systems:
        for rec in [r for r in runs if r['system'] == name]:
            mark = '*' if best.get(name) is rec else ''
            if not rec.get('ok'):
                rrows.append([name + mark, rec['tag'], rec.get('error'), None, None, None,
                              None, rec.get('load_before'), rec.get('other_load')])
                continue
            r = rec['result']
            rrows.append([name + mark, rec['tag'], r.get('first_epoch_s'),
                          ' / '.join('%.2f' % t for t in r.get('warm_epochs') or []),
                          r.get('predict_s_b32'), r.get('predict_s_b100'),
                          '%.0f' % r['peak_rss_mb'] if r.get('peak_rss_mb') else None,
                          rec.get('load_before'), rec.get('other_load')])
        wl = [r for r in walls if r['system'] == name]
        if wl:
            rrows.append([name, '1-epoch wall',
                          ' / '.join('%.2f' % r['wall_s'] if r.get('ok') else 'failed'
                                     for r in wl), None, None, None, None,
                          ' / '.join(_common.fmt(r.get('load_before')) for r in wl),
                          ' / '.join(_common.fmt(r.get('other_load')) for r in wl)])
    lines.append(_common.md_table(['system', 'run', 'first epoch s', 'warm epochs s',
                                   'predict b32 s', 'predict b100 s', 'peak RSS MB',
                                   'load before', 'load during'], rrows))
    lines.append('')
    lines.append('Versions: ' + '; '.join(
        '%s: %s' % (name, versions_text(best[name]['result'])) for name, *_ in systems
        if name in best) + '.')
    mkx = mkr.get('extra') or {}
    if mkx:
        lines.append('minikeras: Numba threading layer %s, %s Numba threads, thread control: '
                     '%s; %s Numba cache files existed before the kept run.'
                     % (mkx.get('numba_threading_layer'), mkx.get('numba_threads'),
                        mkx.get('thread_control'), mkx.get('numba_cache_files_before')))
    return '\n'.join(lines) + '\n'


def main(argv=None):
    args = parse_args(argv)
    t_start = time.perf_counter()
    info = _common.machine_info()
    info['command'] = _common.command_line()
    systems, notes = find_systems(args)
    if not systems:
        raise SystemExit('run.py: nothing to run (%s)' % '; '.join(notes))
    log_dir = args.log_dir or os.path.join(
        '/tmp', 'minikeras-bench-%s' % time.strftime('%Y%m%d-%H%M%S'))
    os.makedirs(log_dir, exist_ok=True)
    print('run.py: %s; logs in %s' % (', '.join(s[0] for s in systems), log_dir),
          file=sys.stderr)
    for note in notes:
        print('run.py: note: %s' % note, file=sys.stderr)

    common = ['--samples', str(args.samples)]
    if args.threads:
        common += ['--threads', str(args.threads)]
    runs, walls = [], []
    for k in range(args.repeat):
        for system in systems:
            rec = run_once(system, common + ['--epochs', str(args.epochs)], args, log_dir,
                           'run%d' % (k + 1))
            runs.append(rec)
            _progress(rec)
    if not args.no_wall:
        for k in range(args.wall_repeat or args.repeat):
            for system in systems:
                rec = run_once(system, common + ['--epochs', '1', '--no-predict'], args,
                               log_dir, 'wall%d' % (k + 1))
                walls.append(rec)
                _progress(rec)
    best, wall = summarise(systems, runs, walls, args)
    text = report(info, systems, notes, runs, walls, best, wall, args,
                  time.perf_counter() - t_start)
    print(text)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'info': info, 'runs': runs, 'walls': walls,
                       'best': {n: r['result'] for n, r in best.items()},
                       'wall_best_s': {n: w[0] for n, w in wall.items()}}, f, indent=1)
    with open(os.path.join(log_dir, 'runs.json'), 'w') as f:
        json.dump({'info': info, 'runs': runs, 'walls': walls}, f, indent=1)
    if args.write_results:
        path = _common.write_section('run.py', text)
        print('run.py: wrote %s' % path, file=sys.stderr)
    status = 0
    if args.all:
        extra = ['--write-results'] if args.write_results else []
        for script in ('suite.py', 'kernels.py', 'suite_kernels.py', 'cold_start.py'):
            print('run.py: running %s' % script, file=sys.stderr)
            rc = subprocess.run([args.python, os.path.join(HERE, script)] + extra).returncode
            status = status or rc
    return status


def _progress(rec):
    if rec.get('ok'):
        r = rec['result']
        msg = 'first %s, warm %s, predict %s / %s, RSS %s, wall %.1f s' % (
            r.get('first_epoch_s'), r.get('warm_epochs'), r.get('predict_s_b32'),
            r.get('predict_s_b100'), r.get('peak_rss_mb'), rec['wall_s'])
    else:
        msg = 'FAILED: %s' % rec.get('error')
    print('run.py: %-18s %-6s load %s/%s  %s' % (rec['system'], rec['tag'],
                                                  rec.get('load_before'),
                                                  rec.get('other_load'), msg),
          file=sys.stderr, flush=True)


if __name__ == '__main__':
    sys.exit(main())
