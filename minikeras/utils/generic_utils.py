"""Name lookup shared by every module, and the Progbar."""
import sys
import time

import numpy as np

_CUSTOM_OBJECTS = {}


def get_custom_objects():
    """Returns the global dictionary of user-registered custom objects."""
    return _CUSTOM_OBJECTS


class CustomObjectScope(object):
    """Makes extra names visible to every `get()` lookup inside a `with` block.

    # Arguments
        *scopes: dictionaries mapping names to classes or functions.
    """

    def __init__(self, *scopes):
        self.scopes = scopes
        self._backup = None

    def __enter__(self):
        self._backup = dict(_CUSTOM_OBJECTS)
        for scope in self.scopes:
            _CUSTOM_OBJECTS.update(scope)
        return self

    def __exit__(self, *exc):
        _CUSTOM_OBJECTS.clear()
        _CUSTOM_OBJECTS.update(self._backup)


def custom_object_scope(*scopes):
    """A `CustomObjectScope`: inside its `with` block, lookups by name also
    find the given custom classes and functions.

    # Example
    ```python
        with custom_object_scope({'MyLayer': MyLayer}):
            model = load_model('model.h5')
    ```

    # Arguments
        *scopes: dictionaries mapping names to classes or functions.
    """
    return CustomObjectScope(*scopes)


def get_from_module(identifier, module_params, module_name,
                    instantiate=False, kwargs=None):
    """Resolves a string name, a config dict or an object to a member of a module.

    # Arguments
        identifier: a name (string), a config dict (`{'class_name': ..,
            'config': ..}` or Keras 0.x `{'name': .., ...}`), or the object itself.
        module_params: mapping of the module's public names (its `globals()`).
        module_name: what the module holds ('activation', 'loss', ...),
            used in the error message.
        instantiate: whether to instantiate a class found by name.
        kwargs: keyword arguments for that instantiation.

    # Returns
        The resolved object.

    # Raises
        ValueError: naming the unknown identifier and the known names.
    """
    if isinstance(identifier, str):
        found = _CUSTOM_OBJECTS.get(identifier) or _public(module_params).get(identifier)
        if found is None:
            raise ValueError('Unknown %s: %r. Known: %s.'
                             % (module_name, identifier, ', '.join(sorted(_public(module_params)))))
        if instantiate:
            return found(**(kwargs or {}))
        return found
    if isinstance(identifier, dict):
        spec = dict(identifier)
        if 'class_name' in spec:
            name, params = spec['class_name'], dict(spec.get('config') or {})
        else:
            name = spec.pop('name', None)
            params = spec
        found = _CUSTOM_OBJECTS.get(name) or _public(module_params).get(name)
        if found is None:
            raise ValueError('Unknown %s in config: %r. Known: %s.'
                             % (module_name, name, ', '.join(sorted(_public(module_params)))))
        if hasattr(found, 'from_config'):
            return found.from_config(params)
        return found(**params)
    return identifier


def _public(module_params):
    return {k: v for k, v in module_params.items() if not k.startswith('_') and callable(v)}


