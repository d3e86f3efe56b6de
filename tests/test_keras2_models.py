"""Keras 2's model API: fit(epochs, validation_freq), the generator methods
with steps and Sequence, keras.utils, and summary() in Keras 2.2.4's layout."""
import numpy as np
import pytest

from minikeras import backend
from minikeras.layers import (BatchNormalization, Conv2D, Dense, Dropout, Flatten, Input,
                              MaxPooling2D, concatenate)
from minikeras.models import Model, Sequential
from minikeras.utils import Sequence, normalize, to_categorical
from minikeras.utils.np_utils import to_categorical as np_utils_to_categorical


@pytest.fixture(autouse=True)
def default_generation(monkeypatch):
    monkeypatch.delenv('MINIKERAS_KERAS_VERSION', raising=False)
    monkeypatch.setattr(backend, '_IMAGE_DIM_ORDERING', 'th')
    monkeypatch.setattr(backend, '_IMAGE_DATA_FORMAT', 'channels_last')


@pytest.fixture
def keras_2_script(monkeypatch):
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '2')


def small_model():
    np.random.seed(0)
    model = Sequential([Dense(2, input_dim=3, activation='softmax')])
    model.compile('sgd', 'categorical_crossentropy', metrics=['accuracy'])
    rng = np.random.RandomState(0)
    x = rng.rand(40, 3).astype('float32')
    y = np.eye(2, dtype='float32')[rng.randint(0, 2, 40)]
    return model, x, y


def test_fit_epochs_and_the_default_number_of_epochs(keras_2_script):
    model, x, y = small_model()
    assert model.fit(x, y, epochs=3, verbose=0).epoch == [0, 1, 2]
    assert model.fit(x, y, verbose=0).epoch == [0]          # Keras 2: one epoch
    with pytest.raises(TypeError, match=r'both epochs \(Keras 2\) and nb_epoch'):
        model.fit(x, y, epochs=2, nb_epoch=2)
    with pytest.raises(ValueError, match=r'steps_per_epoch and validation_steps count batches'):
        model.fit(x, y, steps_per_epoch=3)


def test_fit_defaults_stay_keras_1_in_a_keras_1_script():
    model, x, y = small_model()
    assert model.fit(x, y, verbose=0).epoch == list(range(10))


def test_validation_freq():
    model, x, y = small_model()
    history = model.fit(x, y, epochs=4, verbose=0, validation_split=0.25, validation_freq=2)
    assert len(history.history['loss']) == 4 and len(history.history['val_loss']) == 2
    history = model.fit(x, y, epochs=3, verbose=0, validation_data=(x, y),
                        validation_freq=[1, 3])
    assert len(history.history['val_acc']) == 2
    expected = model.evaluate(x, y, verbose=0)
    assert history.history['val_loss'][-1] == pytest.approx(expected[0], rel=1e-5)
    with pytest.raises(ValueError, match=r'validation_freq must be a positive integer'):
        model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, validation_freq=0)


class Batches(Sequence):
    def __init__(self, x, y, size):
        self.x, self.y, self.size = x, y, size
        self.epochs_ended = 0
        self.visited = []

    def __len__(self):
        return int(np.ceil(len(self.x) / float(self.size)))

    def __getitem__(self, index):
        self.visited.append(index)
        part = slice(index * self.size, (index + 1) * self.size)
        return self.x[part], self.y[part]

    def on_epoch_end(self):
        self.epochs_ended += 1


