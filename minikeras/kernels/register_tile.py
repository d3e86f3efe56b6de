"""A row of float32s held in vector registers, for kernels that keep their
accumulators in registers across a long reduction.

LLVM's loop vectoriser only keeps a value in registers within one loop; an
accumulator that must live across a run-time loop (over input channels, say)
goes through memory on each trip. `Tile` is an LLVM vector of `TILE_LANES`
float32s: a local of that type stays in registers for as long as the kernel
holds it, and LLVM splits it into as many machine vectors as it takes.

`TILE_LANES` follows one rule, on the target's features: a tile is as many
machine vectors as an eighth of the vector registers, so that a kernel
holding four tiles keeps half the registers for its accumulators (AVX-512
compiled for 512 bits: 4 x 16 = 64 lanes; AVX2 / AVX: 2 x 8 = 16; SSE: 2 x 4
= 8). Numba's cache key holds the target features, so a kernel compiled for
one width is never loaded under another.

Operations (all inlined into the calling kernel):

- `tile_load(a, i)`: a[i : i + TILE_LANES] of a 1D float32 array
- `tile_store(a, i, t)`: a[i : i + TILE_LANES] = t
- `tile_splat(s)`: a tile of copies of a float32
- `tile_fma(acc, t, s)`: acc + t * s, one multiply-add per lane, contracted
  into an FMA where the CPU has one (fastmath 'contract', as the kernels)

A `Vector` is one machine vector (`VECTOR_LANES` float32s: 16 with
AVX-512 at 512 bits, 8 with AVX2, 4 with SSE), for kernels that hold many
accumulators at once, one per register (`VECTOR_REGISTERS` of them):

- `vector_load(a, i)`: a[i : i + VECTOR_LANES]
- `vector_store(a, i, v)`: a[i : i + VECTOR_LANES] = v
- `vector_even(u, v)`, `vector_odd(u, v)`: the even and the odd lanes of u
  followed by v (u's first)
- `vector_zip_low(u, v)`, `vector_zip_high(u, v)`: the first (second) halves
  of u and v, lane by lane in turn (u0, v0, u1, v1, ...): vector_even and
  vector_odd undone
- `vector_zero()`: a vector of zeros
- `vector_splat_load(a, i)`: a[i] in every lane (a[i] in Numba wraps
  negative indices: a compare, a move, a conditional move and an address
  per load, as many integer instructions as the FMAs they feed)
- `vector_add(u, v)`, `vector_sub(u, v)`: u + v, u - v lane by lane
- `vector_scale(v, s)`: v * s, s a float32
- `vector_fma(acc, u, v)`: acc + u * v lane by lane (contracted as tile_fma)
- `vector_sum(v)`: the sum of the lanes, by halves (lanes i and i + n/2
  first, down to one), an order fixed at compile time

Loads and stores are not bounds checked: the caller guarantees the range.
"""
import numba
from llvmlite import binding as llvm
from llvmlite import ir
from numba.core import types
from numba.extending import intrinsic, models, register_model


def _target_features():
    """The features Numba compiles for: NUMBA_CPU_FEATURES, else the host's
    (none known, hence the narrowest rule, for another NUMBA_CPU_NAME)."""
    features = numba.config.CPU_FEATURES
    if features is None:
        if numba.config.CPU_NAME not in (None, 'host'):
            return set()
        features = llvm.get_host_cpu_features().flatten()
    return set(features.split(','))


def vector_registers(features):
    """(vector registers, float32 lanes of one) for a set of LLVM target
    features ('+avx2', ...)."""
    if '+avx512f' in features:
        # vector_width.use_full_vector_width lifts LLVM's 256-bit preference.
        registers = 32
        bits = 512 if '-prefer-256-bit' in features else 256
    elif '+avx' in features:
        registers, bits = 16, 256
    else:
        registers, bits = 16, 128
    return registers, bits // 32


