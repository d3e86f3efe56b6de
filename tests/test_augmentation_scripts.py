"""ImageDataGenerator in use: fit_generator over flow(), the seed script's
augmentation loop under the Keras 0.3 switch, and the grid script."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from real_mnist import real_mnist_subset
from seed_model import seed_model

from minikeras.preprocessing.image import ImageDataGenerator
from minikeras.utils.np_utils import to_categorical

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
AUGMENT_SEED = os.path.join(ROOT, '..', 'shared', 'seeds', 'cnn_augment.py')


def bars(n, seed=0):
    """Synthetic 28x28 digits: class k is a bright horizontal bar at rows 2k..2k+4."""
    rng = np.random.RandomState(seed)
    labels = rng.randint(0, 10, n)
    x = rng.uniform(0, 0.2, (n, 1, 28, 28)).astype('float32')
    for i, label in enumerate(labels):
        x[i, 0, 2 * label + 2:2 * label + 6, 4:24] = 1.0
    return x, to_categorical(labels, 10)


def test_fit_generator_over_flow_trains_the_seed_model():
    np.random.seed(0)
    x, y = bars(1200)
    generator = ImageDataGenerator(width_shift_range=0.1, dim_ordering='th')
    model = seed_model()
    history = model.fit_generator(generator.flow(x[:1000], y[:1000], batch_size=50, seed=1),
                                  samples_per_epoch=1000, nb_epoch=3, verbose=0,
                                  validation_data=(x[1000:], y[1000:]))
    assert history.epoch == [0, 1, 2]
    assert history.history['val_acc'][-1] > 0.9
    assert model.evaluate_generator(generator.flow(x[1000:], y[1000:], batch_size=50),
                                    val_samples=200)[1] > 0.85
    preds = model.predict_generator(ImageDataGenerator(dim_ordering='th').flow(
        x[1000:], y[1000:], batch_size=64, shuffle=False), val_samples=200)
    assert preds.shape == (200, 10)
    np.testing.assert_allclose(preds, model.predict(x[1000:]), rtol=1e-5, atol=1e-6)


def test_fit_generator_needs_nb_val_samples_for_a_validation_generator():
    model = seed_model()
    x, y = bars(10)
    flow = ImageDataGenerator(dim_ordering='th').flow(x, y)
    with pytest.raises(ValueError, match='nb_val_samples'):
        model.fit_generator(flow, samples_per_epoch=10, nb_epoch=1, validation_data=flow)


@pytest.mark.skipif(not os.path.exists(AUGMENT_SEED),
                    reason='the seed script ../shared/seeds/cnn_augment.py is absent')
def test_seed_augmentation_loop_runs_under_the_keras_0_3_switch(tmp_path):
    env = dict(os.environ, KERAS_HOME=str(tmp_path), MINIKERAS_MNIST=real_mnist_subset(tmp_path))
    result = subprocess.run([sys.executable, '-m', 'minikeras', 'run', '--keras-version', '0.3',
                             AUGMENT_SEED], cwd=os.path.dirname(AUGMENT_SEED), env=env,
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert 'Epoch 1/1' in out and 'Epoch 0\n' in out and 'Training...' in out
    # One pass of flow(): the bar ends at exactly all 5,000 samples, once.
    finals = re.findall(r'5000/5000 \[=+\] - \d+s - train loss: (\d\.\d{4}) - '
                        r'accuracy:: (\d\.\d{4})', out)
    assert len(finals) == 1, out[-1500:]
    assert 0 < float(finals[0][0]) < 2.5 and 0 <= float(finals[0][1]) <= 1


def test_augment_grid_script_writes_a_png(tmp_path):
    pytest.importorskip('PIL')
    out = tmp_path / 'grid.png'
    result = subprocess.run([sys.executable, os.path.join(ROOT, 'scripts', 'augment_grid.py'),
                             str(out), '--rows', '3', '--columns', '4'],
                            capture_output=True, text=True, timeout=300,
                            env=dict(os.environ, KERAS_HOME=str(tmp_path),
                                     MINIKERAS_MNIST=real_mnist_subset(tmp_path)))
    assert result.returncode == 0, result.stderr
    from PIL import Image
    with Image.open(out) as image:
        assert image.size == (4 * 28 * 3, 3 * 28 * 3)
        pixels = np.asarray(image)
    assert pixels.max() > 200 and pixels.min() == 0
