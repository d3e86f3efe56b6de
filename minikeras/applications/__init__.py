"""`keras.applications` of Keras 1.2.2: VGG16, VGG19 and ResNet50, with
ImageNet weights read from Keras's cache (~/.keras/models).

InceptionV3 and Xception are not provided yet (Xception needs
SeparableConvolution2D, which minikeras does not have)."""
from .resnet50 import ResNet50  # noqa: F401
from .vgg16 import VGG16  # noqa: F401
from .vgg19 import VGG19  # noqa: F401