def tile_lanes(features):
    """Lanes of a tile for a set of LLVM target features ('+avx2', ...)."""
    registers, lanes = vector_registers(features)
    return lanes * (registers // 8)


VECTOR_REGISTERS, VECTOR_LANES = vector_registers(_target_features())
TILE_LANES = tile_lanes(_target_features())
_CONTRACT = ('contract',)


class Tile(types.Type):
    def __init__(self, lanes):
        self.lanes = lanes
        super().__init__(name='Tile(%d)' % lanes)


@register_model(Tile)
class _TileModel(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, ir.VectorType(ir.FloatType(), fe_type.lanes))


_TILE = Tile(TILE_LANES)
_VECTOR = ir.VectorType(ir.FloatType(), TILE_LANES)


def _is_float32_vector(a):
    return isinstance(a, types.Array) and a.ndim == 1 and a.dtype == types.float32


def _pointer(context, builder, array_type, array, index):
    data = context.make_array(array_type)(context, builder, array).data
    return builder.bitcast(builder.gep(data, [index]), _VECTOR.as_pointer())


def _splat(builder, scalar):
    one = builder.insert_element(ir.Constant(_VECTOR, ir.Undefined), scalar,
                                 ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(one, ir.Constant(_VECTOR, ir.Undefined),
                                  ir.Constant(ir.VectorType(ir.IntType(32), TILE_LANES), None))


@intrinsic
def tile_load(typingctx, a, i):
    if not (_is_float32_vector(a) and isinstance(i, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        return builder.load(_pointer(context, builder, signature.args[0], args[0], args[1]),
                            align=4)
    return _TILE(a, i), codegen


@intrinsic
def tile_store(typingctx, a, i, t):
    if not (_is_float32_vector(a) and isinstance(i, types.Integer) and t == _TILE):
        return None

    def codegen(context, builder, signature, args):
        builder.store(args[2], _pointer(context, builder, signature.args[0], args[0], args[1]),
                      align=4)
        return context.get_dummy_value()
    return types.none(a, i, t), codegen


@intrinsic
def tile_splat(typingctx, s):
    if s != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return _splat(builder, args[0])
    return _TILE(s), codegen


@intrinsic
def tile_fma(typingctx, acc, t, s):
    if not (acc == _TILE and t == _TILE and s == types.float32):
        return None

    def codegen(context, builder, signature, args):
        product = builder.fmul(args[1], _splat(builder, args[2]), flags=_CONTRACT)
        return builder.fadd(args[0], product, flags=_CONTRACT)
    return _TILE(acc, t, s), codegen


_ONE = Tile(VECTOR_LANES)
_MACHINE_VECTOR = ir.VectorType(ir.FloatType(), VECTOR_LANES)


@intrinsic
def vector_load(typingctx, a, i):
    if not (_is_float32_vector(a) and isinstance(i, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        pointer = builder.bitcast(builder.gep(data, [args[1]]), _MACHINE_VECTOR.as_pointer())
        return builder.load(pointer, align=4)
    return _ONE(a, i), codegen


@intrinsic
def vector_store(typingctx, a, i, v):
    if not (_is_float32_vector(a) and isinstance(i, types.Integer) and v == _ONE):
        return None

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        pointer = builder.bitcast(builder.gep(data, [args[1]]), _MACHINE_VECTOR.as_pointer())
        builder.store(args[2], pointer, align=4)
        return context.get_dummy_value()
    return types.none(a, i, v), codegen


def _machine_splat(builder, scalar):
    one = builder.insert_element(ir.Constant(_MACHINE_VECTOR, ir.Undefined), scalar,
                                 ir.Constant(ir.IntType(32), 0))
    return builder.shuffle_vector(one, ir.Constant(_MACHINE_VECTOR, ir.Undefined),
                                  ir.Constant(ir.VectorType(ir.IntType(32), VECTOR_LANES), None))


def _lane_operation(name):
    """An intrinsic applying the LLVM float instruction `name` lane by lane
    to two vectors."""
    @intrinsic
    def operation(typingctx, u, v):
        if not (u == _ONE and v == _ONE):
            return None

        def codegen(context, builder, signature, args):
            return getattr(builder, name)(args[0], args[1])
        return _ONE(u, v), codegen
    return operation


def _every_other_lane(first):
    """An intrinsic taking lanes first, first + 2, ... of the 2*VECTOR_LANES
    lanes of u followed by v."""
    @intrinsic
    def lanes(typingctx, u, v):
        if not (u == _ONE and v == _ONE):
            return None

        def codegen(context, builder, signature, args):
            mask = ir.Constant(ir.VectorType(ir.IntType(32), VECTOR_LANES),
                               [ir.Constant(ir.IntType(32), first + 2 * k)
                                for k in range(VECTOR_LANES)])
            return builder.shuffle_vector(args[0], args[1], mask)
        return _ONE(u, v), codegen
    return lanes


def _zipped_lanes(half):
    """An intrinsic taking lanes half*n/2 + k of u and of v in turn, k = 0 ..
    n/2 - 1 (n = VECTOR_LANES)."""
    @intrinsic
    def lanes(typingctx, u, v):
        if not (u == _ONE and v == _ONE):
            return None

        def codegen(context, builder, signature, args):
            start = half * (VECTOR_LANES // 2)
            mask = ir.Constant(ir.VectorType(ir.IntType(32), VECTOR_LANES),
                               [ir.Constant(ir.IntType(32), start + k // 2 + (k % 2) * VECTOR_LANES)
                                for k in range(VECTOR_LANES)])
            return builder.shuffle_vector(args[0], args[1], mask)
        return _ONE(u, v), codegen
    return lanes


vector_even = _every_other_lane(0)
vector_odd = _every_other_lane(1)
vector_zip_low = _zipped_lanes(0)
vector_zip_high = _zipped_lanes(1)
vector_add = _lane_operation('fadd')
vector_sub = _lane_operation('fsub')


@intrinsic
def vector_scale(typingctx, v, s):
    if not (v == _ONE and s == types.float32):
        return None

    def codegen(context, builder, signature, args):
        return builder.fmul(args[0], _machine_splat(builder, args[1]))
    return _ONE(v, s), codegen


@intrinsic
def vector_splat_load(typingctx, a, i):
    if not (_is_float32_vector(a) and isinstance(i, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        return _machine_splat(builder, builder.load(builder.gep(data, [args[1]]), align=4))
    return _ONE(a, i), codegen


@intrinsic
def vector_zero(typingctx):
    def codegen(context, builder, signature, args):
        return ir.Constant(_MACHINE_VECTOR, None)
    return _ONE(), codegen


@intrinsic
def vector_fma(typingctx, acc, u, v):
    if not (acc == _ONE and u == _ONE and v == _ONE):
        return None

    def codegen(context, builder, signature, args):
        product = builder.fmul(args[1], args[2], flags=_CONTRACT)
        return builder.fadd(args[0], product, flags=_CONTRACT)
    return _ONE(acc, u, v), codegen


@intrinsic
def vector_sum(typingctx, v):
    if v != _ONE:
        return None

    def codegen(context, builder, signature, args):
        value = args[0]
        lanes = VECTOR_LANES
        while lanes > 1:
            lanes //= 2
            low = ir.Constant(ir.VectorType(ir.IntType(32), lanes),
                              [ir.Constant(ir.IntType(32), k) for k in range(lanes)])
            high = ir.Constant(ir.VectorType(ir.IntType(32), lanes),
                               [ir.Constant(ir.IntType(32), lanes + k) for k in range(lanes)])
            undefined = ir.Constant(value.type, ir.Undefined)
            value = builder.fadd(builder.shuffle_vector(value, undefined, low),
                                 builder.shuffle_vector(value, undefined, high))
        return builder.extract_element(value, ir.Constant(ir.IntType(32), 0))
    return types.float32(v), codegen
