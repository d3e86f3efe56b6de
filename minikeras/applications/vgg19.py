"""`keras.applications.vgg19`."""
from .imagenet_utils import decode_predictions, preprocess_input  # noqa: F401
from .vgg import VGG19  # noqa: F401
