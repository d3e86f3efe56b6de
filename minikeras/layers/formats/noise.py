"""File formats of the noise layers (`layers/noise.py`)."""
from ...engine.layer_formats import (elementwise_3, LayerFormat, register_format)
from ..noise import AlphaDropout, GaussianDropout, GaussianNoise


register_format(GaussianNoise, LayerFormat(
    config_in=lambda c, major: ('GaussianNoise', {'sigma': float(c['stddev'])}),
    keras3_out=elementwise_3('GaussianNoise', lambda l: {'stddev': float(l.sigma)}),
    role='keep'))
register_format(GaussianDropout, LayerFormat(
    config_in=lambda c, major: ('GaussianDropout', {'p': float(c['rate'])}),
    keras3_out=elementwise_3('GaussianDropout', lambda l: {'rate': float(l.p)}),
    role='keep'))
register_format(AlphaDropout, LayerFormat(
    config_in=lambda c, major: ('AlphaDropout', {
        'rate': float(c['rate']), 'seed': c.get('seed'),
        'noise_shape': c.get('noise_shape')}),
    keras3_out=elementwise_3('AlphaDropout', lambda l: dict(
        {'rate': float(l.rate)}, **({'seed': l.seed} if l.seed is not None else {}))),
    role='keep'))
