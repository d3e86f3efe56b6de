"""Progbar prints Keras 1's exact lines (a clock is faked for the seconds)."""
import pytest

from minikeras.utils import generic_utils
from minikeras.utils.generic_utils import Progbar


@pytest.fixture
def clock(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(generic_utils.time, 'time', lambda: now[0])
    return now


def test_verbose_1_bar_eta_and_averages(clock, capsys):
    bar = Progbar(100)
    clock[0] += 2
    bar.update(40, [('loss', 0.5), ('acc', 0.25)])
    clock[0] += 3
    bar.update(100, [('loss', 0.25), ('acc', 0.0001)])
    out = capsys.readouterr().out
    first, second = out.split('\r')[1:]
    assert first.rstrip('\x08') == ' 40/100 [===========>..................] - ETA: 3s - loss: 0.5000 - acc: 0.2500'
    # Averages weighted by steps: loss (0.5*40 + 0.25*60)/100, acc (0.25*40 + 0.0001*60)/100.
    # The line is 5 characters shorter than the previous one ('ETA: 3s' became '5s'),
    # so Keras 1 pads it with 5 spaces to erase the leftovers.
    assert second.lstrip('\x08') == \
        '100/100 [==============================] - 5s - loss: 0.3500 - acc: 0.1001' + ' ' * 5 + '\n'


def test_small_values_use_exponent_format(clock, capsys):
    bar = Progbar(10)
    bar.update(10, [('loss', 0.0005)])
    assert capsys.readouterr().out.endswith(' - 0s - loss: 5.0000e-04\n')


def test_verbose_2_prints_one_line_at_the_end(clock, capsys):
    bar = Progbar(10, verbose=2)
    bar.update(5, [('loss', 1.0)])
    assert capsys.readouterr().out == ''
    clock[0] += 7
    bar.add(5, [('loss', 2.0)])
    assert capsys.readouterr().out == '7s - loss: 1.5000\n'


def test_interval_throttles_redraws_unless_forced(clock, capsys):
    bar = Progbar(100)
    bar.update(10)
    bar.update(20)
    assert capsys.readouterr().out.count('[') == 1
    bar.update(30, force=True)
    assert capsys.readouterr().out.count('[') == 1


def test_shrinking_line_is_padded_with_spaces(clock, capsys):
    bar = Progbar(1000)
    bar.update(10, [('loss', 123456.0)])
    clock[0] += 1
    bar.update(20, [('loss', -123456.0 * 3)])
    out = capsys.readouterr().out
    assert out.count('\r') == 2


def test_reaching_the_target_always_draws_the_final_line(clock, capsys):
    bar = Progbar(10)
    bar.update(9)
    bar.update(10)  # within the 0.05 s interval of the previous draw
    last = capsys.readouterr().out.split('\r')[-1]
    assert last.endswith('\n') and last.rstrip() == '10/10 [==============================] - 0s'
