"""The bad-input matrix (issue 15): every wrong thing a user can hand to a
model gets an error that names the argument or layer, and leaves the weights
as they were. Grow it with each new feature: one row per mistake.

Each row is `(id, call, exception, message regex)`; `call(case)` gets a
`Case` holding freshly built models and good data, and must raise.
"""
import numpy as np
import pytest

from minikeras import initializations
from minikeras.layers import (GRU, LSTM, Activation, Convolution2D, ConvLSTM2D, Dense,
                              Embedding, Flatten, Input, MaxPooling2D, merge)
from minikeras.models import Model, Sequential
from minikeras.optimizers import SGD
from minikeras.utils.np_utils import to_categorical


class Case(object):
    """Small compiled models (dense, 'th' CNN, two-input functional) and
    matching good data; every row breaks one thing."""

    def __init__(self):
        rng = np.random.RandomState(0)
        self.dense = Sequential([Dense(5, input_dim=4, activation='tanh', name='hidden'),
                                 Dense(3, activation='softmax', name='out')])
        self.dense.compile(loss='categorical_crossentropy', optimizer=SGD(lr=0.1),
                           metrics=['accuracy'])
        self.x = rng.standard_normal((12, 4)).astype('float32')
        self.y = to_categorical(rng.randint(0, 3, 12), 3)
        self.labels = self.y.argmax(axis=1)

        self.cnn = Sequential([Convolution2D(2, 3, 3, input_shape=(1, 6, 6), name='conv'),
                               MaxPooling2D((2, 2)), Flatten(), Dense(3, name='cnn_out')])
        self.cnn.compile(loss='mse', optimizer='sgd')
        self.images = rng.standard_normal((6, 1, 6, 6)).astype('float32')

        left, right = Input(shape=(4,), name='left'), Input(shape=(2,), name='right')
        joined = merge([Dense(3, name='l_dense')(left), Dense(3, name='r_dense')(right)],
                       mode='concat')
        self.two = Model(input=[left, right], output=Dense(1, name='two_out')(joined))
        self.two.compile(loss='mse', optimizer='sgd')
        self.xr = rng.standard_normal((12, 2)).astype('float32')

        self.rnn = Sequential([LSTM(4, input_dim=3, input_length=5, name='lstm'),
                               Dense(2, name='rnn_out')])
        self.rnn.compile(loss='mse', optimizer='sgd')
        self.seqs = rng.standard_normal((8, 5, 3)).astype('float32')
        self.stateful = Sequential([GRU(3, stateful=True, batch_input_shape=(4, 5, 3),
                                        name='sgru'), Dense(1, name='s_out')])
        self.stateful.compile(loss='mse', optimizer='sgd')
        self.movies = Sequential([ConvLSTM2D(2, 3, 3, dim_ordering='tf', name='clstm',
                                             input_shape=(3, 6, 6, 1)),
                                  Flatten(), Dense(1, name='movie_out')])
        self.movies.compile(loss='mse', optimizer='sgd')

    def models(self):
        return (self.dense, self.cnn, self.two, self.rnn, self.stateful, self.movies)

    def snapshot(self):
        return [[w.copy() for w in m.get_weights()] for m in self.models()]

    def fit(self, x=None, y=None, **kwargs):
        kwargs.setdefault('verbose', 0)
        kwargs.setdefault('nb_epoch', 1)
        return self.dense.fit(self.x if x is None else x, self.y if y is None else y, **kwargs)


def nan_at(array, index):
    array = array.copy()
    array.flat[index] = np.nan
    return array


def inf_at(array, index):
    array = array.copy()
    array.flat[index] = -np.inf
    return array


def generator_of(*batches):
    def generate():
        while True:
            for batch in batches:
                yield batch
    return generate()


def fit_gen(case, generator, **kwargs):
    return case.dense.fit_generator(generator, samples_per_epoch=kwargs.pop('samples', 12),
                                    nb_epoch=1, verbose=0, **kwargs)


def sequential_with(layer):
    return Sequential([layer])


