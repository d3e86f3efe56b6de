"""minikeras against real Keras 3: the golden numbers of tests/fixtures/fidelity/.

The fixtures were written by real Keras 3.15 on TensorFlow (float32) with
`tests/fixtures/fidelity/make_fidelity_fixtures.py`; this file needs neither
Keras nor TensorFlow. For every case, `manifest.json` gives the Keras 3 call
that produced the numbers and the minikeras layer, loss or optimizer (with
Keras 1 arguments) that must compute the same thing. Where Keras 3's
definition differs from Keras 1.2.2's, the case names an `adjust`ment, and
`ADJUSTMENTS` below applies that documented difference explicitly (each one
is a row of docs/keras1-differences.md); a case with an unknown adjustment
fails rather than passing silently.

Tolerances. Forward values and losses: rtol 1e-5; gradients and weights
after optimizer steps: rtol 1e-4 (float32 throughout). The absolute part
only matters for entries near zero: Keras (oneDNN/Eigen) and minikeras
(Numba, BLAS) add the same float32 terms in different orders, so an output
that is a sum of terms of size S carries an error of a few ulps of S (about
1e-7 * S), however small the sum itself is. Hence `atol` is a small multiple
of the array's typical magnitude: 1e-6 times its largest entry for forward
values, 1e-5 times for gradients (ten times looser, like rtol: a backward
pass sums over the batch and over the output positions as well); for the
objectives, whose cases put a few huge entries (clipped targets) beside
ordinary ones, the median magnitude stands in for the largest.
"""
import json
import os

import numpy as np
import pytest

from minikeras import layers as mk_layers
from minikeras import objectives, optimizers
from seed_model import seed_model

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'fidelity')
with open(os.path.join(FIXTURES, 'manifest.json')) as _f:
    MANIFEST = json.load(_f)
CASES = MANIFEST['cases']

FORWARD_RTOL, FORWARD_ATOL = 1e-5, 1e-6     # atol: times the reference's largest entry
GRAD_RTOL, GRAD_ATOL = 1e-4, 1e-5
EPSILON = 1e-7                               # Keras's fuzz factor (Keras 1 and 3 alike)

_families = {}


def fixture(case):
    """The arrays of one case, as a dict without the `<case>/` prefix."""
    family = case['family']
    if family not in _families:
        with np.load(os.path.join(FIXTURES, family + '.npz')) as data:
            _families[family] = {key: data[key] for key in data.files}
    prefix = case['name'] + '/'
    return {key[len(prefix):]: value for key, value in _families[family].items()
            if key.startswith(prefix)}


def cases(kind):
    return pytest.mark.parametrize('case', [c for c in CASES if c['kind'] == kind],
                                   ids=lambda c: c['name'])


def assert_close(got, want, rtol, atol_factor, what, scale=None):
    got = np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, '%s: shape %s, Keras 3 has %s' % (what, got.shape, want.shape)
    if scale is None:
        scale = float(np.max(np.abs(want))) if want.size else 0.
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol_factor * scale, err_msg=what)


# -- the documented differences (docs/keras1-differences.md), applied explicitly ------------
#
# Each adjustment takes the case's minikeras setup (a dict of what the test is about to
# use) and returns it changed so that minikeras, with Keras 1's definition, is compared with
# the very quantity Keras 3 computed.

def _hard_sigmoid_dense(setup):
    # Keras 3: hard_sigmoid(z) = relu6(z + 3) / 6 = clip(z / 6 + 0.5); Keras 1:
    # clip(0.2 z + 0.5) = Keras 3's at 1.2 z. So minikeras with W / 1.2 and b / 1.2 computes
    # Keras 3's output; by the chain rule its weight gradients are 1.2 times Keras 3's.
    setup['weights'] = [w / np.float32(1.2) for w in setup['weights']]
    setup['weight_grads'] = [g * np.float32(1.2) for g in setup['weight_grads']]
    return setup


def _hard_sigmoid_input(setup):
    # Same identity on an Activation layer: feed x / 1.2; the input gradient is 1.2 times.
    setup['inputs'] = [x / np.float32(1.2) for x in setup['inputs']]
    setup['input_grads'] = [g * np.float32(1.2) for g in setup['input_grads']]
    return setup


def _activity_penalty_per_sample(setup):
    # Keras 3 divides an activity regularizer's penalty by the batch size; Keras 1 adds it whole.
    setup['penalty'] = setup['penalty'] * setup['inputs'][0].shape[0]
    return setup


