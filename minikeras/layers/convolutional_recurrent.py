"""Convolutional recurrent layers of Keras 1.2.2: `ConvLSTM2D`.

An LSTM whose input and recurrent transformations are 2D convolutions
(Shi et al. 2015, without the peephole connections, as Keras had it). The
convolutions run on the conv2d kernels (`minikeras.kernels.conv2d`): the
input convolution of every timestep in one call, the recurrent one once per
step; backprop through time is the same loop backwards.

Keras 1.2.2 details kept as they were (they change what a script computes):

- the recurrent convolution is always 'same' with stride 1 (the state keeps
  the shape of the input convolution's output);
- `init` and `inner_init` see the kernel shapes with Keras 1's default 'th'
  fans, in both orderings (ConvLSTM2D did not pass its dim_ordering to them);
  a Keras 2 call uses the fans of its data_format, as Keras 2 did;
- dropout masks are drawn once per sequence, one per gate: `dropout_W` masks
  of one input frame's shape, `dropout_U` masks of the state's shape;
- a masked step keeps the states and repeats the previous output (zeros
  before the first unmasked step), as Keras 1.2.2's `K.rnn` did;
- with `go_backwards`, the returned sequence is in the reversed order.
"""
import numpy as np

from .. import activations, initializations, regularizers
from .. import backend as K
from ..compat import keras2
from ..engine.base_layer import Layer, any_mask_flag
from ..kernels import conv2d as conv_kernels
from ..utils.conv_utils import resolve_dim_ordering
from ..utils.layer_checks import (check_known_channels, fraction, layer_label, one_of,
                                   positive_int, positive_ints)
from .core import _config_or_none

__all__ = ['ConvLSTM2D']

# The gates in the order of the concatenated kernels (Keras 1's W, Keras 2/3's
# kernel), and in the order of Keras 1.2.2's weight list.
GATES = ('i', 'f', 'c', 'o')
SAVED_ORDER = ('i', 'c', 'f', 'o')


def _dropout_masks(count, shape, p):
    """`count` masks of K.dropout applied to ones: kept with probability
    1 - p, scaled by 1 / (1 - p)."""
    retain = 1. - p
    keep = np.random.binomial(1, retain, size=(count,) + tuple(shape)).astype('float32')
    keep *= np.float32(1. / retain)
    return keep


def _init_name(init):
    return init if isinstance(init, str) else getattr(init, '__name__', init)


