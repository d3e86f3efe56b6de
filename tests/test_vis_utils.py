"""Model drawing: keras.utils.visualize_util.plot / vis_utils.plot_model with pydot and Graphviz."""
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from minikeras.layers import Activation, Dense, Input, merge
from minikeras.models import Model, Sequential
from minikeras.utils import plot_model, vis_utils, visualize_util

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
needs_pydot = pytest.mark.skipif(
    subprocess.run([sys.executable, '-c', 'import pydot'], capture_output=True).returncode != 0,
    reason='pydot is not installed')
needs_graphviz = pytest.mark.skipif(shutil.which('dot') is None,
                                    reason="Graphviz's dot is not installed")


def shared_model():
    a = Input(shape=(3,), name='in_a')
    b = Input(shape=(3,), name='in_b')
    shared = Dense(2, name='shared')
    joined = merge([shared(a), shared(b)], mode='concat', name='joined')
    out = Dense(1, name='out')(joined)
    return Model(input=[a, b], output=out)


def graph(dot):
    """{label: node id} and the set of (source label, target label) edges of a pydot graph."""
    labels = {node.get_name(): node.get('label').strip('"') for node in dot.get_nodes()
              if node.get_name() not in ('node', 'edge', 'graph')}
    edges = {(labels[e.get_source()], labels[e.get_destination()]) for e in dot.get_edges()}
    return sorted(labels.values()), edges


@needs_pydot
def test_functional_model_nodes_edges_and_shapes():
    nodes, edges = graph(vis_utils.model_to_dot(shared_model(), show_shapes=True))
    assert nodes == sorted([
        'in_a: InputLayer\n|{input:|output:}|{{(None, 3)}|{(None, 3)}}',
        'in_b: InputLayer\n|{input:|output:}|{{(None, 3)}|{(None, 3)}}',
        'shared: Dense\n|{input:|output:}|{{(None, 3)}|{(None, 2)}}',
        'joined: Merge\n|{input:|output:}|{{[(None, 2), (None, 2)]}|{(None, 4)}}',
        'out: Dense\n|{input:|output:}|{{(None, 4)}|{(None, 1)}}',
    ])
    short = {(a.split(':')[0], b.split(':')[0]) for a, b in edges}
    assert short == {('in_a', 'shared'), ('in_b', 'shared'), ('shared', 'joined'),
                     ('joined', 'out')}


@needs_pydot
def test_sequential_starts_from_its_input_layer_and_labels_by_class():
    model = Sequential()
    model.add(Dense(4, input_dim=3, name='hidden'))
    model.add(Activation('relu', name='act'))
    dot = visualize_util.model_to_dot(model, show_layer_names=False)
    nodes, edges = graph(dot)
    assert nodes == sorted(['InputLayer', 'Dense', 'Activation'])
    assert edges == {('InputLayer', 'Dense'), ('Dense', 'Activation')}
    assert dot.get('rankdir') == 'TB'
    assert vis_utils.model_to_dot(model, rankdir='LR').get('rankdir') == 'LR'
    with pytest.raises(ValueError, match="rankdir should be 'TB', 'LR'"):
        vis_utils.model_to_dot(model, rankdir='sideways')


@needs_pydot
def test_a_model_without_input_shape_says_so():
    model = Sequential()
    model.add(Dense(4))
    with pytest.raises(ValueError, match='has no layers to draw yet'):
        vis_utils.model_to_dot(model)


@needs_pydot
def test_dot_source_needs_no_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path))  # no Graphviz reachable
    model = shared_model()
    path = str(tmp_path / 'model.dot')
    plot_model(model, to_file=path)
    source = open(path).read()
    assert source == vis_utils.model_to_dot(model).to_string()
    # one edge per connection, as in Keras: the shared layer feeds the merge twice
    assert source.startswith('digraph G {') and source.count(' -> ') == 5


@needs_pydot
def test_missing_graphviz_names_it_and_keeps_the_old_file(tmp_path, monkeypatch):
    monkeypatch.setenv('PATH', str(tmp_path))
    path = tmp_path / 'model.png'
    path.write_bytes(b'old picture')
    with pytest.raises(OSError, match='install Graphviz .*apt-get install graphviz'):
        visualize_util.plot(shared_model(), to_file=str(path))
    assert path.read_bytes() == b'old picture'
    assert sorted(os.listdir(str(tmp_path))) == ['model.png']


def test_missing_pydot_names_the_package(monkeypatch):
    monkeypatch.setitem(sys.modules, 'pydot', None)
    with pytest.raises(ImportError, match='needs pydot to draw the model: pip install pydot'):
        plot_model(shared_model(), to_file='never-written.png')
    assert not os.path.exists('never-written.png')


@needs_pydot
@needs_graphviz
def test_png_and_svg_rendered_by_graphviz(tmp_path):
    model = shared_model()
    png = tmp_path / 'model.png'
    plot_model(model, to_file=str(png), show_shapes=True)
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
    svg = tmp_path / 'model.svg'
    visualize_util.plot(model, to_file=str(svg))
    text = svg.read_text()
    assert '<svg' in text and 'shared: Dense' in text and 'joined: Merge' in text
    noext = tmp_path / 'model'
    plot_model(model, to_file=str(noext))
    assert noext.read_bytes()[:4] == b'\x89PNG'
    assert sorted(os.listdir(str(tmp_path))) == ['model', 'model.png', 'model.svg']


def test_plot_imports_inside_minikeras_run(tmp_path):
    script = tmp_path / 'plots.py'
    script.write_text(textwrap.dedent('''
        from keras.utils.visualize_util import plot, model_to_dot
        from keras.utils.vis_utils import plot_model
        from keras.utils import plot_model as top_level
        print(plot_model is top_level, callable(plot), callable(model_to_dot))
    '''))
    result = subprocess.run([sys.executable, '-m', 'minikeras', 'run', str(script)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout == 'True True True\n'