def _batchnorm_mode2(setup):
    # Keras 1 mode 2 normalises with the batch statistics like Keras 3 in training, but never
    # updates the moving averages: they must stay at their start values.
    setup['after'] = list(setup['weights'])
    return setup


def _hinge_binary_labels(setup):
    # Keras 3 maps 0/1 labels to -1/+1 before a hinge loss; Keras 1 takes labels as they are.
    setup['y_true'] = 2. * setup['y_true'] - 1.
    return setup


def _cosine_sum_to_mean(setup):
    # Keras 3's cosine_similarity is -sum(l2n(t) * l2n(p)); Keras 1's cosine_proximity is -mean.
    d = setup['y_pred'].shape[-1]
    setup['loss'] = setup['loss'] / d
    setup['grad'] = setup['grad'] / d
    return setup


def _sparse_clip_before_normalising(setup):
    # Keras 3 (like Keras 1.2.2 on TensorFlow) computes -log(c_y / sum(c)), c = clip(p, eps,
    # 1 - eps); minikeras (like Keras 1.2.2 on Theano) -log(clip(p_y / sum(p), eps, 1 - eps)).
    # They agree on c whenever nothing is clipped after normalising, as here: give minikeras c,
    # and zero the gradient where the clip of p stops it.
    p = setup['y_pred']
    inside = (p >= EPSILON) & (p <= 1. - EPSILON)
    setup['y_pred'] = np.clip(p, EPSILON, 1. - EPSILON).astype('float32')
    setup['grad_mask'] = inside
    return setup


def _adagrad_initial_accumulator(setup):
    # Keras 3 starts the accumulator at initial_accumulator_value=0.1 and divides by
    # sqrt(a + epsilon) (epsilon=1e-7); Keras 1 starts at 0 and divides by sqrt(a) + epsilon.
    # Since a only grows by g**2, sqrt(a + 1e-7) from a start of 0.1 is sqrt(a') with a'
    # starting at 0.1 + 1e-7: minikeras with epsilon=0 and that starting state.
    setup['kwargs']['epsilon'] = 0.
    setup['state'] = [np.full(p.shape, 0.1 + 1e-7, dtype='float32') for p in setup['params']]
    return setup


def _nadam_schedule(setup):
    # Keras 3's momentum schedule is beta_1 * (1 - 0.5 * 0.96 ** t); Keras 1's is
    # beta_1 * (1 - 0.5 * 0.96 ** (t * schedule_decay)), schedule_decay=0.004 by default.
    setup['kwargs']['schedule_decay'] = 1.
    return setup


ADJUSTMENTS = {
    'hard_sigmoid_dense': _hard_sigmoid_dense,
    'hard_sigmoid_input': _hard_sigmoid_input,
    'activity_penalty_per_sample': _activity_penalty_per_sample,
    'batchnorm_mode2': _batchnorm_mode2,
    'hinge_binary_labels': _hinge_binary_labels,
    'cosine_sum_to_mean': _cosine_sum_to_mean,
    'sparse_clip_before_normalising': _sparse_clip_before_normalising,
    'adagrad_initial_accumulator': _adagrad_initial_accumulator,
    'nadam_schedule': _nadam_schedule,
}


def adjusted(case, setup):
    name = case.get('adjust')
    if name is None:
        return setup
    assert name in ADJUSTMENTS, 'case %s names an unknown adjustment %r' % (case['name'], name)
    return ADJUSTMENTS[name](setup)


def test_every_adjustment_is_used_and_documented():
    used = {c['adjust'] for c in CASES if c.get('adjust')}
    assert used == set(ADJUSTMENTS)
    doc = os.path.join(os.path.dirname(FIXTURES), '..', '..', 'docs', 'keras1-differences.md')
    with open(doc) as f:
        text = f.read()
    for name in ADJUSTMENTS:
        assert '`%s`' % name in text, 'adjustment %s is not in docs/keras1-differences.md' % name


# -- layers ------------------------------------------------------------------------------------

