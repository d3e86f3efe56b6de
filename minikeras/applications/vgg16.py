"""`keras.applications.vgg16`."""
from .imagenet_utils import decode_predictions, preprocess_input  # noqa: F401
from .vgg import VGG16  # noqa: F401
