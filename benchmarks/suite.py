#!/usr/bin/env python3
"""The model suite side by side: minikeras and Keras 3 (TF, JAX, torch), one table.

    python3 benchmarks/suite.py                         # every model of suite_models.py
    python3 benchmarks/suite.py --models mnist_cnn,mnist_mlp --repeat 2
    python3 benchmarks/suite.py --write-results         # replace its section of RESULTS.md

For each model of suite_models.MODELS (or --models), every system runs
suite_bench.py in its own process (minikeras with this Python, each Keras 3
backend with the Python of its venv under --venvs), round-robin, --repeat
times; the run with the lowest warm time is kept. The table gives each
system's warm epoch (or, for 'gan' models, warm training step), first epoch,
peak RSS, and minikeras' time as a fraction of the fastest Keras 3 backend
(the targets: at most 0.5, the seed at most 0.33; peak memory below the
leanest peer). Other load on the machine is measured during every run.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common  # noqa: E402
import run as run_module  # noqa: E402
import suite_models  # noqa: E402

HERE = _common.HERE
SCRIPT = os.path.join(HERE, 'suite_bench.py')
SYSTEMS = ('minikeras', 'keras3-tensorflow', 'keras3-jax', 'keras3-torch')
# Targets: minikeras' warm time as a fraction of the fastest Keras 3 backend's.
LIMIT = {'seed': 0.33}
DEFAULT_LIMIT = 0.5


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n', 1)[1])
    p.add_argument('--models', default=','.join(suite_models.MODELS),
                   help='comma-separated models (default: all): ' + ', '.join(suite_models.MODELS))
    p.add_argument('--systems', default=','.join(SYSTEMS),
                   help='comma-separated systems (default: %s)' % ','.join(SYSTEMS))
    p.add_argument('--venvs', default='/work/venvs')
    p.add_argument('--python', default=sys.executable)
    p.add_argument('--repeat', type=int, default=1, help='runs per model and system (default 1)')
    p.add_argument('--epochs', type=int, default=None,
                   help="epochs (steps) per run, at least 2 (the warm time is the median "
                        "after the first); default: each model's")
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--timeout', type=float, default=1800)
    p.add_argument('--wait-idle', type=float, default=10, metavar='SECONDS',
                   help='wait up to this long before each run for other load to drop')
    p.add_argument('--busy-cores', type=int, default=0, metavar='K',
                   help='keep K cores busy with spinning processes during the runs, to '
                        'measure under load (default 0)')
    p.add_argument('--json', metavar='PATH')
    p.add_argument('--log-dir', metavar='DIR')
    p.add_argument('--title', default='Model suite side by side (suite.py)')
    p.add_argument('--section', default='suite.py',
                   help='RESULTS.md section to replace with --write-results')
    p.add_argument('--write-results', action='store_true')
    p.add_argument('--no-floor', dest='floor', action='store_false',
                   help="skip each model's sgemm floor (sgemm_floor.py)")
    args = p.parse_args(argv)
    if args.epochs is not None and args.epochs < 2:
        p.error('--epochs must be at least 2: the warm time is the median of the epochs '
                'after the first (got %d)' % args.epochs)
    return args


def find_systems(args):
    """[(name, python, script, env)] for the wanted systems, and notes."""
    ra = run_module.parse_args(['--venvs', args.venvs, '--python', args.python,
                                '--systems', args.systems])
    found, notes = run_module.find_systems(ra)
    systems = []
    for name, python, _, env in found:
        env = dict(env)
        systems.append((name, python, SCRIPT, env))
    return systems, notes


def main(argv=None):
    args = parse_args(argv)
    t_start = time.perf_counter()
    info = _common.machine_info()
    info['command'] = _common.command_line()
    models = [m.strip() for m in args.models.split(',') if m.strip()]
    unknown = [m for m in models if m not in suite_models.MODELS]
    if unknown:
        raise SystemExit('suite.py: unknown model(s) %s; known: %s'
                         % (', '.join(unknown), ', '.join(suite_models.MODELS)))
    systems, notes = find_systems(args)
    log_dir = args.log_dir or os.path.join(
        '/tmp', 'minikeras-suite-%s' % time.strftime('%Y%m%d-%H%M%S'))
    os.makedirs(log_dir, exist_ok=True)
    print('suite.py: %s x %s; logs in %s' % (', '.join(models),
                                             ', '.join(s[0] for s in systems), log_dir),
          file=sys.stderr)
    # Each spinner stops by itself when this process is gone.
    spin = 'import os\nparent = os.getppid()\nwhile os.getppid() == parent:\n    pass\n'
    busy = [subprocess.Popen([sys.executable, '-c', spin]) for _ in range(args.busy_cores)]
    try:
        runs = run_all(models, systems, args, log_dir)
        if args.floor:
            runs += run_floors(models, args, log_dir)
    finally:
        for proc in busy:
            proc.kill()
            proc.wait()
    text = report(info, models, systems, notes, runs, args, time.perf_counter() - t_start)
    print(text)
    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'info': info, 'runs': runs}, f, indent=1)
    if args.write_results:
        path = _common.write_section(args.section, text)
        print('suite.py: wrote %s' % path, file=sys.stderr)
    return 0


def run_all(models, systems, args, log_dir):
    runs = []
    for model in models:
        for k in range(args.repeat):
            for system in systems:
                extra = ['--model', model, '--system',
                         'minikeras' if system[0] == 'minikeras' else 'keras3']
                if args.epochs:
                    extra += ['--epochs', str(args.epochs)]
                if args.threads:
                    extra += ['--threads', str(args.threads)]
                rec = run_module.run_once(system, extra, args, log_dir,
                                          '%s.run%d' % (model, k + 1))
                rec['model'] = model
                runs.append(rec)
                _progress(rec)
    return runs


def run_floors(models, args, log_dir):
    """Each model's sgemm floor, once, with this Python (under the same
    --busy-cores load as the runs)."""
    floor = ('sgemm-floor', args.python, SCRIPT, {})
    runs = []
    for model in models:
        rec = run_module.run_once(floor, ['--model', model, '--system', 'sgemm-floor'], args,
                                  log_dir, model + '.floor')
        rec['model'] = model
        runs.append(rec)
        _progress(rec)
    return runs


def best_runs(models, systems, runs):
    best = {}
    for model in models:
        for name, *_ in systems:
            good = [r for r in runs if r['model'] == model and r['system'] == name
                    and r.get('ok') and r['result'].get('warm_s')]
            if good:
                best[model, name] = min(good, key=lambda r: r['result']['warm_s'])
    return best


def report(info, models, systems, notes, runs, args, elapsed):
    best = best_runs(models, systems, runs)
    names = [s[0] for s in systems]
    lines = ['## %s' % args.title, '']
    lines.extend(_common.describe_machine(info))
    lines.append('- CPU flags: %s' % _common.simd_flags())
    lines.append('- command: `%s`' % info['command'])
    lines.append('- %d run(s) per model and system, the lowest warm time kept; threads: %s; '
                 'harness time %.0f s' % (args.repeat, args.threads or 'library defaults',
                                          elapsed))
    if args.busy_cores:
        lines.append('- under load: %d spinning process(es) kept %d core(s) busy during every '
                     'run (the load columns include them)' % (args.busy_cores, args.busy_cores))
    loads = [r.get('other_load') for r in runs if r.get('other_load') is not None]
    if loads:
        lines.append('- other load on the machine during the runs: median %.2f, max %.2f cores'
                     % (sorted(loads)[len(loads) // 2], max(loads)))
    for note in notes:
        lines.append('- note: %s' % note)
    lines.append('')
    lines.append('Models (suite_models.py; synthetic data):')
    lines.append('')
    for model in models:
        m = suite_models.MODELS[model]
        what = ('%s samples, batch %d, validation_split %s' % (format(m.samples, ','), m.batch,
                                                             m.validation_split)
                if m.kind == 'fit' else 'one forward and input gradient on a batch of %d'
                % m.batch if m.kind == 'input_gradient'
                else 'one training step on a batch of %d' % m.batch)
        lines.append('- `%s`: %s; %s' % (model, m.source, what))
    lines.append('')
    floors, winograd_floors, cold_floors = {}, {}, {}
    for rec in runs:
        if rec['system'] == 'sgemm-floor' and rec.get('ok'):
            floors[rec['model']] = rec['result']['warm_s']
            extra = rec['result']['extra']
            winograd_floors[rec['model']] = extra.get('winograd_floor_s')
            cold_floors[rec['model']] = extra.get('winograd_floor_weights_cold_s')
    header = ['model', 'unit'] + ['%s warm s' % n for n in names] + \
        ['fastest Keras 3', 'minikeras / fastest', 'target', 'verdict', 'minikeras RSS MB',
         'leanest peer RSS MB']
    if floors:
        header += ['sgemm floor s', 'floor / fastest', 'Winograd floor s',
                   'Winograd floor / fastest', 'the same, weights cold / fastest']
    rows = []
    for model in models:
        m = suite_models.MODELS[model]
        row = [model, 'epoch' if m.kind == 'fit' else 'step']
        for name in names:
            rec = best.get((model, name))
            row.append(rec['result']['warm_s'] if rec else 'failed')
        keras = {n: best[model, n]['result']['warm_s'] for n in names
                 if n.startswith('keras3-') and (model, n) in best}
        mk = best.get((model, 'minikeras'))
        limit = LIMIT.get(model, DEFAULT_LIMIT)
        if keras and mk:
            fastest = min(keras, key=keras.get)
            frac = mk['result']['warm_s'] / keras[fastest]
            row += [fastest, '%.2f' % frac, '<= %.2f' % limit, 'PASS' if frac <= limit else 'FAIL']
        else:
            row += [None, None, '<= %.2f' % limit, '—']
        rss = {n: best[model, n]['result']['peak_rss_mb'] for n in names
               if n != 'minikeras' and (model, n) in best}
        row.append('%.0f' % mk['result']['peak_rss_mb'] if mk else None)
        if rss:
            low = min(rss, key=rss.get)
            row.append('%.0f (%s)%s' % (rss[low], low, '' if not mk else
                                        (' PASS' if mk['result']['peak_rss_mb'] < rss[low]
                                         else ' FAIL')))
        else:
            row.append(None)
        if floors:
            floor = floors.get(model)
            row.append(floor)
            row.append('%.2f' % (floor / keras[fastest]) if floor and keras and mk else None)
            fewest = winograd_floors.get(model)
            row.append(fewest)
            row.append('%.2f' % (fewest / keras[fastest]) if fewest and keras and mk else None)
            cold = cold_floors.get(model)
            row.append('%.2f' % (cold / keras[fastest]) if cold and keras and mk else None)
        rows.append(row)
    lines.append(_common.md_table(header, rows))
    lines.append('')
    lines.append('Warm: median of the epochs (steps) after the first. "minikeras / fastest": '
                 "minikeras' warm time divided by the fastest Keras 3 backend's (below 1: "
                 'minikeras is faster).')
    if floors:
        lines.append('"sgemm floor": the time of the model\'s matrix products alone (every Dense '
                     'and convolution, forward and gradients, as im2col products at the '
                     'epoch\'s batch sizes), NumPy\'s float32 matmul at its best of 1 thread, '
                     'every thread, or the rows split over two threads (sgemm_floor.py); only '
                     'fewer multiplications (Winograd, folded upsampling) go below it. A '
                     '"floor / fastest" above the target means the target asks for more than '
                     'this machine\'s sgemm gives. "Winograd floor": the same products with '
                     'Winograd\'s fewer multiplications for every 3x3 stride-1 convolution where '
                     'the fidelity bound allows them (F(2x2, 3x3) everywhere, F(4x4, 3x3) for '
                     'gradients), each operation at its fastest way; the transforms come on top. '
                     '"Weights cold" (the VGG16 step): the same products, each timed with its '
                     'weights out of the caches, as one pass on one image finds them (every '
                     'weight is read once; fc1\'s 411 MB push the rest out).')
    lines.append('')
    lines.append('Every run (load = other processes, in cores, before / during the run):')
    lines.append('')
    rrows = []
    for rec in runs:
        mark = '*' if best.get((rec['model'], rec['system'])) is rec else ''
        if not rec.get('ok'):
            rrows.append([rec['model'], rec['system'] + mark, rec.get('error'), None, None,
                          rec.get('load_before'), rec.get('other_load')])
            continue
        r = rec['result']
        rrows.append([rec['model'], rec['system'] + mark, r.get('first_s'),
                      ' / '.join('%.3f' % t for t in r.get('warm') or []),
                      '%.0f' % r['peak_rss_mb'], rec.get('load_before'), rec.get('other_load')])
    lines.append(_common.md_table(['model', 'system', 'first s', 'warm s', 'peak RSS MB',
                                   'load before', 'load during'], rrows))
    lines.append('')
    versions = {}
    for (model, name), rec in sorted(best.items()):
        versions.setdefault(name, run_module.versions_text(rec['result']))
    lines.append('Versions: ' + '; '.join('%s: %s' % kv for kv in sorted(versions.items())) + '.')
    return '\n'.join(lines) + '\n'


def _progress(rec):
    if rec.get('ok'):
        r = rec['result']
        msg = 'first %s, warm %s, RSS %s' % (r.get('first_s'), r.get('warm'), r.get('peak_rss_mb'))
    else:
        msg = 'FAILED: %s' % rec.get('error')
    print('suite.py: %-12s %-18s load %s/%s  %s' % (rec['model'], rec['system'],
                                                    rec.get('load_before'),
                                                    rec.get('other_load'), msg),
          file=sys.stderr, flush=True)


if __name__ == '__main__':
    sys.exit(main())
