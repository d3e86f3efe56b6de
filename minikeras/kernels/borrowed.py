"""Views without reference counting, for a kernel's inner loops.

Every view a Numba kernel takes of an array (a row `x[n, c]`, a slice
`V[k, c, q:q + nj]`) increments and later decrements the reference count of
the array's memory: two atomic instructions. In loops that take a few views
per short run of arithmetic (the Winograd transforms: some 30 per tile row
and channel) they took a third of the time on one thread, and the threads'
views of one shared input bounce its count's cache line between the cores.

`borrowed(a)` is `a` without an owner (Numba's reference counting skips
arrays whose memory-info pointer is null, as for `numba.carray`), so views
of it cost nothing to take. Only for arrays that stay alive elsewhere while
the view is used: a kernel's arguments, which its caller holds.
"""
from numba.core import cgutils, types
from numba.extending import intrinsic

__all__ = ['borrowed', 'borrowed_span']


@intrinsic
def borrowed(typingctx, array):
    """The array `array`, the same data, shape and strides, with no owner."""
    def codegen(context, builder, signature, args):
        source = context.make_array(signature.args[0])(context, builder, value=args[0])
        view = context.make_array(signature.return_type)(context, builder)
        context.populate_array(view, data=source.data, shape=source.shape,
                               strides=source.strides, itemsize=source.itemsize, meminfo=None,
                               parent=None)
        return view._getvalue()
    return array(array), codegen


@intrinsic
def borrowed_span(typingctx, array):
    """The memory of a 3D float32 array from its first element to its last,
    as a 1D C-contiguous array with no owner: a flat view of an array whose
    rows are contiguous but whose planes (or rows) lie farther apart than
    their length. Element [i, j, k] is at i*strides[0]/4 + j*strides[1]/4 + k."""
    if not (isinstance(array, types.Array) and array.ndim == 3
            and array.dtype == types.float32):
        return None
    flat = types.Array(types.float32, 1, 'C')

    def codegen(context, builder, signature, args):
        source = context.make_array(signature.args[0])(context, builder, value=args[0])
        shape = cgutils.unpack_tuple(builder, source.shape, 3)
        strides = cgutils.unpack_tuple(builder, source.strides, 3)
        one = context.get_constant(types.intp, 1)
        zero = context.get_constant(types.intp, 0)
        four = context.get_constant(types.intp, 4)
        last = builder.add(
            builder.add(builder.mul(builder.sub(shape[0], one), builder.sdiv(strides[0], four)),
                        builder.mul(builder.sub(shape[1], one), builder.sdiv(strides[1], four))),
            shape[2])
        empty = builder.or_(builder.or_(builder.icmp_signed('==', shape[0], zero),
                                        builder.icmp_signed('==', shape[1], zero)),
                            builder.icmp_signed('==', shape[2], zero))
        length = builder.select(empty, zero, last)
        view = context.make_array(flat)(context, builder)
        context.populate_array(view, data=source.data,
                               shape=cgutils.pack_array(builder, [length]),
                               strides=cgutils.pack_array(builder, [four]),
                               itemsize=source.itemsize, meminfo=None, parent=None)
        return view._getvalue()
    return flat(array), codegen