@cases('layer')
def test_layer_matches_keras3(case):
    arrays = fixture(case)
    multi = case['inputs'] > 1
    n_trainable = case['trainable_weights']
    setup = {
        'inputs': [arrays['x%d' % i] for i in range(case['inputs'])] if multi else [arrays['x']],
        'input_grads': ([arrays['dx%d' % i] for i in range(case['inputs'])] if multi else
                        [arrays['dx']] if 'dx' in arrays else []),
        'weights': [arrays['w_%d' % i] for i in range(case['weights'])],
        'weight_grads': [arrays['grad_%d' % i] for i in range(n_trainable)],
        'after': ([arrays['after_%d' % i] for i in range(case['weights'])]
                  if case['has_after'] else None),
        'penalty': case['keras3_losses'][0] if case['keras3_losses'] else None,
    }
    setup = adjusted(case, setup)
    spec = case['minikeras']
    layer = getattr(mk_layers, spec['class'])(**spec['kwargs'])
    shapes = [(None,) + x.shape[1:] for x in setup['inputs']]
    layer.connect(shapes if multi else shapes[0])
    assert len(layer.weights) == case['weights'] and len(layer.gradients) == n_trainable
    layer.set_weights(setup['weights'])
    start = layer.get_weights()
    x = setup['inputs'] if multi else setup['inputs'][0]
    what = '%s (Keras 3: %s)' % (case['name'], case['keras3'])

    y, backprop = layer.forward(x, training=case['training'])
    assert_close(y, arrays['y'], FORWARD_RTOL, FORWARD_ATOL, what + ': output')
    if not case['training']:
        assert_close(layer.call(x), arrays['y'], FORWARD_RTOL, FORWARD_ATOL, what + ': call()')
    for g in layer.gradients:
        g.fill(0.)
    dx = backprop(arrays['dy'])
    dxs = list(dx) if multi else [dx]
    if case['int_input']:
        # Keras has no gradient for integer indices; minikeras returns zeros.
        assert not np.any(dxs[0])
    else:
        for i, (got, want) in enumerate(zip(dxs, setup['input_grads'])):
            assert_close(got, want, GRAD_RTOL, GRAD_ATOL, what + ': input gradient %d' % i)
    for i, (got, want) in enumerate(zip(layer.gradients, setup['weight_grads'])):
        assert_close(got, want, GRAD_RTOL, GRAD_ATOL,
                     what + ': gradient of %s' % layer.weight_names[i])
    if setup['after'] is not None:
        for name, got, want in zip(layer.weight_names, layer.get_weights(), setup['after']):
            assert_close(got, want, FORWARD_RTOL, FORWARD_ATOL, what + ': %s after' % name)
    else:
        for name, got, want in zip(layer.weight_names, layer.get_weights(), start):
            np.testing.assert_array_equal(got, want, err_msg=what + ': %s changed' % name)
    if setup['penalty'] is not None:
        assert layer.activity_regularizer(y) == pytest.approx(setup['penalty'], rel=FORWARD_RTOL)


# -- objectives --------------------------------------------------------------------------------

@cases('objective')
def test_objective_matches_keras3(case):
    arrays = fixture(case)
    setup = adjusted(case, {'y_true': arrays['y_true'], 'y_pred': arrays['y_pred'],
                            'loss': arrays['loss'], 'grad': arrays['grad'], 'grad_mask': None})
    loss = objectives.get(case['minikeras'])
    what = '%s (Keras 3: %s)' % (case['name'], case['keras3'])
    got = loss(setup['y_true'], setup['y_pred'])
    grad = loss.backward(setup['y_true'], setup['y_pred'])
    if setup['grad_mask'] is not None:
        grad = np.where(setup['grad_mask'], grad, 0.)
    assert_close(got, setup['loss'], FORWARD_RTOL, FORWARD_ATOL, what + ': loss',
                 scale=float(np.median(np.abs(setup['loss']))))
    assert_close(grad, setup['grad'], GRAD_RTOL, GRAD_ATOL, what + ': gradient',
                 scale=float(np.median(np.abs(setup['grad']))))


# -- optimizers --------------------------------------------------------------------------------

@cases('optimizer')
def test_optimizer_matches_keras3(case):
    arrays = fixture(case)
    spec = case['minikeras']
    setup = adjusted(case, {'kwargs': dict(spec['kwargs']), 'state': None,
                            'params': [arrays['p%d' % i] for i in range(case['params'])]})
    optimizer = getattr(optimizers, spec['class'])(**setup['kwargs'])
    if setup['state'] is not None:
        optimizer.set_weights(setup['state'])
    params = [p.copy() for p in setup['params']]
    what = '%s (Keras 3: %s)' % (case['name'], case['keras3'])
    for step in range(case['steps']):
        grads = [arrays['g%d_%d' % (step, i)] for i in range(case['params'])]
        optimizer.update(params, grads)
        for i, p in enumerate(params):
            # The parameters are O(1) and move by O(lr) per step.
            assert_close(p, arrays['p%d_after%d' % (i, step)], GRAD_RTOL, GRAD_ATOL,
                         what + ': parameter %d after step %d' % (i, step + 1))


# -- the legacy seed script's model --------------------------------------------------------------

SEED_CASE = next(c for c in CASES if c['kind'] == 'seed_model')