ROWS = [
    # -- ranks, shapes and channel order -------------------------------------
    ('x rank too high', lambda c: c.fit(x=c.x[:, :, None]),
     ValueError, r'model input: expected dense_input_\d+ to have 2 dimensions'),
    ('x rank too low', lambda c: c.cnn.predict(c.images[:, 0]),
     ValueError, r'model input.*4 dimensions.*\(6, 6, 6\)'),
    ('x wrong feature count', lambda c: c.fit(x=c.x[:, :3]),
     ValueError, r'model input.*shape \(None, 4\).*\(12, 3\)'),
    ('y wrong width', lambda c: c.fit(y=c.y[:, :2]),
     ValueError, r'model target.*out.*shape \(None, 3\).*\(12, 2\)'),
    ('y class indices for categorical crossentropy', lambda c: c.fit(y=c.labels),
     ValueError, r'to_categorical'),
    ('y rank too high', lambda c: c.fit(y=c.y[:, :, None]),
     ValueError, r'model target.*2 dimensions'),
    ('channels last for a th model',
     lambda c: c.cnn.fit(c.images.transpose(0, 2, 3, 1), np.zeros((6, 3)), verbose=0),
     ValueError, r"'tf' ordering.*transpose"),
    ('x and y sample counts differ', lambda c: c.fit(y=c.y[:10]),
     ValueError, r'12 input samples and 10 target samples'),
    ('two inputs of different lengths',
     lambda c: c.two.fit([c.x, c.xr[:8]], np.zeros((12, 1)), verbose=0),
     ValueError, r'same number of samples.*\[8, 12\]'),
    ('one array for a two-input model',
     lambda c: c.two.fit(c.x, np.zeros((12, 1)), verbose=0),
     ValueError, r'expects 2 arrays \(left, right\)'),
    ('three arrays for a two-input model',
     lambda c: c.two.fit([c.x, c.xr, c.xr], np.zeros((12, 1)), verbose=0),
     ValueError, r'expects 2 array\(s\).*list of 3'),
    ('dict missing an input',
     lambda c: c.two.fit({'left': c.x}, np.zeros((12, 1)), verbose=0),
     ValueError, r"no data provided for \['right'\]"),
    ('two arrays for a one-input model', lambda c: c.fit(x=[c.x, c.x]),
     ValueError, r'expects 1 array\(s\) \(dense_input_\d+\), got a list of 2'),
    # -- values --------------------------------------------------------------
    ('NaN in x', lambda c: c.fit(x=nan_at(c.x, 17)),
     ValueError, r'model input dense_input_\d+: it contains NaN or inf.*sample 4'),
    ('inf in x', lambda c: c.fit(x=inf_at(c.x, 47)),
     ValueError, r'model input.*NaN or inf.*sample 11'),
    ('NaN in y', lambda c: c.fit(y=nan_at(c.y, 3)),
     ValueError, r'model target out: it contains NaN or inf.*sample 1'),
    ('NaN in validation data',
     lambda c: c.fit(validation_data=(nan_at(c.x, 0), c.y)),
     ValueError, r'model input.*NaN or inf.*sample 0'),
    ('NaN in train_on_batch', lambda c: c.dense.train_on_batch(nan_at(c.x, 5), c.y),
     ValueError, r'NaN or inf'),
    ('NaN in sample_weight', lambda c: c.fit(sample_weight=nan_at(np.ones(12), 2)),
     ValueError, r'sample_weight: it contains NaN or inf.*sample 2'),
    ('object array', lambda c: c.fit(x=np.array([[1, 'a', None, 2]] * 12, dtype=object)),
     TypeError, r'model input.*array of numbers.*object'),
    ('string array', lambda c: c.fit(x=np.array([['a', 'b', 'c', 'd']] * 12)),
     TypeError, r'model input.*array of numbers'),
    ('ragged list', lambda c: c.fit(x=[[1., 2., 3., 4.], [1., 2.]] * 6),
     (TypeError, ValueError), r'model input'),
    ('x is None', lambda c: c.fit(x=np.array(None)),
     (TypeError, ValueError), r'model input'),
    ('string y', lambda c: c.fit(y=np.array([['a', 'b', 'c']] * 12)),
     TypeError, r'model target.*array of numbers'),
    # -- empty ---------------------------------------------------------------
    ('fit on zero samples', lambda c: c.fit(x=c.x[:0], y=c.y[:0]),
     ValueError, r'fit got 0 samples'),
    ('evaluate on zero samples', lambda c: c.dense.evaluate(c.x[:0], c.y[:0], verbose=0),
     ValueError, r'evaluate got 0 samples'),
    ('train_on_batch on zero samples', lambda c: c.dense.train_on_batch(c.x[:0], c.y[:0]),
     ValueError, r'train_on_batch got 0 samples'),
    ('validation_split leaves nothing to train on',
     lambda c: c.fit(x=c.x[:1], y=c.y[:1], validation_split=0.5),
     ValueError, r'fit got 0 samples.*validation_split'),
    # -- batch sizes and splits ----------------------------------------------
    ('batch_size 0', lambda c: c.fit(batch_size=0),
     ValueError, r'batch_size must be a positive integer, got 0'),
    ('batch_size negative', lambda c: c.fit(batch_size=-4),
     ValueError, r'batch_size must be a positive integer'),
    ('batch_size fractional', lambda c: c.fit(batch_size=2.5),
     ValueError, r'batch_size must be a positive integer, got 2.5'),
    ('batch_size a string', lambda c: c.fit(batch_size='32'),
     (TypeError, ValueError), r'batch_size must be a positive integer'),
    ('batch_size 0 in evaluate', lambda c: c.dense.evaluate(c.x, c.y, batch_size=0, verbose=0),
     ValueError, r'batch_size must be a positive integer'),
    ('batch_size 0 in predict', lambda c: c.dense.predict(c.x, batch_size=0),
     ValueError, r'batch_size must be a positive integer'),
    ('validation_split 1', lambda c: c.fit(validation_split=1.),
     ValueError, r'validation_split must be in \[0, 1\), got 1.0'),
    ('validation_split negative', lambda c: c.fit(validation_split=-0.2),
     ValueError, r'validation_split must be in \[0, 1\)'),
    ('validation_data of 4', lambda c: c.fit(validation_data=(c.x, c.y, None, None)),
     ValueError, r'validation_data should be \(x_val, y_val\)'),
    ('validation_data of the wrong shape', lambda c: c.fit(validation_data=(c.x[:, :2], c.y)),
     ValueError, r'model input.*shape \(None, 4\)'),
    ('nb_epoch a string', lambda c: c.fit(nb_epoch='3'),
     (TypeError, ValueError), r'nb_epoch must be'),
    # -- sample and class weights --------------------------------------------
    ('sample_weight too short', lambda c: c.fit(sample_weight=np.ones(5)),
     ValueError, r'sample_weight has 5 entries for 12 samples'),
    ('sample_weight 2D', lambda c: c.fit(sample_weight=np.ones((12, 2))),
     ValueError, r'sample_weight should be 1D.*temporal'),
    ('sample_weight strings', lambda c: c.fit(sample_weight=np.array(['a'] * 12)),
     (TypeError, ValueError), r'sample_weight'),
    ('class_weight without a present class', lambda c: c.fit(class_weight={0: 1., 1: 2.}),
     ValueError, r'class_weight gives no weight for class\(es\) \[2\]'),
    ('class_weight a list', lambda c: c.fit(class_weight=[1., 2., 3.]),
     TypeError, r'class_weight should be a dict'),
    ('class_weight in train_on_batch',
     lambda c: c.dense.train_on_batch(c.x, c.y, class_weight={5: 1.}),
     ValueError, r'class_weight gives no weight'),
    # -- unknown names -------------------------------------------------------
    ('unknown loss', lambda c: c.dense.compile(loss='mean_squared_eror', optimizer='sgd'),
     ValueError, r"Unknown loss: 'mean_squared_eror'"),
    ('unknown optimizer', lambda c: c.dense.compile(loss='mse', optimizer='adamm'),
     ValueError, r"Unknown optimizer: 'adamm'"),
    ('unknown metric', lambda c: c.dense.compile(loss='mse', optimizer='sgd', metrics=['acuracy']),
     ValueError, r"Unknown metric: 'acuracy'"),
    ('unknown init', lambda c: Dense(3, input_dim=4, init='glorot'),
     ValueError, r"Unknown init: 'glorot'"),
    ('unknown activation', lambda c: Dense(3, input_dim=4, activation='relux'),
     ValueError, r"Unknown activation: 'relux'"),
    ('unknown Activation layer name', lambda c: Activation('softmaxx'),
     ValueError, r"Unknown activation: 'softmaxx'"),
    ('unknown border_mode', lambda c: Convolution2D(2, 3, 3, border_mode='sam'),
     ValueError, r"border_mode.*'sam'"),
    ('unknown dim_ordering', lambda c: Convolution2D(2, 3, 3, dim_ordering='channels_first'),
     ValueError, r"dim_ordering.*'channels_first'"),
    ('unknown sample_weight_mode',
     lambda c: c.dense.compile(loss='mse', optimizer='sgd', sample_weight_mode='time'),
     ValueError, r'sample_weight_mode must be None or "temporal"'),
    ('unknown output in a loss dict',
     lambda c: c.two.compile(loss={'nope': 'mse'}, optimizer='sgd'),
     ValueError, r"Unknown output name\(s\) in loss: \['nope'\]"),
    # -- misspelled keyword arguments ----------------------------------------
    ('misspelled layer keyword', lambda c: Dense(3, input_dm=4),
     TypeError, r'input_dm'),
    ('misspelled convolution keyword', lambda c: Convolution2D(2, 3, 3, border='same'),
     TypeError, r'border'),
    ('misspelled compile keyword',
     lambda c: c.dense.compile(loss='mse', optimizer='sgd', metric=['accuracy']),
     TypeError, r'metric'),
    ('misspelled fit keyword', lambda c: c.dense.fit(c.x, c.y, nb_epochs=1),
     TypeError, r'nb_epochs'),
    ('misspelled optimizer keyword', lambda c: SGD(learning_rate=0.1),
     TypeError, r'learning_rate'),
    # -- weight lists --------------------------------------------------------
    ('set_weights too few', lambda c: c.dense.set_weights(c.dense.get_weights()[:3]),
     ValueError, r'expects 4 weight arrays, got 3'),
    ('set_weights wrong shape',
     lambda c: c.dense.set_weights([np.zeros((4, 5)), np.zeros(5), np.zeros((5, 2)),
                                    np.zeros(3)]),
     ValueError, r'out_W has shape \(5, 3\), got an array of shape \(5, 2\)'),
    ('set_weights non-numeric last',
     lambda c: c.dense.set_weights([np.zeros((4, 5)), np.zeros(5), np.zeros((5, 3)),
                                    np.array(['a', 'b', 'c'])]),
     (TypeError, ValueError), r'out_b'),
    ('layer set_weights wrong count', lambda c: c.dense.layers[0].set_weights([np.zeros((4, 5))]),
     ValueError, r'Layer hidden \(Dense\) expects 2 weight arrays, got 1'),
    ('layer weights= of the wrong shape',
     lambda c: Sequential([Dense(3, input_dim=4, weights=[np.zeros((3, 3)), np.zeros(3)])]),
     ValueError, r'\(4, 3\).*\(3, 3\)'),
    # -- generators ----------------------------------------------------------
    ('generator yields an array', lambda c: fit_gen(c, generator_of(c.x)),
     ValueError, r'generator should give \(x, y\)'),
    ('generator yields four things', lambda c: fit_gen(c, generator_of((c.x, c.y, None, 1))),
     ValueError, r'generator should give \(x, y\) or \(x, y, sample_weight\)'),
    ('generator yields None', lambda c: fit_gen(c, generator_of(None)),
     ValueError, r'generator should give.*NoneType'),
    ('generator yields the wrong shape', lambda c: fit_gen(c, generator_of((c.x[:, :2], c.y))),
     ValueError, r'model input.*shape \(None, 4\)'),
    ('generator yields NaN', lambda c: fit_gen(c, generator_of((nan_at(c.x, 0), c.y))),
     ValueError, r'NaN or inf'),
    ('generator runs out', lambda c: fit_gen(c, iter([])),
     ValueError, r'generator ran out of batches'),
    ('generator yields empty batches', lambda c: fit_gen(c, generator_of((c.x[:0], c.y[:0]))),
     ValueError, r'generator.*0 samples'),
    ('samples_per_epoch 0', lambda c: fit_gen(c, generator_of((c.x, c.y)), samples=0),
     ValueError, r'samples_per_epoch must be a positive integer'),
    ('validation generator without nb_val_samples',
     lambda c: fit_gen(c, generator_of((c.x, c.y)), validation_data=generator_of((c.x, c.y))),
     ValueError, r'nb_val_samples'),
    ('evaluate_generator yields a dict',
     lambda c: c.dense.evaluate_generator(generator_of({'x': c.x}), 12),
     ValueError, r'generator should give \(x, y\).*dict'),
    ('predict_generator yields strings',
     lambda c: c.dense.predict_generator(generator_of(np.array([['a'] * 4] * 3)), 3),
     TypeError, r'model input.*array of numbers'),
    # -- recurrent layers (issue 10) --------------------------------------------
    ('2D array into an RNN', lambda c: c.rnn.fit(c.seqs[:, 0], np.zeros((8, 2)), verbose=0),
     ValueError, r'lstm_input.*3 dimensions.*\(8, 3\)'),
    ('2D array into an RNN layer', lambda c: c.rnn.layers[0].call(c.seqs[:, 0]),
     ValueError, r'Layer lstm \(LSTM\) expects 3D input .*got shape \(8, 3\)'),
    ('RNN input longer than its input_length',
     lambda c: c.rnn.fit(np.zeros((8, 6, 3)), np.zeros((8, 2)), verbose=0),
     ValueError, r'shape \(None, 5, 3\).*\(8, 6, 3\)'),
    ('RNN layer called on another input_length',
     lambda c: c.rnn.layers[0].call(np.zeros((2, 6, 3), 'float32')),
     ValueError, r'Layer lstm \(LSTM\): input_length is 5 .*\(2, 6, 3\)'),
    ('stateful RNN fed another batch size',
     lambda c: c.stateful.fit(c.seqs[:6], np.zeros((6, 1)), batch_size=6, verbose=0),
     ValueError, r'Layer sgru \(GRU\) is stateful with batch size 4.*\(6, 5, 3\)'),
    ('stateful RNN predicting another batch size',
     lambda c: c.stateful.predict(c.seqs[:6], batch_size=6),
     ValueError, r'sgru \(GRU\) is stateful with batch size 4'),
    ('mask reaching a layer that cannot take one',
     lambda c: Sequential([Embedding(10, 4, mask_zero=True, input_length=5),
                           Flatten(name='flat'), Dense(1)]),
     ValueError, r'Layer flat \(Flatten\) does not support masking'),
    ('RNN after an RNN without return_sequences',
     lambda c: Sequential([LSTM(3, input_shape=(None, 4)), LSTM(2, name='second')]),
     ValueError, r'Layer second \(LSTM\) expects 3D input.*\(None, 3\)'),
    ('4D input into a ConvLSTM2D',
     lambda c: c.movies.fit(np.zeros((2, 3, 6, 6)), np.zeros((2, 1)), verbose=0),
     ValueError, r'5 dimensions.*\(2, 3, 6, 6\)'),
    ('ConvLSTM2D layer fed frames of another size',
     lambda c: c.movies.layers[0].call(np.zeros((2, 3, 7, 6, 1), 'float32')),
     ValueError, r'clstm \(ConvLSTM2D\) expects input of shape \(None, 3, 6, 6, 1\).*rows: 7'),
]


@pytest.mark.parametrize('row', ROWS, ids=[row[0] for row in ROWS])
def test_bad_input_is_named_and_changes_nothing(row):
    _, call, exception, pattern = row
    case = Case()
    before = case.snapshot()
    with pytest.raises(exception, match=pattern):
        call(case)
    for model_before, model in zip(before, case.models()):
        after = model.get_weights()
        assert len(after) == len(model_before)
        for old, new in zip(model_before, after):
            np.testing.assert_array_equal(old, new)


def test_matrix_ids_are_unique():
    ids = [row[0] for row in ROWS]
    assert len(ids) == len(set(ids))


def test_unknown_names_list_the_known_ones():
    with pytest.raises(ValueError) as error:
        initializations.get('glorot')
    assert 'glorot_uniform' in str(error.value)


def test_a_failed_fit_leaves_the_model_trainable():
    """After any of the errors above the model still trains normally."""
    case = Case()
    with pytest.raises(ValueError):
        case.fit(x=nan_at(case.x, 0))
    history = case.fit(nb_epoch=2)
    assert np.all(np.isfinite(history.history['loss']))
