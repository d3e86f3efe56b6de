"""`keras.applications` of Keras 1.2.2 and, for a Keras 2 call, of Keras
2.2.4: VGG16, VGG19, ResNet50, InceptionV3 and Xception, with ImageNet
weights from Keras's cache (~/.keras/models) or `get_file`."""
from .inception_v3 import InceptionV3  # noqa: F401
from .resnet50 import ResNet50  # noqa: F401
from .vgg16 import VGG16  # noqa: F401
from .vgg19 import VGG19  # noqa: F401
from .xception import Xception  # noqa: F401