class Progbar(object):
    """Displays a progress bar, exactly as Keras 1 did (or Keras 2.2).

    # Arguments
        target: total number of steps expected.
        width: width of the bar, in characters.
        verbose: 1 (a bar redrawn in place) or 2 (one line when done).
        interval: minimum visual progress update interval (in seconds).
        keras_2_format: print as Keras 2.2 did: the time per step at the end
            (` - 5s 83us/step`), ETAs as M:SS beyond a minute, ` - 5s - ...`
            lines for verbose 2, and, when the output is not a terminal, each
            update on a line of its own.
    """

    def __init__(self, target, width=30, verbose=1, interval=0.05, keras_2_format=False):
        self.keras_2_format = keras_2_format
        self._dynamic_display = not keras_2_format or (
            hasattr(sys.stdout, 'isatty') and sys.stdout.isatty()) or 'ipykernel' in sys.modules
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.sum_values = {}
        self.unique_values = []
        self.start = time.time()
        self.last_update = 0
        self.total_width = 0
        self.seen_so_far = 0

    def update(self, current, values=None, force=False):
        """Updates the progress bar.

        # Arguments
            current: index of the current step.
            values: list of tuples `(name, value_for_last_step)`; the bar
                shows the running average of each, weighted by step size.
            force: whether to redraw even within `interval` of the last draw.
        """
        step = current - self.seen_so_far
        for name, value in values or []:
            if name not in self.sum_values:
                self.sum_values[name] = [value * step, step]
                self.unique_values.append(name)
            else:
                self.sum_values[name][0] += value * step
                self.sum_values[name][1] += step
        self.seen_so_far = current

        now = time.time()
        if self.verbose == 1:
            # Keras 1 could skip the final draw when it came within `interval` of
            # the previous one, leaving the bar short of its target; the last
            # step is always drawn here.
            if not force and now - self.last_update < self.interval and current < self.target:
                return
            self._draw_bar(current, now)
        elif self.verbose == 2 and current >= self.target:
            line = (' - %.0fs' if self.keras_2_format else '%ds') % (now - self.start)
            for name in self.unique_values:
                # Keras 1 compares the signed average here (not its absolute value).
                line += ' - %s: %s' % (name, _format_average(self._average(name), signed=True))
            sys.stdout.write(line + '\n')
        self.last_update = now

    def add(self, n, values=None):
        """Advances the bar by `n` steps (see `update`)."""
        self.update(self.seen_so_far + n, values)

    def _average(self, name):
        total, count = self.sum_values[name]
        return total / max(1, count)

    def _draw_bar(self, current, now):
        previous_width = self.total_width
        if self._dynamic_display:
            sys.stdout.write('\b' * previous_width)
            sys.stdout.write('\r')
        else:
            sys.stdout.write('\n')

        digits = int(np.floor(np.log10(self.target))) + 1
        bar = '%*d/%*d [' % (digits, current, digits, self.target)
        filled = int(self.width * float(current) / self.target)
        if filled > 0:
            bar += '=' * (filled - 1) + ('>' if current < self.target else '=')
        bar += '.' * (self.width - filled) + ']'
        sys.stdout.write(bar)
        self.total_width = len(bar)

        per_step = (now - self.start) / current if current else 0
        if current < self.target:
            info = ' - ETA: %s' % self._eta(per_step * (self.target - current))
        elif self.keras_2_format:
            info = ' - %.0fs %s' % (now - self.start, _per_step(per_step))
        else:
            info = ' - %ds' % (now - self.start)
        for name in self.unique_values:
            info += ' - %s: %s' % (name, _format_average(self._average(name), signed=False))
        self.total_width += len(info)
        if previous_width > self.total_width:
            info += ' ' * (previous_width - self.total_width)
        sys.stdout.write(info)
        sys.stdout.flush()
        if current >= self.target:
            sys.stdout.write('\n')

    def _eta(self, seconds):
        if self.keras_2_format and seconds > 3600:
            return '%d:%02d:%02d' % (seconds // 3600, (seconds % 3600) // 60, seconds % 60)
        if self.keras_2_format and seconds > 60:
            return '%d:%02d' % (seconds // 60, seconds % 60)
        return '%ds' % seconds


def _per_step(seconds):
    """Keras 2.2's time per step: in s, ms or us."""
    if seconds >= 1:
        return '%.0fs/step' % seconds
    if seconds >= 1e-3:
        return '%.0fms/step' % (seconds * 1e3)
    return '%.0fus/step' % (seconds * 1e6)


def _format_average(value, signed):
    magnitude = value if signed else abs(value)
    return ('%.4f' if magnitude > 1e-3 else '%.4e') % value


def func_dump(func):
    """Serialises a function (its code, defaults and closure) for a config,
    as Keras 1 did: only Python of the same version can load it back."""
    import codecs
    import marshal
    code = codecs.encode(marshal.dumps(func.__code__), 'base64').decode('ascii')
    closure = tuple(cell.cell_contents for cell in func.__closure__) if func.__closure__ else None
    return code, func.__defaults__, closure


def func_load(code, defaults=None, closure=None, globs=None):
    """Rebuilds a function saved by `func_dump`."""
    import codecs
    import marshal
    import types
    if isinstance(code, (tuple, list)):
        code, defaults, closure = code
    if globs is None:
        from .. import backend
        globs = {'K': backend, 'np': np}
    raw = marshal.loads(codecs.decode(code.encode('ascii'), 'base64'))
    cells = tuple(_make_cell(value) for value in closure) if closure else None
    return types.FunctionType(raw, globs, raw.co_name, defaults, cells)


def _make_cell(value):
    return (lambda: value).__closure__[0]
