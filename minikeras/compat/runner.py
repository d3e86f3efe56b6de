"""The `minikeras` command: `minikeras run SCRIPT.py [ARGS...]`."""
import argparse
import builtins
import os
import runpy
import sys
import types

from ..utils import allocator
from . import aliases, float_slices, neighbours, py2, version

USAGE = '''minikeras run [--data PATH] [--keras-version {0.3,1.2.2,2}] SCRIPT.py [ARGS...]

Runs a legacy Keras script unchanged, with `import keras` resolved to minikeras.'''


def _parser():
    parser = argparse.ArgumentParser(prog='minikeras',
                                     description='Run legacy Keras 0.x/1.x scripts on minikeras.')
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')
    run = commands.add_parser('run', help='run a legacy Keras script', usage=USAGE)
    run.add_argument('--data', metavar='PATH',
                     help='MNIST source for `data.load_data` and keras.datasets.mnist: a folder '
                          'of <label>.<n>.jpg images, train.csv, mnist.npz or IDX files')
    run.add_argument('--keras-version', metavar='VERSION',
                     help='the Keras generation the script was written for: 0.3, 1.2.2 or 2 '
                          '(also MINIKERAS_KERAS_VERSION; by default 2 when the script uses '
                          'Keras 2 spellings, else 1.2.2)')
    run.add_argument('script', help='the script to run')
    run.add_argument('args', nargs=argparse.REMAINDER, help='arguments passed to the script')
    export = commands.add_parser(
        'export', help='convert a saved model to a Keras 3 .h5 file',
        description='Loads MODEL.h5 (saved by minikeras, Keras 1, 2 or 3) and writes OUT.h5, '
                    'a legacy .h5 file that keras.models.load_model opens in Keras 3. A model '
                    'with channels-first ("th") image layers becomes channels-last: give the '
                    'Keras 3 model x.transpose(0, 2, 3, 1).')
    export.add_argument('model', metavar='MODEL.h5', help='the model file to convert')
    export.add_argument('out', metavar='OUT.h5', help='the Keras 3 file to write')
    export.add_argument('--original-backend', metavar='BACKEND',
                        help="'theano' for a Keras 1 Theano file, whose kernels must be flipped")
    return parser


def export_model(model_path, out_path, original_backend=None):
    """`minikeras export`: load_model(model_path), then export_to_keras3(out_path)."""
    import warnings
    from ..engine import saving
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        model = saving.load_model(model_path, original_backend=original_backend)
    converted = saving.export_to_keras3(model, out_path)
    print('Wrote %s (Keras 3 legacy .h5, %d layers).' % (out_path, len(model.layers)))
    if converted:
        print('The model was converted from channels-first to channels-last: give the Keras 3 '
              'model inputs x.transpose(0, 2, 3, 1).')


def run_script(script, args=(), data=None, keras_version=None):
    """Runs `script` as `__main__` with `keras` resolved to minikeras.

    # Arguments
        script: path of the Python file.
        args: its command-line arguments (`sys.argv[1:]`).
        data: optional MNIST source path for the `data` shim.
        keras_version: optional '0.3', '1.2.2' or '2.2.4'; without it (and
            without MINIKERAS_KERAS_VERSION), '2.2.4' when the script's
            source uses Keras 2 spellings (`keras2.guess_generation`).
    """
    if not os.path.isfile(script):
        raise SystemExit('minikeras run: no such script: %s' % script)
    script = os.path.abspath(script)
    translation = _translate_python2(script)
    if keras_version:
        os.environ['MINIKERAS_KERAS_VERSION'] = version.normalize_version(keras_version)
    elif not os.environ.get('MINIKERAS_KERAS_VERSION'):
        _guess_keras_version(script)
    from . import data_shim
    if data:
        if not os.path.exists(data):
            raise SystemExit('minikeras run: --data path does not exist: %s' % data)
        # The variable carries the choice into subprocesses the script may start.
        os.environ['MINIKERAS_MNIST'] = os.path.abspath(data)
        data_shim.configure(path=os.path.abspath(data))
    data_shim.configure(script_dir=os.path.dirname(script))
    aliases.install()
    neighbours.install(os.path.dirname(script))
    py2.install_local_translation(os.path.dirname(script))
    allocator.keep_freed_memory()  # at once: a script may run K.function, never fit
    from ..kernels import cache_is_warm, prepare
    if not cache_is_warm():
        print('minikeras: first run on this machine: the kernels compile during the first '
              'batch (a few seconds, partly in a background process; cached for later runs)',
              file=sys.stderr)
        prepare.start_in_background()
    sys.argv = [script] + list(args)
    sys.path.insert(0, os.path.dirname(script))
    code = translation.code if translation is not None else None
    if not version.is_keras_2():
        source = translation.source if translation is not None else \
            py2.decode_source(open(script, 'rb').read())
        code = float_slices.compile_script(source, script) or code
    if code is None:
        runpy.run_path(script, run_name='__main__')
    else:
        _run_code_as_main(code, script)


def _translate_python2(script):
    """None for a Python 3 script; else its translation, announced on stderr."""
    with open(script, 'rb') as source:
        source_bytes = source.read()
    try:
        translation = py2.translate(source_bytes, script)
    except py2.TranslationError as error:
        raise SystemExit('minikeras run: %s' % error)
    if translation is not None:
        print(translation.notice(os.path.basename(script)), file=sys.stderr)
    return translation


def _run_code_as_main(code, script):
    """Runs `code` as the module `__main__`, as runpy.run_path does for a file."""
    module = types.ModuleType('__main__')
    module.__dict__.update(__file__=script, __cached__=None, __loader__=None,
                           __package__=None, __spec__=None, __builtins__=builtins)
    module.__dict__[float_slices.HELPER] = float_slices.slice_bound
    previous = sys.modules.get('__main__')
    sys.modules['__main__'] = module
    try:
        exec(code, module.__dict__)
    finally:
        if previous is not None:
            sys.modules['__main__'] = previous


def _guess_keras_version(script):
    from . import keras2
    with open(script, 'rb') as f:
        source = f.read()
    generation, reason = keras2.guess_generation(source)
    if generation is not None:
        os.environ['MINIKERAS_KERAS_VERSION'] = generation
        print('minikeras: Keras 2 script (%s): Keras 2.2.4 defaults (--keras-version 1.2.2 to '
              'change)' % reason, file=sys.stderr)


def main(argv=None):
    """Entry point of the `minikeras` console script."""
    options = _parser().parse_args(argv)
    if options.command == 'export':
        try:
            export_model(options.model, options.out, options.original_backend)
        except (OSError, ValueError, TypeError) as error:
            raise SystemExit('minikeras export: %s' % error)
        return 0
    if options.command != 'run':
        _parser().print_help()
        return 2
    try:
        keras_version = options.keras_version and version.normalize_version(options.keras_version)
    except ValueError as error:
        raise SystemExit('minikeras run: %s' % error)
    run_script(options.script, options.args, options.data, keras_version)
    return 0


if __name__ == '__main__':
    sys.exit(main())