def seed_with_fixture_weights():
    """The seed's model with the weights of its Keras 3 fixture."""
    model = seed_model(compile=False)
    arrays = fixture(SEED_CASE)
    model.set_weights([arrays['w_%d' % i] for i in range(SEED_CASE['weights'])])
    return model, arrays


def seed_inputs(arrays):
    # Keras 3 ran channels_last (N, 28, 28, 1); the seed's 'th' input is (N, 1, 28, 28).
    return np.ascontiguousarray(arrays['x'].transpose(0, 3, 1, 2)), arrays['y_true']


def test_seed_model_prediction_matches_keras3():
    model, arrays = seed_with_fixture_weights()
    x, _ = seed_inputs(arrays)
    assert_close(model.predict(x, batch_size=16), arrays['y_pred'], FORWARD_RTOL, FORWARD_ATOL,
                 'seed model prediction')


def test_seed_model_gradients_match_keras3():
    model, arrays = seed_with_fixture_weights()
    x, y_true = seed_inputs(arrays)
    out, backprops = x, []
    for layer in model.layers:
        out, backprop = layer.forward(out, training=True)
        backprops.append(backprop)
    loss = objectives.categorical_crossentropy
    assert float(np.mean(loss(y_true, out))) == pytest.approx(float(arrays['loss'][0]),
                                                              rel=FORWARD_RTOL)
    grad = loss.backward(y_true, out) / np.float32(len(x))   # of the batch mean
    for layer in model.layers:
        for g in layer.gradients:
            g.fill(0.)
    for backprop in reversed(backprops):
        grad = backprop(grad)
    grads = [g for layer in model.layers for g in layer.gradients]
    assert len(grads) == SEED_CASE['weights']
    for i, g in enumerate(grads):
        assert_close(g, arrays['grad_%d' % i], GRAD_RTOL, GRAD_ATOL,
                     'seed model: gradient of weight %d' % i)


def test_seed_model_training_steps_match_keras3():
    model, arrays = seed_with_fixture_weights()
    x, y_true = seed_inputs(arrays)
    spec = SEED_CASE['minikeras']['optimizer']
    model.compile(loss='categorical_crossentropy',
                  optimizer=optimizers.SGD(lr=spec['lr'], momentum=spec['momentum'],
                                           decay=spec['decay'], nesterov=spec['nesterov']))
    losses = [model.train_on_batch(x, y_true) for _ in range(SEED_CASE['steps'])]
    np.testing.assert_allclose(losses, arrays['loss'], rtol=FORWARD_RTOL,
                               err_msg='seed model: loss before each step')
    for i, w in enumerate(model.get_weights()):
        assert_close(w, arrays['after_%d' % i], GRAD_RTOL, GRAD_ATOL,
                     'seed model: weight %d after %d steps' % (i, SEED_CASE['steps']))


# Layers without a golden Keras 3 case, each for the reason docs/keras1-differences.md
# gives in its "Not compared with Keras 3" row (the base classes are not layers of their own).
NOT_COMPARED = {'ParametricSoftplus', 'SReLU', 'Lambda', 'LocallyConnected1D',
                'LocallyConnected2D', 'SpatialDropout3D', 'AlphaDropout'}
BASE_CLASSES = {'Layer', 'InputLayer', 'Wrapper', 'Recurrent'}


def _compared_in_other_manifests():
    """Class names that the golden cases of the later fixture sets (recurrent,
    convolution family, masking) name, as minikeras classes or Keras 3 calls."""
    names = set()
    for name in os.listdir(FIXTURES):
        if name.endswith('_manifest.json'):
            with open(os.path.join(FIXTURES, name)) as f:
                text = f.read()
            names.update(cls for cls in dir(mk_layers)
                         if '"%s"' % cls in text or '%s(' % cls in text)
    return names


def test_every_layer_is_compared_or_its_absence_documented():
    import inspect
    from minikeras.engine.base_layer import Layer
    compared = {getattr(mk_layers, c['minikeras']['class']) for c in CASES if c['kind'] == 'layer'}
    exported = {cls for cls in vars(mk_layers).values()
                if inspect.isclass(cls) and issubclass(cls, Layer)}
    missing = {cls.__name__ for cls in exported - compared} - _compared_in_other_manifests()
    assert NOT_COMPARED <= missing <= NOT_COMPARED | BASE_CLASSES, missing
    docs = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), 'docs',
                        'keras1-differences.md')
    with open(docs) as f:
        row = [line for line in f if line.startswith('| Not compared with Keras 3')]
    assert len(row) == 1
    for name in NOT_COMPARED:
        assert '`%s`' % name in row[0], name
