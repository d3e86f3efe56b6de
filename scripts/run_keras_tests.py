#!/usr/bin/env python
"""Runs Keras 1.2.2's own test suite against minikeras (issue 15, item 6).

The suite cannot be committed here; this script takes it from a local git
mirror of keras-team/keras (no network), unpacks `tests/` at tag 1.2.2 into
a temporary folder, adds a conftest.py that makes `import keras` resolve to
minikeras, runs pytest once over it, and prints pass/fail/error/skip counts
per module:

    python scripts/run_keras_tests.py [--mirror PATH] [--keep DIR] [MODULE ...]

MODULE filters by substring (e.g. `layers/test_core`). The modules that
cannot apply to minikeras are left out, each for the reason in `LEFT_OUT`
(the README's "Keras 1.2.2's test suite" section lists them too).
"""
import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree

DEFAULT_MIRROR = '/work/.mirror/keras-team+keras/repo'
TAG = '1.2.2'

LEFT_OUT = {
    'tests/keras/backend/test_backends.py':
        'compares the Theano backend with the TensorFlow one; minikeras is neither',
    'tests/keras/test_multiprocessing.py':
        'fit_generator with worker processes (pickle_safe=True); minikeras draws batches '
        'in the training thread',
    'tests/keras/datasets/test_datasets.py': 'downloads the datasets',
    'tests/keras/test_sparse.py': 'sparse tensors as model inputs',
}

CONFTEST = '''\
"""Written by minikeras's scripts/run_keras_tests.py: `keras` is minikeras."""
import numpy as np
import pytest

from minikeras.compat import aliases

aliases.install()


@pytest.fixture(autouse=True)
def _seeded():
    np.random.seed(1337)
    yield
'''


def unpack(mirror, tag, folder):
    """Writes `tests/` of `tag` from the git mirror into `folder`."""
    archive = subprocess.run(['git', '-C', mirror, 'archive', tag, 'tests'],
                             stdout=subprocess.PIPE, check=True).stdout
    subprocess.run(['tar', '-x', '-C', folder], input=archive, check=True)
    with open(os.path.join(folder, 'conftest.py'), 'w') as f:
        f.write(CONFTEST)


def selected_modules(folder, patterns):
    modules = []
    for root, _, files in os.walk(os.path.join(folder, 'tests')):
        for name in files:
            if name.startswith('test_') and name.endswith('.py'):
                path = os.path.relpath(os.path.join(root, name), folder)
                if not patterns or any(p in path for p in patterns):
                    modules.append(path)
    return sorted(modules)


def module_of(testcase):
    """'tests/keras/layers/test_core.py' for a junit testcase."""
    path = testcase.get('file')
    if path:
        return path
    dotted = testcase.get('classname', '')
    parts = dotted.split('.')
    while parts and parts[-1][:1].isupper():   # a test class, not a module
        parts.pop()
    return '/'.join(parts) + '.py'


def count(junit_path):
    """{module: Counter(passed=, failed=, error=, skipped=)} from a junit file,
    and {module: [(test, outcome, first line of the message)]} for the rest."""
    counts = collections.defaultdict(collections.Counter)
    problems = collections.defaultdict(list)
    for testcase in ElementTree.parse(junit_path).iter('testcase'):
        module = module_of(testcase)
        outcome = 'passed'
        message = ''
        for child in testcase:
            if child.tag in ('failure', 'error', 'skipped'):
                outcome = {'failure': 'failed'}.get(child.tag, child.tag)
                message = (child.get('message') or child.text or '').strip().splitlines()
                message = message[0][:160] if message else ''
        counts[module][outcome] += 1
        if outcome != 'passed':
            problems[module].append((testcase.get('name'), outcome, message))
    return counts, problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('modules', nargs='*', help='substrings selecting test modules')
    parser.add_argument('--mirror', default=DEFAULT_MIRROR,
                        help='git mirror of keras-team/keras (default: %(default)s)')
    parser.add_argument('--keep', metavar='DIR',
                        help='unpack into DIR and keep it (default: a temporary folder)')
    parser.add_argument('--details', action='store_true',
                        help='list every failing test with its first message line')
    parser.add_argument('--timeout', type=float, default=3600,
                        help='seconds before the pytest run is stopped')
    args = parser.parse_args(argv)

    folder = args.keep or tempfile.mkdtemp(prefix='keras122_tests_')
    os.makedirs(folder, exist_ok=True)
    try:
        unpack(args.mirror, TAG, folder)
        modules = [m for m in selected_modules(folder, args.modules) if m not in LEFT_OUT]
        junit = os.path.join(folder, 'junit.xml')
        command = [sys.executable, '-m', 'pytest', '-q', '-p', 'no:cacheprovider',
                   '--continue-on-collection-errors', '--junitxml', junit, '-o', 'junit_family=xunit1',
                   '--rootdir', folder,
                   ] + modules
        # The suite was written for Keras 1.2.2's default image ordering, 'tf'
        # (minikeras defaults to 'th', the Theano-era scripts' ordering).
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE='1', KERAS_IMAGE_DIM_ORDERING='tf')
        subprocess.run(command, cwd=folder, stdout=subprocess.DEVNULL, env=env,
                       timeout=args.timeout)
        counts, problems = count(junit)
        totals = collections.Counter()
        print('%-52s %6s %6s %6s %6s' % ('module', 'pass', 'fail', 'error', 'skip'))
        for module in sorted(set(modules) | set(counts)):
            c = counts.get(module, collections.Counter())
            totals.update(c)
            print('%-52s %6d %6d %6d %6d' % (module, c['passed'], c['failed'], c['error'],
                                             c['skipped']))
        print('%-52s %6d %6d %6d %6d' % ('total', totals['passed'], totals['failed'],
                                         totals['error'], totals['skipped']))
        print('\nleft out:')
        for module, reason in sorted(LEFT_OUT.items()):
            print('  %s: %s' % (module, reason))
        if args.details:
            print()
            for module in sorted(problems):
                for name, outcome, message in problems[module]:
                    print('%s::%s %s: %s' % (module, name, outcome.upper(), message))
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
