"""What minikeras does not provide from Keras 1.2.2, and what to use instead.

Looking up one of these names (as `keras.callbacks.TensorBoard`, `from
keras.optimizers import TFOptimizer`, or a module listed in MODULES) raises
`NotSupportedError`, an ImportError whose message says so and names the
nearest supported alternative, instead of Python's bare "cannot import name".
"""

# Every Keras 1.2.2 module and layer is provided today; the tables stay, for
# names a later Keras generation adds before minikeras does.
MODULES = {
}

_NOT_YET = ('is not provided by minikeras yet (see the support table in its README); '
            'nearest: %s')

LAYERS = {
    # Keras 2.2.4 layers not provided yet.
    'CuDNNLSTM': _NOT_YET % 'LSTM(units, recurrent_activation=\'sigmoid\') (the same cell '
                            'with sigmoid gates; its bias is not split in two)',
    'CuDNNGRU': _NOT_YET % 'GRU(units, reset_after=True, recurrent_activation=\'sigmoid\') '
                           '(the same cell; its bias is not split in two)',
}


OTHER_NAMES = {
    'callbacks': {
        'TensorBoard': 'TensorBoard needs TensorFlow; nearest: CSVLogger, or History',
        'RemoteMonitor': 'RemoteMonitor posts over the network; nearest: CSVLogger',
    },
    'optimizers': {
        'TFOptimizer': 'TFOptimizer wraps a TensorFlow optimizer; nearest: the Keras optimizers '
                       '(SGD, Adam, ...)',
    },
}


class NotSupportedError(ImportError):
    """A Keras 1.2.2 name or module that minikeras does not provide."""


def module_error(module):
    """The error for `keras.<module>`, or None when the module is not listed."""
    for name, reason in MODULES.items():
        if module == name or module.startswith(name + '.'):
            return NotSupportedError('keras.%s: %s' % (module, reason))
    return None


def name_error(module, name):
    """The error for `keras.<module>.<name>`, or None when the name is not listed."""
    if module.startswith('layers'):
        reason = LAYERS.get(name)
    else:
        reason = OTHER_NAMES.get(module, {}).get(name)
    if reason is None:
        return None
    return NotSupportedError('keras.%s.%s: %s' % (module, name, reason))


def module_getattr(module):
    """A module-level `__getattr__` that explains unsupported names."""
    def __getattr__(name):
        error = name_error(module, name)
        if error is not None:
            raise error
        raise AttributeError('module minikeras.%s has no attribute %r' % (module, name))
    return __getattr__