def test_sequence_visits_every_batch_each_epoch_in_a_new_order():
    model, x, y = small_model()
    batches = Batches(x, y, 16)
    np.random.seed(3)
    history = model.fit_generator(batches, epochs=2, verbose=0)
    assert history.epoch == [0, 1]
    assert batches.epochs_ended == 2
    assert sorted(batches.visited[:3]) == [0, 1, 2] and sorted(batches.visited[3:]) == [0, 1, 2]
    # The epoch's loss averages the batches, weighted by their sizes (16, 16, 8).
    batches.visited = []
    model.fit_generator(batches, epochs=1, verbose=0, shuffle=False)
    assert batches.visited == [0, 1, 2]
    score = model.evaluate_generator(Batches(x, y, 16))
    np.testing.assert_allclose(score, model.evaluate(x, y, batch_size=16, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(model.predict_generator(Batches(x, y, 16)), model.predict(x),
                               rtol=1e-6)


def endless(x, y, size):
    while True:
        for start in range(0, len(x), size):
            yield x[start:start + size], y[start:start + size]


def test_generator_steps_workers_and_keras_1_samples(capsys):
    model, x, y = small_model()
    seen = []

    def counted():
        for batch in endless(x, y, 8):
            seen.append(len(batch[0]))
            yield batch
    model.fit_generator(counted(), steps_per_epoch=3, epochs=2, workers=2,
                        use_multiprocessing=False, max_queue_size=4, verbose=1,
                        validation_data=endless(x, y, 20), validation_steps=2)
    assert seen == [8] * 6
    out = capsys.readouterr().out
    assert '3/3 [==============================]' in out
    del seen[:]
    model.fit_generator(counted(), 16, 1, verbose=0)     # Keras 1: 16 samples
    assert seen == [8, 8]
    score = model.evaluate_generator(endless(x, y, 8), steps=5)
    np.testing.assert_allclose(score, model.evaluate(x, y, batch_size=8, verbose=0), rtol=1e-5)
    assert model.predict_generator(endless(x, y, 8), steps=2, verbose=0).shape == (16, 2)
    assert model.predict_generator(endless(x, y, 8), 16).shape == (16, 2)
    with pytest.raises(TypeError, match=r'both steps_per_epoch \(Keras 2\) and samples_per_epoch'):
        model.fit_generator(counted(), steps_per_epoch=2, samples_per_epoch=16)


def test_fit_generator_positional_steps_in_a_keras_2_script(keras_2_script):
    model, x, y = small_model()
    history = model.fit_generator(endless(x, y, 8), 2, epochs=3, verbose=0)
    assert history.epoch == [0, 1, 2]


def test_to_categorical_keras_2_and_keras_1_forms():
    labels = np.array([[0], [2], [1]])
    k2 = to_categorical(labels, num_classes=3)
    assert k2.dtype == np.float32 and k2.shape == (3, 3)
    np.testing.assert_array_equal(k2, np.eye(3)[[0, 2, 1]])
    grid = to_categorical(np.array([[0, 1], [1, 0]]), num_classes=2, dtype='int32')
    assert grid.shape == (2, 2, 2) and grid.dtype == np.int32
    k1 = np_utils_to_categorical(np.array([[0, 1], [1, 0]]), 2)
    assert k1.shape == (4, 2) and k1.dtype == np.float64
    np.testing.assert_allclose(normalize(np.array([[3., 4.], [0., 0.]])), [[.6, .8], [0., 0.]])


MNIST_CNN_SUMMARY = '''\
_________________________________________________________________
Layer (type)                 Output Shape              Param #
=================================================================
conv2d_1 (Conv2D)            (None, 26, 26, 32)        320
_________________________________________________________________
conv2d_2 (Conv2D)            (None, 24, 24, 64)        18496
_________________________________________________________________
max_pooling2d_1 (MaxPooling2 (None, 12, 12, 64)        0
_________________________________________________________________
dropout_1 (Dropout)          (None, 12, 12, 64)        0
_________________________________________________________________
flatten_1 (Flatten)          (None, 9216)              0
_________________________________________________________________
dense_1 (Dense)              (None, 128)               1179776
_________________________________________________________________
dropout_2 (Dropout)          (None, 128)               0
_________________________________________________________________
dense_2 (Dense)              (None, 10)                1290
=================================================================
Total params: 1,199,882
Trainable params: 1,199,882
Non-trainable params: 0
_________________________________________________________________
'''


def test_summary_of_keras_2_mnist_cnn_in_keras_2_layout(keras_2_script, capsys):
    # Keras 2.2.4's examples/mnist_cnn.py model; its printed summary, as Keras 2.2.4 laid it out.
    from minikeras.engine.base_layer import reset_uids
    reset_uids()
    model = Sequential()
    model.add(Conv2D(32, kernel_size=(3, 3), activation='relu', input_shape=(28, 28, 1)))
    model.add(Conv2D(64, (3, 3), activation='relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(128, activation='relu'))
    model.add(Dropout(0.5))
    model.add(Dense(10, activation='softmax'))
    model.summary()
    out = capsys.readouterr().out.splitlines()
    assert [line.rstrip() for line in out] == MNIST_CNN_SUMMARY.splitlines()
    # Keras 2.2.4 pads the table rows to the full 65 columns.
    assert all(len(line) == 65 for line in out if line.startswith(('Layer', 'conv2d_1', '__')))


def test_functional_summary_in_keras_2_layout(capsys):
    from minikeras.engine.base_layer import reset_uids
    reset_uids()
    a, b = Input(shape=(4,)), Input(shape=(4,))
    output = Dense(units=1)(concatenate([Dense(units=3)(a), Dense(units=3)(b)]))
    Model(inputs=[a, b], outputs=output).summary()
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].rstrip() == ('Layer (type)                    Output Shape         '
                                 'Param #     Connected to')
    assert len(lines[0]) == 98
    assert lines[11].rstrip() == ('concatenate_1 (Concatenate)     (None, 6)            '
                                  '0           dense_2[0][0]')
    assert lines[12].strip() == 'dense_3[0][0]'


def test_keras_1_model_keeps_keras_1_summary(capsys):
    model = Sequential([Dense(3, input_dim=2), BatchNormalization()])
    model.summary()
    assert 'Connected to' in capsys.readouterr().out


# -- Keras 2's ImageDataGenerator options ---------------------------------------------------------

def test_image_data_generator_keras_2_options(tmp_path):
    from minikeras.preprocessing.image import ImageDataGenerator, load_img, save_img, img_to_array
    gen = ImageDataGenerator(data_format='channels_first', validation_split=0.25)
    assert gen.dim_ordering == 'th'
    assert ImageDataGenerator(rotation_range=10).dim_ordering == 'th'
    assert ImageDataGenerator(zca_epsilon=1e-3).dim_ordering == 'tf'
    x = np.arange(8 * 1 * 2 * 2, dtype='float32').reshape(8, 1, 2, 2)
    y = np.arange(8)
    batch_x, batch_y = next(gen.flow(x, y, batch_size=8, shuffle=False, subset='validation'))
    np.testing.assert_array_equal(batch_y, [0, 1])
    batch_x, batch_y = next(gen.flow(x, y, batch_size=8, shuffle=False, subset='training'))
    np.testing.assert_array_equal(batch_y, np.arange(2, 8))
    with pytest.raises(ValueError, match=r"subset must be 'training' or 'validation'"):
        gen.flow(x, y, subset='test')
    image = np.random.RandomState(0).uniform(0, 255, (5, 6, 3)).astype('float32')
    save_img(str(tmp_path / 'a.png'), image, data_format='channels_last', scale=False)
    np.testing.assert_array_equal(img_to_array(load_img(str(tmp_path / 'a.png')), 'tf'),
                                  np.floor(image))


def test_brightness_range_matches_pillow():
    from PIL import Image, ImageEnhance
    from minikeras.preprocessing.image import ImageDataGenerator
    rng = np.random.RandomState(0)
    images = rng.uniform(-1, 3, (4, 5, 6, 3)).astype('float32')
    gen = ImageDataGenerator(brightness_range=(0.3, 1.7), data_format='channels_last')
    np.random.seed(1)
    out = gen._transform_batch(images)
    np.random.seed(1)
    # Keras 2.2.4's stream: per image a horizontal and a vertical flip draw, then brightness.
    factors = 0.3 + 1.4 * np.random.random_sample((4, 3))[:, 2]
    for image, factor, got in zip(images, factors, out):
        scaled = image - image.min()
        scaled = (scaled / scaled.max() * 255).astype('uint8')
        want = ImageEnhance.Brightness(Image.fromarray(scaled, 'RGB')).enhance(factor)
        np.testing.assert_array_equal(got, np.asarray(want, dtype='float32'))


# -- a layer written the Keras 2 way ----------------------------------------------------------

def test_custom_layer_written_the_keras_2_way():
    from minikeras.engine.base_layer import Layer

    class Doubling(Layer):
        def build(self, input_shape):
            self.kernel = self.add_weight(name='kernel', shape=(input_shape[1], 3),
                                          initializer='ones', trainable=True)
            self.bias = self.add_weight('bias', (3,), initializer='zeros')
            super(Doubling, self).build(input_shape)

        def call(self, inputs):
            y = np.dot(inputs, self.kernel) + self.bias
            return np.concatenate([y, -y], axis=-1)

        def compute_output_shape(self, input_shape):
            return (input_shape[0], 6)
    model = Sequential([Doubling(input_shape=(4,)), Dense(2)])
    assert model.layers[0].output_shape == (None, 6)
    x = np.ones((2, 4), dtype='float32')
    np.testing.assert_allclose(model.layers[0].call(x), [[4.] * 3 + [-4.] * 3] * 2)
    assert model.layers[0].weight_names[1] == 'bias'
    model.compile('sgd', 'mse')
    model.fit(x, np.zeros((2, 2), dtype='float32'), nb_epoch=1, verbose=0)


def test_keras_2_progress_bar_format(capsys, monkeypatch):
    import re
    model, x, y = small_model()
    monkeypatch.setenv('MINIKERAS_KERAS_VERSION', '2')
    model.fit(x, y, batch_size=16, epochs=1, verbose=1)
    lines = capsys.readouterr().out.split('\n')
    # Not a terminal: Keras 2.2 starts every update on a new line.
    assert lines[0] == 'Epoch 1/1' and lines[1] == ''
    assert re.match(r'^16/40 \[===========>\.{18}\] - ETA: \d+s - loss: \d\.\d{4} - acc: '
                    r'\d\.\d{4}$', lines[2])
    last = [line for line in lines if line.startswith('40/40')]
    assert len(last) == 1 and re.match(r'^40/40 \[={30}\] - \d+s \d+(us|ms|s)/step - loss: '
                                       r'\d\.\d{4} - acc: \d\.\d{4}$', last[0].rstrip())
    model.fit(x, y, epochs=1, verbose=2)
    lines = capsys.readouterr().out.split('\n')
    assert re.match(r'^ - \d+s - loss: \d\.\d{4} - acc: \d\.\d{4}$', lines[1])


def test_flow_from_directory_subset(tmp_path):
    from PIL import Image
    from minikeras.preprocessing.image import ImageDataGenerator
    for label in ('cat', 'dog'):
        (tmp_path / label).mkdir()
        for i in range(4):
            Image.fromarray(np.full((4, 4, 3), 10 * i, dtype='uint8')).save(
                str(tmp_path / label / ('%d.png' % i)))
    gen = ImageDataGenerator(validation_split=0.5, data_format='channels_last')
    validation = gen.flow_from_directory(str(tmp_path), target_size=(4, 4), subset='validation',
                                         batch_size=8, shuffle=False)
    training = gen.flow_from_directory(str(tmp_path), target_size=(4, 4), subset='training',
                                       batch_size=8, shuffle=False)
    assert validation.filenames == ['cat/0.png', 'cat/1.png', 'dog/0.png', 'dog/1.png']
    assert training.filenames == ['cat/2.png', 'cat/3.png', 'dog/2.png', 'dog/3.png']
    np.testing.assert_array_equal(training.classes, [0, 0, 1, 1])


def test_keras_2_script_names_layers_as_keras_2(keras_2_script):
    from minikeras.engine.base_layer import reset_uids
    from minikeras.layers import ELU, LeakyReLU
    reset_uids()
    assert LeakyReLU().name == 'leaky_re_lu_1' and ELU(alpha=0.5).name == 'elu_1'
    assert MaxPooling2D().name == 'max_pooling2d_1'
    assert MaxPooling2D(name='pool').name == 'pool'


def test_fit_generator_on_an_image_iterator_takes_its_length():
    from minikeras.preprocessing.image import ImageDataGenerator
    model = Sequential([Flatten(input_shape=(2, 2, 1)), Dense(2, activation='softmax')])
    model.compile('sgd', 'categorical_crossentropy')
    x = np.random.RandomState(0).rand(10, 2, 2, 1).astype('float32')
    y = np.eye(2, dtype='float32')[np.arange(10) % 2]
    flow = ImageDataGenerator(data_format='channels_last').flow(x, y, batch_size=4)
    assert len(flow) == 3
    history = model.fit_generator(flow, epochs=2, verbose=0)
    assert history.epoch == [0, 1]
    assert np.shape(model.predict_generator(
        ImageDataGenerator(data_format='channels_last').flow(x, batch_size=4, shuffle=False))) \
        == (10, 2)