class ConvLSTM2D(Layer):
    """Convolutional LSTM: the gates of an LSTM computed by convolutions.

        i = inner_activation(conv(x, W_i) + b_i + conv(h, U_i))
        f = inner_activation(conv(x, W_f) + b_f + conv(h, U_f))
        c' = f * c + i * activation(conv(x, W_c) + b_c + conv(h, U_c))
        o = inner_activation(conv(x, W_o) + b_o + conv(h, U_o))
        h' = o * activation(c')

    where `conv(x, W)` uses `border_mode` and `subsample`, and `conv(h, U)` is
    'same' with stride 1.

    # Example
    ```python
        model = Sequential()
        model.add(ConvLSTM2D(nb_filter=40, nb_row=3, nb_col=3, border_mode='same',
                             return_sequences=True, input_shape=(None, 40, 40, 1),
                             dim_ordering='tf'))
    ```

    # Arguments
        nb_filter: number of convolution filters (the channels of the state).
        nb_row, nb_col: kernel size.
        init: initialization of the input kernels `W_*`.
        inner_init: initialization of the recurrent kernels `U_*`.
        forget_bias_init: initialization of the forget gate's bias ('one').
        activation: activation of the cell input and output (tanh).
        inner_activation: activation of the gates (hard_sigmoid:
            clip(0.2 x + 0.5, 0, 1)).
        dim_ordering: 'th' (input `(samples, time, channels, rows, cols)`),
            'tf' (`(samples, time, rows, cols, channels)`) or 'default'
            (the backend's `image_dim_ordering()`).
        border_mode: 'valid' or 'same', of the input convolution.
        subsample: (rows, cols) strides of the input convolution.
        W_regularizer, U_regularizer, b_regularizer: optional weight penalties.
        dropout_W: fraction of the input units to drop.
        dropout_U: fraction of the state units to drop.
        return_sequences: return the whole output sequence, or only the last
            output.
        go_backwards: process the sequence from its end.
        stateful: the last states of each sample of a batch are the initial
            states of the same sample in the next batch. Needs a fixed batch
            size (`batch_input_shape`); `reset_states()` zeroes them.
        weights: list of 12 arrays to start from (the order of `get_weights()`).

    Keras 2's spelling is accepted too (`compat/keras2.py`):
    `ConvLSTM2D(filters, kernel_size, strides, padding, data_format,
    activation, recurrent_activation, kernel_initializer,
    recurrent_initializer, unit_forget_bias, kernel_regularizer,
    recurrent_regularizer, bias_regularizer, dropout, recurrent_dropout,
    return_sequences, go_backwards, stateful)`.

    # Input shape
        5D `(samples, time, channels, rows, cols)` ('th') or
        `(samples, time, rows, cols, channels)` ('tf').

    # Output shape
        With `return_sequences`, 5D `(samples, time, nb_filter, new_rows,
        new_cols)` ('th') or `(samples, time, new_rows, new_cols, nb_filter)`
        ('tf'); otherwise the 4D image of the last step.

    # Weights
        `W_i, U_i, b_i, W_c, U_c, b_c, W_f, U_f, b_f, W_o, U_o, b_o`: each `W`
        of shape (nb_filter, channels, nb_row, nb_col) for 'th' and
        (nb_row, nb_col, channels, nb_filter) for 'tf', each `U` the same
        with nb_filter channels, each `b` (nb_filter,).

    # Masking
        A mask `(samples, time)` skips steps: the states stay, the output
        repeats the previous one.
    """

    supports_masking = True

    @keras2.keras2_arguments(keras2.CONV_LSTM2D)
    def __init__(self, nb_filter, nb_row, nb_col, init='glorot_uniform', inner_init='orthogonal',
                 forget_bias_init='one', activation='tanh', inner_activation='hard_sigmoid',
                 dim_ordering='default', border_mode='valid', subsample=(1, 1),
                 W_regularizer=None, U_regularizer=None, b_regularizer=None, dropout_W=0.,
                 dropout_U=0., return_sequences=False, go_backwards=False, stateful=False,
                 weights=None, **kwargs):
        super(ConvLSTM2D, self).__init__(weights=weights, **kwargs)
        self.nb_filter = positive_int(self, 'nb_filter', nb_filter)
        self.nb_row = positive_int(self, 'nb_row', nb_row)
        self.nb_col = positive_int(self, 'nb_col', nb_col)
        for arg, value in (('init', init), ('inner_init', inner_init),
                           ('forget_bias_init', forget_bias_init)):
            initializations.get(value)
        self.init = init
        self.inner_init = inner_init
        self.forget_bias_init = forget_bias_init
        self.activation = activations.get(activation)
        self.inner_activation = activations.get(inner_activation)
        self.dim_ordering = resolve_dim_ordering(dim_ordering, layer_label(self))
        self.border_mode = one_of(self, 'border_mode', border_mode, ('valid', 'same'))
        self.subsample = positive_ints(self, 'subsample', subsample, 2)
        self.W_regularizer = regularizers.get(W_regularizer)
        self.U_regularizer = regularizers.get(U_regularizer)
        self.b_regularizer = regularizers.get(b_regularizer)
        self.dropout_W = float(fraction(self, 'dropout_W', dropout_W))
        self.dropout_U = float(fraction(self, 'dropout_U', dropout_U))
        self.return_sequences = bool(return_sequences)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.states = []

    # -- shapes -------------------------------------------------------------------

    def _frame_axes(self, input_shape):
        """(channels, rows, cols) of one frame of a 5D input shape."""
        if len(input_shape) != 5:
            axes = '(samples, time, %s)' % ('channels, rows, cols' if self.dim_ordering == 'th'
                                            else 'rows, cols, channels')
            raise ValueError('%s expects 5D input %s (dim_ordering=%r), got shape %s'
                             % (layer_label(self), axes, self.dim_ordering,
                                tuple(input_shape)))
        if self.dim_ordering == 'th':
            return input_shape[2], input_shape[3], input_shape[4]
        return input_shape[4], input_shape[2], input_shape[3]

    def _state_size(self, rows, cols):
        """(rows, cols) of the state for frames of `rows` x `cols`."""
        sizes = []
        for axis, size, k, s in (('rows', rows, self.nb_row, self.subsample[0]),
                                 ('cols', cols, self.nb_col, self.subsample[1])):
            if size is None:
                sizes.append(None)
                continue
            if self.border_mode == 'valid' and size < k:
                raise ValueError("%s: kernel %dx%d is larger than its input frames (%s %d) with "
                                 "border_mode='valid'" % (layer_label(self), self.nb_row,
                                                          self.nb_col, axis, size))
            sizes.append(conv_kernels.conv_output_length(size, k, self.border_mode, s))
        return tuple(sizes)

    def _image(self, batch, rows, cols):
        if self.dim_ordering == 'th':
            return (batch, self.nb_filter, rows, cols)
        return (batch, rows, cols, self.nb_filter)

    def get_output_shape_for(self, input_shape):
        _, rows, cols = self._frame_axes(input_shape)
        out_rows, out_cols = self._state_size(rows, cols)
        image = self._image(input_shape[0], out_rows, out_cols)
        if self.return_sequences:
            return image[:1] + (input_shape[1],) + image[1:]
        return image

    def compute_mask(self, x, mask=None):
        """The output mask: the input mask for sequences, None for the last output."""
        return mask if self.return_sequences else None

    def _output_mask_flags(self, input_flags):
        return [any_mask_flag(input_flags) if self.return_sequences else False]

    # -- weights -------------------------------------------------------------------

    def build(self, input_shape):
        channels, rows, cols = self._frame_axes(input_shape)
        check_known_channels(self, channels, input_shape)
        self._state_size(rows, cols)
        n = self.nb_filter
        if self.dim_ordering == 'th':
            w_shape, u_shape = (n, channels, self.nb_row, self.nb_col), \
                (n, n, self.nb_row, self.nb_col)
        else:
            w_shape, u_shape = (self.nb_row, self.nb_col, channels, n), \
                (self.nb_row, self.nb_col, n, n)
        # Keras 1.2.2 gave the initializers no dim_ordering (so 'th' fans);
        # a Keras 2 call used its data_format's fans.
        fans = self.dim_ordering if getattr(self, 'keras_2_call', False) else 'th'
        self._built_input_shape = tuple(input_shape)
        parts = {}
        for gate in SAVED_ORDER:
            W = self.add_weight(w_shape, self.init, name='%s_W_%s' % (self.name, gate),
                                regularizer=self.W_regularizer, dim_ordering=fans)
            U = self.add_weight(u_shape, self.inner_init, name='%s_U_%s' % (self.name, gate),
                                regularizer=self.U_regularizer, dim_ordering=fans)
            b = self.add_weight((n,), self.forget_bias_init if gate == 'f' else 'zero',
                                name='%s_b_%s' % (self.name, gate),
                                regularizer=self.b_regularizer)
            for kind, array in (('W', W), ('U', U), ('b', b)):
                setattr(self, '%s_%s' % (kind, gate), array)
            parts[gate] = (W, U, b)
        self._gate_parts = [parts[g] for g in GATES]
        self.states = [None, None]
        if self.stateful:
            self.reset_states()

    def _kernels_th(self):
        """(W (4n, C, kh, kw), U (4n, n, kh, kw), b (4n,)), gates i, f, c, o,
        in the kernels' channels-first layout."""
        W = np.concatenate([self._to_th(p[0]) for p in self._gate_parts], axis=0)
        U = np.concatenate([self._to_th(p[1]) for p in self._gate_parts], axis=0)
        b = np.concatenate([p[2] for p in self._gate_parts])
        return np.ascontiguousarray(W), np.ascontiguousarray(U), b

    def _to_th(self, kernel):
        return kernel if self.dim_ordering == 'th' else kernel.transpose(3, 2, 0, 1)

    def _from_th(self, kernel):
        return kernel if self.dim_ordering == 'th' else kernel.transpose(2, 3, 1, 0)

    # -- states --------------------------------------------------------------------

    def _stateful_batch_size(self):
        shape = self._built_input_shape or self.batch_input_shape
        if not shape or not shape[0]:
            raise ValueError(
                '%s is stateful, so it needs to know its batch size: give '
                'batch_input_shape=(batch, time, ...) to the first layer of a Sequential model, '
                'or batch_shape=... to Input()' % layer_label(self))
        return shape[0]

    def reset_states(self):
        """Zeroes the states (h and c) of a stateful layer."""
        if not self.stateful:
            raise ValueError('%s: reset_states() is for stateful layers; this one was made with '
                             'stateful=False' % layer_label(self))
        shape = self._built_input_shape
        if shape is None:
            raise ValueError('%s: reset_states() before the layer is built' % layer_label(self))
        batch = self._stateful_batch_size()
        _, rows, cols = self._frame_axes(shape)
        if rows is None or cols is None:
            raise ValueError('%s is stateful, so it needs to know the size of its frames; got '
                             'input shape %s' % (layer_label(self), shape))
        state_shape = self._image(batch, *self._state_size(rows, cols))
        self.states = [np.zeros(state_shape, 'float32') for _ in range(2)]

    # -- computation ---------------------------------------------------------------

    def _check_input(self, x, mask):
        x = np.asarray(x)
        channels, rows, cols = self._frame_axes(x.shape)
        built = self._built_input_shape
        b_channels, b_rows, b_cols = self._frame_axes(built)
        for what, got, want in (('channels', channels, b_channels), ('rows', rows, b_rows),
                                ('cols', cols, b_cols), ('timesteps', x.shape[1], built[1])):
            if want is not None and got != want:
                raise ValueError('%s expects input of shape %s, got an array of shape %s (%s: '
                                 '%d, expected %d)' % (layer_label(self), (None,) + built[1:],
                                                       x.shape, what, got, want))
        if x.shape[1] == 0:
            raise ValueError('%s: the input has no timesteps (shape %s)'
                             % (layer_label(self), x.shape))
        if self.stateful and x.shape[0] != self._stateful_batch_size():
            batch = self._stateful_batch_size()
            raise ValueError('%s is stateful with batch size %d (from batch_input_shape %s) but '
                             'got a batch of shape %s; feed batches of exactly %d samples'
                             % (layer_label(self), batch, built, x.shape, batch))
        if mask is not None:
            mask = np.asarray(mask)
            if mask.shape != x.shape[:2]:
                raise ValueError('%s: the mask has shape %s, expected (samples, timesteps) = %s'
                                 % (layer_label(self), mask.shape, x.shape[:2]))
            mask = mask.astype(bool)
        return np.asarray(x, dtype='float32'), mask

    def call(self, x, mask=None):
        """The output for an array `x` (and its mask), in inference mode."""
        return self.forward(x, training=False, mask=mask)[0]

    def _frames_cf(self, x):
        """(time, samples, channels, rows, cols), contiguous, in processing order."""
        frames = x.transpose(1, 0, 2, 3, 4) if self.dim_ordering == 'th' else \
            x.transpose(1, 0, 4, 2, 3)
        if self.go_backwards:
            frames = frames[::-1]
        return np.ascontiguousarray(frames, dtype='float32')

    def _state_cf(self, state):
        return np.ascontiguousarray(state if self.dim_ordering == 'th'
                                    else state.transpose(0, 3, 1, 2))

    def _state_layer(self, state_cf):
        return state_cf if self.dim_ordering == 'th' else state_cf.transpose(0, 2, 3, 1)

    def forward(self, x, training=False, need_input_grad=True, mask=None):
        x, mask = self._check_input(x, mask)
        frames = self._frames_cf(x)
        steps, batch, channels, rows, cols = frames.shape
        n = self.nb_filter
        out_rows, out_cols = self._state_size(rows, cols)
        sh, sw = self.subsample
        pad_top, _ = conv_kernels.conv_padding(rows, self.nb_row, self.border_mode, sh)
        pad_left, _ = conv_kernels.conv_padding(cols, self.nb_col, self.border_mode, sw)
        in_geometry = (sh, sw, pad_top, pad_left)
        rec_geometry = (1, 1) + (conv_kernels.conv_padding(out_rows, self.nb_row, 'same', 1)[0],
                                 conv_kernels.conv_padding(out_cols, self.nb_col, 'same', 1)[0])
        W, U, b = self._kernels_th()
        state_shape = (batch, n, out_rows, out_cols)
        w_masks = u_masks = None
        if training and self.dropout_W > 0:
            w_masks = _dropout_masks(4, (batch, channels, rows, cols), self.dropout_W)
        if training and self.dropout_U > 0:
            u_masks = _dropout_masks(4, state_shape, self.dropout_U)

        # the input convolution of every step at once: (time * samples, 4n, rows, cols)
        flat = frames.reshape((steps * batch, channels, rows, cols))
        zx = np.empty((steps * batch, 4 * n, out_rows, out_cols), 'float32')
        masked_frames = None
        if w_masks is None:
            conv_kernels.conv2d_forward(flat, W, b, zx, *in_geometry)
        else:
            masked_frames = [np.ascontiguousarray((frames * w_masks[g]).reshape(flat.shape))
                             for g in range(4)]
            part = np.empty((steps * batch, n, out_rows, out_cols), 'float32')
            for g in range(4):
                conv_kernels.conv2d_forward(masked_frames[g],
                                            np.ascontiguousarray(W[g * n:(g + 1) * n]),
                                            b[g * n:(g + 1) * n], part, *in_geometry)
                zx[:, g * n:(g + 1) * n] = part
        zx = zx.reshape((steps, batch, 4 * n, out_rows, out_cols))

        if self.stateful:
            h = self._state_cf(self.states[0])
            c = self._state_cf(self.states[1])
        else:
            h = np.zeros(state_shape, 'float32')
            c = np.zeros(state_shape, 'float32')
        output = np.zeros(state_shape, 'float32')
        keep = None if mask is None else mask.T[::-1] if self.go_backwards else mask.T
        zero_bias = np.zeros(4 * n, 'float32')
        zero_part_bias = np.zeros(n, 'float32')
        recurrent = np.empty((batch, 4 * n, out_rows, out_cols), 'float32')
        part = np.empty(state_shape, 'float32')
        hs, cs, zs, gates, act_cs, outputs = [], [], [], [], [], []
        for t in range(steps):
            if u_masks is None:
                conv_kernels.conv2d_forward(h, U, zero_bias, recurrent, *rec_geometry)
            else:
                for g in range(4):
                    conv_kernels.conv2d_forward(np.ascontiguousarray(h * u_masks[g]),
                                                np.ascontiguousarray(U[g * n:(g + 1) * n]),
                                                zero_part_bias, part, *rec_geometry)
                    recurrent[:, g * n:(g + 1) * n] = part
            z = zx[t] + recurrent
            i = self.inner_activation(z[:, :n])
            f = self.inner_activation(z[:, n:2 * n])
            g_ = self.activation(z[:, 2 * n:3 * n])
            o = self.inner_activation(z[:, 3 * n:])
            c_new = f * c + i * g_
            act_c = self.activation(c_new)
            h_new = o * act_c
            hs.append(h)
            cs.append(c)
            zs.append(z)
            gates.append((i, f, g_, o))
            act_cs.append(act_c)
            if keep is None:
                h, c, output = h_new, c_new, h_new
            else:
                m = keep[t][:, None, None, None]
                h = np.where(m, h_new, h)
                c = np.where(m, c_new, c)
                output = np.where(m, h_new, output)
            outputs.append(output)
        hs.append(h)
        cs.append(c)
        if self.stateful:
            self.states[0][...] = self._state_layer(h)
            self.states[1][...] = self._state_layer(c)

        if self.return_sequences:
            seq = np.stack(outputs)
            if self.dim_ordering == 'th':
                y = seq.transpose(1, 0, 2, 3, 4)
            else:
                y = seq.transpose(1, 0, 3, 4, 2)
            y = np.ascontiguousarray(y)
        else:
            y = np.ascontiguousarray(self._state_layer(outputs[-1]))

        def backprop(dy):
            dy = np.asarray(dy, dtype='float32')
            if self.return_sequences:
                douts = dy.transpose(1, 0, 2, 3, 4) if self.dim_ordering == 'th' else \
                    dy.transpose(1, 0, 4, 2, 3)
            else:
                douts = np.zeros((steps,) + state_shape, 'float32')
                douts[-1] = self._state_cf(dy)
            dz_all = np.empty((steps, batch, 4 * n, out_rows, out_cols), 'float32')
            dU = np.zeros_like(U)
            dU_part = np.empty((n, n, self.nb_row, self.nb_col), 'float32')
            dU_full = np.empty_like(U)
            db_scratch = np.empty(4 * n, 'float32')
            db_part = np.empty(n, 'float32')
            dh_in = np.empty(state_shape, 'float32')
            dh_next = np.zeros(state_shape, 'float32')
            dc_next = np.zeros(state_shape, 'float32')
            dout_next = np.zeros(state_shape, 'float32')
            for t in range(steps - 1, -1, -1):
                d_output = douts[t] + dout_next
                if keep is None:
                    dh_new, dc_new = d_output + dh_next, dc_next
                    dh_pass = dc_pass = 0.
                    dout_next = np.zeros(state_shape, 'float32')
                else:
                    m = keep[t][:, None, None, None]
                    dh_new = np.where(m, d_output + dh_next, 0.).astype('float32')
                    dc_new = np.where(m, dc_next, 0.).astype('float32')
                    dh_pass = np.where(m, 0., dh_next).astype('float32')
                    dc_pass = np.where(m, 0., dc_next).astype('float32')
                    dout_next = np.where(m, 0., d_output).astype('float32')
                i, f, g_, o = gates[t]
                z = zs[t]
                c_new = f * cs[t] + i * g_
                dc = dc_new + self.activation.backward(c_new, act_cs[t], dh_new * o)
                dz = dz_all[t]
                dz[:, :n] = self.inner_activation.backward(z[:, :n], i, dc * g_)
                dz[:, n:2 * n] = self.inner_activation.backward(z[:, n:2 * n], f, dc * cs[t])
                dz[:, 2 * n:3 * n] = self.activation.backward(z[:, 2 * n:3 * n], g_, dc * i)
                dz[:, 3 * n:] = self.inner_activation.backward(z[:, 3 * n:], o,
                                                               dh_new * act_cs[t])
                h_prev = hs[t]
                if u_masks is None:
                    conv_kernels.conv2d_backward_weights(h_prev, dz, dU_full, db_scratch,
                                                         *rec_geometry)
                    dU += dU_full
                    conv_kernels.conv2d_backward_input(dz, U, dh_in, *rec_geometry)
                    dh_prev = dh_in.copy()
                else:
                    dh_prev = np.zeros(state_shape, 'float32')
                    for g in range(4):
                        dz_g = np.ascontiguousarray(dz[:, g * n:(g + 1) * n])
                        conv_kernels.conv2d_backward_weights(
                            np.ascontiguousarray(h_prev * u_masks[g]), dz_g, dU_part, db_part,
                            *rec_geometry)
                        dU[g * n:(g + 1) * n] += dU_part
                        conv_kernels.conv2d_backward_input(
                            dz_g, np.ascontiguousarray(U[g * n:(g + 1) * n]), dh_in,
                            *rec_geometry)
                        dh_prev += dh_in * u_masks[g]
                dh_next = dh_prev + dh_pass
                dc_next = dc * f + dc_pass
            dz_flat = dz_all.reshape((steps * batch, 4 * n, out_rows, out_cols))
            dW = np.empty_like(W)
            db = np.empty(4 * n, 'float32')
            dx_flat = np.zeros(flat.shape, 'float32') if need_input_grad else None
            if w_masks is None:
                conv_kernels.conv2d_backward_weights(flat, dz_flat, dW, db, *in_geometry)
                if need_input_grad:
                    conv_kernels.conv2d_backward_input(dz_flat, W, dx_flat, *in_geometry)
            else:
                dW_part = np.empty((n, channels, self.nb_row, self.nb_col), 'float32')
                dx_part = np.empty(flat.shape, 'float32')
                for g in range(4):
                    dz_g = np.ascontiguousarray(dz_flat[:, g * n:(g + 1) * n])
                    conv_kernels.conv2d_backward_weights(masked_frames[g], dz_g, dW_part,
                                                         db_part, *in_geometry)
                    dW[g * n:(g + 1) * n] = dW_part
                    db[g * n:(g + 1) * n] = db_part
                    if need_input_grad:
                        conv_kernels.conv2d_backward_input(
                            dz_g, np.ascontiguousarray(W[g * n:(g + 1) * n]), dx_part,
                            *in_geometry)
                        dx_flat += (dx_part.reshape(frames.shape) *
                                    w_masks[g]).reshape(flat.shape)
            self._add_gradients(dW, dU, db)
            if not need_input_grad:
                return None
            dx = dx_flat.reshape(frames.shape)
            if self.go_backwards:
                dx = dx[::-1]
            if self.dim_ordering == 'th':
                return np.ascontiguousarray(dx.transpose(1, 0, 2, 3, 4))
            return np.ascontiguousarray(dx.transpose(1, 0, 3, 4, 2))
        return y, backprop

    def _add_gradients(self, dW, dU, db):
        """Adds the gradients of the concatenated channels-first kernels into
        the buffers of the per-gate weights."""
        n = self.nb_filter
        buffers = {id(w): g for w, g in zip(self._trainable_weights, self._gradients)}
        for k, (W, U, b) in enumerate(self._gate_parts):
            part = slice(k * n, (k + 1) * n)
            buffers[id(W)][...] += self._from_th(dW[part])
            buffers[id(U)][...] += self._from_th(dU[part])
            buffers[id(b)][...] += db[part]

    # -- configuration ---------------------------------------------------------------

    def get_config(self):
        config = super(ConvLSTM2D, self).get_config()
        config.update({
            'nb_filter': self.nb_filter, 'nb_row': self.nb_row, 'nb_col': self.nb_col,
            'init': _init_name(self.init), 'inner_init': _init_name(self.inner_init),
            'forget_bias_init': _init_name(self.forget_bias_init),
            'activation': activations.serialize(self.activation),
            'inner_activation': activations.serialize(self.inner_activation),
            'dim_ordering': self.dim_ordering, 'border_mode': self.border_mode,
            'subsample': self.subsample,
            'W_regularizer': _config_or_none(self.W_regularizer),
            'U_regularizer': _config_or_none(self.U_regularizer),
            'b_regularizer': _config_or_none(self.b_regularizer),
            'dropout_W': self.dropout_W, 'dropout_U': self.dropout_U,
            'return_sequences': self.return_sequences, 'go_backwards': self.go_backwards,
            'stateful': self.stateful})
        if self.stateful and self._built_input_shape is not None:
            config['batch_input_shape'] = self._built_input_shape
        return config
