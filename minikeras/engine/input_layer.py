"""`Input()` and its layer: where a model's data enters the graph."""
from .base_layer import Layer, get_uid
from .graph import Node


class InputLayer(Layer):
    """The layer behind `Input()`: it holds a model input's shape and passes
    the data through."""

    def __init__(self, input_shape=None, batch_input_shape=None, input_dtype=None, name=None):
        if name is None:
            name = 'input_%d' % get_uid('input')
        super(InputLayer, self).__init__(input_shape=input_shape,
                                         batch_input_shape=batch_input_shape,
                                         input_dtype=input_dtype, name=name)
        if self.batch_input_shape is None:
            raise ValueError('InputLayer %s needs input_shape or batch_input_shape' % self.name)
        self.built = True
        self.input_shape = self.output_shape = self.batch_input_shape
        Node(self, [], self.batch_input_shape)

    def forward(self, x, training=False, need_input_grad=True):
        return x, lambda dy: dy

    def get_config(self):
        return {'batch_input_shape': self.batch_input_shape, 'input_dtype': self.input_dtype,
                'name': self.name}


def Input(shape=None, batch_shape=None, name=None, dtype='float32'):
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
    """
    if shape is None and batch_shape is None:
        raise ValueError('Input() needs shape (without the batch axis) or batch_shape')
    layer = InputLayer(input_shape=shape, batch_input_shape=batch_shape, input_dtype=dtype,
                       name=name)
    return layer.inbound_nodes[0].output_tensors[0]
