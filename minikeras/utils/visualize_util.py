"""Keras 1's `keras.utils.visualize_util`: `plot` and `model_to_dot`, with pydot and Graphviz.

Keras 1.2.2 refused the import when pydot was missing; here the import always
works and a call without pydot or Graphviz says what to install.
"""
from . import vis_utils


def model_to_dot(model, show_shapes=False, show_layer_names=True):
    """The model's graph as a `pydot.Dot` (see `vis_utils.model_to_dot`).

    # Arguments
        model: a `Sequential` or functional `Model`.
        show_shapes: add each layer's input and output shapes to its node.
        show_layer_names: label nodes `name: ClassName` rather than `ClassName`.
    """
    return vis_utils.model_to_dot(model, show_shapes, show_layer_names)


def plot(model, to_file='model.png', show_shapes=False, show_layer_names=True):
    """Draws the model's graph into an image file (see `vis_utils.plot_model`).

    # Arguments
        model: a `Sequential` or functional `Model`.
        to_file: the image's path; its extension names the format (png by default).
        show_shapes: add each layer's input and output shapes.
        show_layer_names: label nodes `name: ClassName` rather than `ClassName`.
    """
    vis_utils.plot_model(model, to_file, show_shapes, show_layer_names)
