"""The models of the benchmark suite, each defined once for minikeras and once for Keras 3.

Standard library only at import time: minikeras' runner (suite_bench.py)
and the Keras 3 peer (peers/suite_keras3.py, in another virtual
environment) both import this file and call the builder of their side.

A model is one `Model(...)` entry of MODELS:

- `name`, `source`: what it is (the Keras 1.2.2 example it reproduces);
- `input_shape`: channels-first, as Keras 1's 'th' ordering (the Keras 3
  side gets the channels-last transpose); `classes`: labels are random
  integers below it, one-hot for categorical losses;
- `samples`, `batch`, `epochs` (the first one compiles; the others are
  "warm"), `validation_split`;
- `minikeras(keras, shape)` and `keras3(keras, shape)`: build and compile
  the model with the given module (`minikeras` or `keras`) and input shape;
  return the model, or for kind 'gan' a dict of the models one training
  step uses (see `gan_step`), or for kind 'input_gradient' a function of
  a batch returning the loss and its gradient with respect to the batch.

Adding a model to the suite is one entry and its two builders; run.py and
suite.py pick it up by name (`--models`). Data are synthetic (random inputs
and labels, fixed seed): the suite measures speed.
"""
import collections

Model = collections.namedtuple('Model', [
    'name', 'source', 'kind', 'input_shape', 'classes', 'samples', 'batch', 'epochs',
    'validation_split', 'minikeras', 'keras3'])


def channels_last(shape):
    """(C, H, W) -> (H, W, C); other shapes unchanged."""
    return tuple(shape[1:]) + (shape[0],) if len(shape) == 3 else tuple(shape)


# ---------------------------------------------------------------------------
# The seed (wphh cnn.py)
# ---------------------------------------------------------------------------

def seed_minikeras(keras, shape):
    import _common
    return _common.minikeras_seed_model(shape)


def seed_keras3(keras, shape):
    from keras import layers
    normal = keras.initializers.RandomNormal(stddev=0.05)
    model = keras.Sequential([
        keras.Input(shape=shape),
        layers.Conv2D(4, 5, activation='tanh'),
        layers.Conv2D(8, 3, activation='tanh'),
        layers.MaxPooling2D(2),
        layers.Conv2D(16, 3, activation='relu'),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(128, activation='tanh', kernel_initializer=normal),
        layers.Dense(10, activation='softmax', kernel_initializer=normal)])
    model.compile(loss='categorical_crossentropy', metrics=['accuracy'],
                  optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9,
                                                 nesterov=True))
    return model


# ---------------------------------------------------------------------------
# Keras 1.2.2 examples/mnist_cnn.py
# ---------------------------------------------------------------------------

