"""File formats of `Embedding` (`layers/embeddings.py`)."""
from ...engine.layer_formats import (ExportedTensor, keras1_initializer, keras3_initializer,
                                     LayerFormat, register_format)
from ..embeddings import Embedding


# Keras 2/3 configs in

def _embedding_1(c, major):
    return 'Embedding', {
        'input_dim': int(c['input_dim']), 'output_dim': int(c['output_dim']),
        'init': keras1_initializer(c.get('embeddings_initializer'), 'uniform'),
        'mask_zero': bool(c.get('mask_zero', False)),
        'input_length': c.get('input_length')}


# Keras 3 out

def _embedding_3(layer, state, converted):
    config = {'input_dim': layer.input_dim, 'output_dim': layer.output_dim,
              'embeddings_initializer': keras3_initializer(layer.init),
              'mask_zero': bool(layer.mask_zero)}
    return [('Embedding', config, [('embeddings', layer.weights[0])])], \
        ExportedTensor(layer.output_shape)


register_format(Embedding, LayerFormat(config_in=_embedding_1, keras3_out=_embedding_3))
