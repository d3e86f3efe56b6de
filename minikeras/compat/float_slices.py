"""Slice bounds that are whole floats, taken as NumPy before 1.12 took them.

Scripts of the Keras 0.x and 1.x years were written for Python 2, where
`len(X) / 10` is an int, and often run unchanged on Python 3, where it is a
float: `X[:len(X) - len(X) / 10]` then sliced with 45000.0. NumPy up to
1.11 (Keras 0.3.3's and 1.2.2's time) accepted a float slice bound with a
deprecation warning; NumPy 1.12 and later, and Python's lists, raise a
TypeError. `/` keeps Python 3's meaning (the float is computed as Python 3
computes it); only where that float ends up as a slice bound, and only when
it is a whole number, is it taken as the int it equals (Python 2's value and
NumPy 1.11's reading), with one notice on stderr per source line. Every
other value reaches the slice unchanged: a fraction such as 4.5 still raises
NumPy's TypeError (Python 2 would have floored it, NumPy 1.11 truncated it;
the two disagree on negative values, so minikeras guesses neither).

`minikeras run` applies this to a Keras 0.x or 1.x script's own file
(not to Keras 2 scripts, written when NumPy already refused floats): each
bound of a slice `a[lo:hi:step]` that is not a literal goes through
`slice_bound`.
"""
import ast
import sys

HELPER = '__minikeras_slice_bound__'

_noticed = set()


def slice_bound(value, filename, line):
    """`value`, or the int it equals when it is a whole float (a Python 2 `/`)."""
    if isinstance(value, float) and value.is_integer():
        if (filename, line) not in _noticed:
            _noticed.add((filename, line))
            print('minikeras: %s line %d: slice bound %r (a float from Python 3\'s /) taken as '
                  '%d, as Python 2 and NumPy < 1.12 took it' % (filename, line, value,
                                                                int(value)), file=sys.stderr)
        return int(value)
    return value


def _literal(node):
    """A constant, or a signed one (`-1` in `s[::-1]` is a unary minus)."""
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        node = node.operand
    return isinstance(node, ast.Constant)


class _BoundsTransformer(ast.NodeTransformer):
    def __init__(self, filename):
        self.filename = filename
        self.count = 0

    def visit_Slice(self, node):
        self.generic_visit(node)
        for field in ('lower', 'upper', 'step'):
            bound = getattr(node, field)
            if bound is None or _literal(bound):
                continue
            call = ast.Call(func=ast.Name(id=HELPER, ctx=ast.Load()),
                            args=[bound, ast.Constant(self.filename),
                                  ast.Constant(getattr(bound, 'lineno', 0))],
                            keywords=[])
            setattr(node, field, ast.copy_location(call, bound))
            self.count += 1
        return node


def compile_script(source, filename):
    """The code of a script's source text with its slice bounds wrapped, or
    None when it has no slice bound to wrap (run it as it is)."""
    tree = ast.parse(source, filename)
    transformer = _BoundsTransformer(filename)
    tree = transformer.visit(tree)
    if not transformer.count:
        return None
    ast.fix_missing_locations(tree)
    return compile(tree, filename, 'exec', dont_inherit=True)
