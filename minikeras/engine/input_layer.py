"""`Input()` and its layer: where a model's data enters the graph."""
from .base_layer import Layer, get_uid
from .graph import Node


class InputLayer(Layer):
    """The layer behind `Input()`: it holds a model input's shape and passes
    the data through."""

    is_model_input = True

    def __init__(self, input_shape=None, batch_input_shape=None, input_dtype=None, name=None,
                 input_tensor=None):
        if input_tensor is not None and batch_input_shape is None and input_shape is None:
            batch_input_shape = input_tensor.shape
        if name is None:
            name = 'input_%d' % get_uid('input')
        super(InputLayer, self).__init__(input_shape=input_shape,
                                         batch_input_shape=batch_input_shape,
                                         input_dtype=input_dtype, name=name)
        if self.batch_input_shape is None:
            raise ValueError('InputLayer %s needs input_shape or batch_input_shape' % self.name)
        self.built = True
        self.input_shape = self.output_shape = self.batch_input_shape
        # Input(tensor=t): a model input that, in the whole graph, is computed
        # from t (models stop at it; K.function walks on through it)
        sources = [] if input_tensor is None else [input_tensor]
        Node(self, sources, self.batch_input_shape).output_tensors[0].dtype = self.input_dtype

    def forward(self, x, training=False, need_input_grad=True):
        return x, lambda dy: dy

    def get_config(self):
        return {'batch_input_shape': self.batch_input_shape, 'input_dtype': self.input_dtype,
                'name': self.name}


def Input(shape=None, batch_shape=None, name=None, dtype='float32', tensor=None):
    """Creates a Keras tensor: the entry point of a functional model.

    # Example
    ```python
        x = Input(shape=(784,))
        y = Dense(10, activation='softmax')(Dense(64)(x))
        model = Model(input=x, output=y)
    ```

    # Arguments
        shape: shape tuple of one sample, without the batch axis.
        batch_shape: the full shape, batch axis included (None for any size).
        name: the input's name.
        dtype: the data type ('float32').
        tensor: optional graph tensor (an expression, a placeholder) or
            Keras variable the input is computed from: a model built on it starts here, while
            `K.function` and `K.gradients` reach back through it.
    """
    if tensor is not None:
        import numpy as np
        from .graph import KerasTensor
        if isinstance(tensor, np.ndarray) and tensor.dtype.kind == 'f':
            from .operation import variable_tensor
            tensor = variable_tensor(tensor)
        if not isinstance(tensor, KerasTensor):
            raise TypeError('Input(tensor=...) expects a Keras tensor (placeholder or '
                            'expression), got %r' % (tensor,))
        if shape is not None and batch_shape is None:
            batch_shape = (tensor.shape[0],) + tuple(shape)
        layer = InputLayer(batch_input_shape=batch_shape or tensor.shape, input_dtype=dtype,
                           name=name, input_tensor=tensor)
        return layer.inbound_nodes[0].output_tensors[0]
    if shape is None and batch_shape is None:
        raise ValueError('Input() needs shape (without the batch axis) or batch_shape')
    layer = InputLayer(input_shape=shape, batch_input_shape=batch_shape, input_dtype=dtype,
                       name=name)
    return layer.inbound_nodes[0].output_tensors[0]


_LEARNING_PHASE = []


def learning_phase_tensor(create=True):
    """The graph's learning-phase input (a scalar: 0 test, 1 train), made on
    first use; None when it was never asked for and `create` is False."""
    if not _LEARNING_PHASE and create:
        layer = InputLayer(batch_input_shape=(), input_dtype='int32',
                           name='keras_learning_phase')
        layer.is_learning_phase = True
        _LEARNING_PHASE.append(layer.inbound_nodes[0].output_tensors[0])
    return _LEARNING_PHASE[0] if _LEARNING_PHASE else None