def mnist_cnn_minikeras(keras, shape):
    from minikeras.layers import (Activation, Convolution2D, Dense, Dropout, Flatten,
                                  MaxPooling2D)
    from minikeras.models import Sequential
    model = Sequential()
    model.add(Convolution2D(32, 3, 3, border_mode='valid', input_shape=shape))
    model.add(Activation('relu'))
    model.add(Convolution2D(32, 3, 3))
    model.add(Activation('relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(128))
    model.add(Activation('relu'))
    model.add(Dropout(0.5))
    model.add(Dense(10))
    model.add(Activation('softmax'))
    model.compile(loss='categorical_crossentropy', optimizer='adadelta', metrics=['accuracy'])
    return model


def mnist_cnn_keras3(keras, shape):
    from keras import layers
    model = keras.Sequential([
        keras.Input(shape=shape),
        layers.Conv2D(32, 3, activation='relu'),
        layers.Conv2D(32, 3, activation='relu'),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(128, activation='relu'),
        layers.Dropout(0.5),
        layers.Dense(10, activation='softmax')])
    model.compile(loss='categorical_crossentropy', optimizer='adadelta', metrics=['accuracy'])
    return model


# ---------------------------------------------------------------------------
# Keras 1.2.2 examples/cifar10_cnn.py (without augmentation)
# ---------------------------------------------------------------------------

def cifar10_cnn_minikeras(keras, shape):
    from minikeras.layers import (Activation, Convolution2D, Dense, Dropout, Flatten,
                                  MaxPooling2D)
    from minikeras.models import Sequential
    model = Sequential()
    model.add(Convolution2D(32, 3, 3, border_mode='same', input_shape=shape))
    model.add(Activation('relu'))
    model.add(Convolution2D(32, 3, 3))
    model.add(Activation('relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Convolution2D(64, 3, 3, border_mode='same'))
    model.add(Activation('relu'))
    model.add(Convolution2D(64, 3, 3))
    model.add(Activation('relu'))
    model.add(MaxPooling2D(pool_size=(2, 2)))
    model.add(Dropout(0.25))
    model.add(Flatten())
    model.add(Dense(512))
    model.add(Activation('relu'))
    model.add(Dropout(0.5))
    model.add(Dense(10))
    model.add(Activation('softmax'))
    model.compile(loss='categorical_crossentropy', optimizer='rmsprop', metrics=['accuracy'])
    return model


def cifar10_cnn_keras3(keras, shape):
    from keras import layers
    model = keras.Sequential([
        keras.Input(shape=shape),
        layers.Conv2D(32, 3, padding='same', activation='relu'),
        layers.Conv2D(32, 3, activation='relu'),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Conv2D(64, 3, padding='same', activation='relu'),
        layers.Conv2D(64, 3, activation='relu'),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(512, activation='relu'),
        layers.Dropout(0.5),
        layers.Dense(10, activation='softmax')])
    model.compile(loss='categorical_crossentropy', optimizer='rmsprop', metrics=['accuracy'])
    return model


# ---------------------------------------------------------------------------
# Keras 1.2.2 examples/mnist_mlp.py
# ---------------------------------------------------------------------------

def mnist_mlp_minikeras(keras, shape):
    from minikeras.layers import Activation, Dense, Dropout
    from minikeras.models import Sequential
    from minikeras.optimizers import RMSprop
    model = Sequential()
    model.add(Dense(512, input_shape=shape))
    model.add(Activation('relu'))
    model.add(Dropout(0.2))
    model.add(Dense(512))
    model.add(Activation('relu'))
    model.add(Dropout(0.2))
    model.add(Dense(10))
    model.add(Activation('softmax'))
    model.compile(loss='categorical_crossentropy', optimizer=RMSprop(), metrics=['accuracy'])
    return model


def mnist_mlp_keras3(keras, shape):
    from keras import layers
    model = keras.Sequential([
        keras.Input(shape=shape),
        layers.Dense(512, activation='relu'),
        layers.Dropout(0.2),
        layers.Dense(512, activation='relu'),
        layers.Dropout(0.2),
        layers.Dense(10, activation='softmax')])
    model.compile(loss='categorical_crossentropy', optimizer=keras.optimizers.RMSprop(),
                  metrics=['accuracy'])
    return model


# ---------------------------------------------------------------------------
# Keras 1.2.2 examples/mnist_acgan.py: one training step of generator and
# discriminator (generator.predict on a batch of 100, discriminator
# train_on_batch on 200 images, combined train_on_batch on 200 noise vectors)
# ---------------------------------------------------------------------------

LATENT = 100


def mnist_acgan_minikeras(keras, shape):
    from minikeras.layers import (Convolution2D, Dense, Dropout, Embedding, Flatten, Input,
                                  LeakyReLU, Reshape, UpSampling2D, merge)
    from minikeras.models import Model as KModel, Sequential
    from minikeras.optimizers import Adam

    cnn = Sequential()
    cnn.add(Dense(1024, input_dim=LATENT, activation='relu'))
    cnn.add(Dense(128 * 7 * 7, activation='relu'))
    cnn.add(Reshape((128, 7, 7)))
    cnn.add(UpSampling2D(size=(2, 2)))
    cnn.add(Convolution2D(256, 5, 5, border_mode='same', activation='relu',
                          init='glorot_normal'))
    cnn.add(UpSampling2D(size=(2, 2)))
    cnn.add(Convolution2D(128, 5, 5, border_mode='same', activation='relu',
                          init='glorot_normal'))
    cnn.add(Convolution2D(1, 2, 2, border_mode='same', activation='tanh', init='glorot_normal'))
    latent = Input(shape=(LATENT,))
    image_class = Input(shape=(1,), dtype='int32')
    cls = Flatten()(Embedding(10, LATENT, init='glorot_normal')(image_class))
    generator = KModel(input=[latent, image_class], output=cnn(merge([latent, cls], mode='mul')))
    generator.compile(optimizer=Adam(lr=0.0002, beta_1=0.5), loss='binary_crossentropy')

    dcnn = Sequential()
    dcnn.add(Convolution2D(32, 3, 3, border_mode='same', subsample=(2, 2), input_shape=shape))
    dcnn.add(LeakyReLU())
    dcnn.add(Dropout(0.3))
    dcnn.add(Convolution2D(64, 3, 3, border_mode='same', subsample=(1, 1)))
    dcnn.add(LeakyReLU())
    dcnn.add(Dropout(0.3))
    dcnn.add(Convolution2D(128, 3, 3, border_mode='same', subsample=(2, 2)))
    dcnn.add(LeakyReLU())
    dcnn.add(Dropout(0.3))
    dcnn.add(Convolution2D(256, 3, 3, border_mode='same', subsample=(1, 1)))
    dcnn.add(LeakyReLU())
    dcnn.add(Dropout(0.3))
    dcnn.add(Flatten())
    image = Input(shape=shape)
    features = dcnn(image)
    fake = Dense(1, activation='sigmoid', name='generation')(features)
    aux = Dense(10, activation='softmax', name='auxiliary')(features)
    discriminator = KModel(input=image, output=[fake, aux])
    discriminator.compile(optimizer=Adam(lr=0.0002, beta_1=0.5),
                          loss=['binary_crossentropy', 'sparse_categorical_crossentropy'])

    latent = Input(shape=(LATENT,))
    image_class = Input(shape=(1,), dtype='int32')
    discriminator.trainable = False
    fake, aux = discriminator(generator([latent, image_class]))
    combined = KModel(input=[latent, image_class], output=[fake, aux])
    combined.compile(optimizer=Adam(lr=0.0002, beta_1=0.5),
                     loss=['binary_crossentropy', 'sparse_categorical_crossentropy'])
    return {'generator': generator, 'discriminator': discriminator, 'combined': combined}


def mnist_acgan_keras3(keras, shape):
    from keras import layers

    cnn = keras.Sequential([
        keras.Input(shape=(LATENT,)),
        layers.Dense(1024, activation='relu'),
        layers.Dense(128 * 7 * 7, activation='relu'),
        layers.Reshape((7, 7, 128)),
        layers.UpSampling2D(2),
        layers.Conv2D(256, 5, padding='same', activation='relu',
                      kernel_initializer='glorot_normal'),
        layers.UpSampling2D(2),
        layers.Conv2D(128, 5, padding='same', activation='relu',
                      kernel_initializer='glorot_normal'),
        layers.Conv2D(1, 2, padding='same', activation='tanh',
                      kernel_initializer='glorot_normal')])
    latent = keras.Input(shape=(LATENT,))
    image_class = keras.Input(shape=(1,), dtype='int32')
    cls = layers.Flatten()(layers.Embedding(10, LATENT,
                                            embeddings_initializer='glorot_normal')(image_class))
    generator = keras.Model([latent, image_class], cnn(layers.multiply([latent, cls])))
    generator.compile(optimizer=keras.optimizers.Adam(0.0002, beta_1=0.5),
                      loss='binary_crossentropy')

    dcnn = keras.Sequential([
        keras.Input(shape=shape),
        layers.Conv2D(32, 3, padding='same', strides=2), layers.LeakyReLU(0.3),
        layers.Dropout(0.3),
        layers.Conv2D(64, 3, padding='same'), layers.LeakyReLU(0.3), layers.Dropout(0.3),
        layers.Conv2D(128, 3, padding='same', strides=2), layers.LeakyReLU(0.3),
        layers.Dropout(0.3),
        layers.Conv2D(256, 3, padding='same'), layers.LeakyReLU(0.3), layers.Dropout(0.3),
        layers.Flatten()])
    image = keras.Input(shape=shape)
    features = dcnn(image)
    fake = layers.Dense(1, activation='sigmoid', name='generation')(features)
    aux = layers.Dense(10, activation='softmax', name='auxiliary')(features)
    discriminator = keras.Model(image, [fake, aux])
    discriminator.compile(optimizer=keras.optimizers.Adam(0.0002, beta_1=0.5),
                          loss=['binary_crossentropy', 'sparse_categorical_crossentropy'])

    latent = keras.Input(shape=(LATENT,))
    image_class = keras.Input(shape=(1,), dtype='int32')
    discriminator.trainable = False
    fake, aux = discriminator(generator([latent, image_class]))
    combined = keras.Model([latent, image_class], [fake, aux])
    combined.compile(optimizer=keras.optimizers.Adam(0.0002, beta_1=0.5),
                     loss=['binary_crossentropy', 'sparse_categorical_crossentropy'])
    return {'generator': generator, 'discriminator': discriminator, 'combined': combined}


def gan_step(np, models, images, labels, rng, batch):
    """One training step of mnist_acgan.py's loop, the same calls on either side."""
    noise = rng.uniform(-1, 1, (batch, LATENT)).astype('float32')
    sampled = rng.randint(0, 10, batch)
    generated = models['generator'].predict([noise, sampled.reshape((-1, 1))], verbose=0)
    x = np.concatenate((images, generated))
    y = np.array([1] * batch + [0] * batch, dtype='float32')
    aux_y = np.concatenate((labels, sampled), axis=0)
    models['discriminator'].train_on_batch(x, [y, aux_y])
    noise = rng.uniform(-1, 1, (2 * batch, LATENT)).astype('float32')
    sampled = rng.randint(0, 10, 2 * batch)
    trick = np.ones(2 * batch, dtype='float32')
    models['combined'].train_on_batch([noise, sampled.reshape((-1, 1))], [trick, sampled])


# ---------------------------------------------------------------------------
# VGG16 forward + gradient with respect to the input (deep dream, style
# transfer, saliency: issue 11)
# ---------------------------------------------------------------------------

def vgg16_gradient_minikeras(keras, shape):
    """A function x -> (loss, d loss / d x) on VGG16 with random weights."""
    from minikeras import backend as K
    from minikeras.applications import VGG16
    model = VGG16(weights=None, include_top=True, input_tensor=keras.layers.Input(shape=shape))
    loss = K.mean(model.output[:, 0])
    function = K.function([model.input], [loss, K.gradients(loss, model.input)])
    return lambda x: function([x])


def vgg16_gradient_keras3(keras, shape):
    model = keras.applications.VGG16(weights=None, include_top=True, input_shape=shape)
    backend = keras.backend.backend()
    if backend == 'tensorflow':
        import tensorflow as tf

        @tf.function
        def step(x):
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = tf.reduce_mean(model(x)[:, 0])
            return loss, tape.gradient(loss, x)
        return lambda x: [t.numpy() for t in step(tf.convert_to_tensor(x))]
    if backend == 'jax':
        import jax
        trainable = [v.value for v in model.trainable_variables]
        non_trainable = [v.value for v in model.non_trainable_variables]

        def loss_of(x):
            y, _ = model.stateless_call(trainable, non_trainable, x)
            return y[:, 0].mean()
        step = jax.jit(jax.value_and_grad(loss_of))
        return lambda x: [jax.device_get(t) for t in step(x)]
    import torch

    def torch_step(x):
        image = torch.tensor(x, requires_grad=True)
        loss = model(image)[:, 0].mean()
        loss.backward()
        return [loss.detach().numpy(), image.grad.numpy()]
    return torch_step


MODELS = collections.OrderedDict((m.name, m) for m in [
    Model('seed', 'the wphh seed cnn.py (as benchmarks/minikeras_bench.py)', 'fit',
          (1, 28, 28), 10, 42000, 100, 2, 0.2, seed_minikeras, seed_keras3),
    Model('mnist_cnn', 'Keras 1.2.2 examples/mnist_cnn.py', 'fit',
          (1, 28, 28), 10, 6000, 128, 3, 0.0, mnist_cnn_minikeras, mnist_cnn_keras3),
    Model('cifar10_cnn', 'Keras 1.2.2 examples/cifar10_cnn.py, no augmentation', 'fit',
          (3, 32, 32), 10, 3000, 32, 3, 0.0, cifar10_cnn_minikeras, cifar10_cnn_keras3),
    Model('mnist_mlp', 'Keras 1.2.2 examples/mnist_mlp.py', 'fit',
          (784,), 10, 20000, 128, 3, 0.0, mnist_mlp_minikeras, mnist_mlp_keras3),
    Model('mnist_acgan', 'Keras 1.2.2 examples/mnist_acgan.py, one generator + '
          'discriminator step per "epoch"', 'gan',
          (1, 28, 28), 10, 100, 100, 2, 0.0, mnist_acgan_minikeras, mnist_acgan_keras3),
    Model('vgg16_input_gradient', 'VGG16 (random weights) forward + gradient of the mean '
          'first-class score with respect to a 1x3x224x224 image, the step of deep_dream.py '
          'and neural_style_transfer.py', 'input_gradient',
          (3, 224, 224), 1000, 1, 1, 4, 0.0, vgg16_gradient_minikeras, vgg16_gradient_keras3),
])


def make_data(np, model, layout):
    """(x, labels) of the model's synthetic data; layout 'th' or 'tf'."""
    rng = np.random.RandomState(1234)
    shape = model.input_shape if layout == 'th' else channels_last(model.input_shape)
    x = rng.rand(model.samples, *shape).astype('float32')
    labels = rng.randint(0, model.classes, size=model.samples)
    return x, labels


def one_hot(np, labels, classes):
    y = np.zeros((len(labels), classes), dtype='float32')
    y[np.arange(len(labels)), labels] = 1.0
    return y
