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
from numba.extending import intrinsic

__all__ = ['borrowed']


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
