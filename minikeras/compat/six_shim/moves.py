"""`six.moves`: Python 3 names under their Python 2 spellings."""
import _thread  # noqa: F401
import builtins  # noqa: F401
import configparser  # noqa: F401
import pickle as cPickle  # noqa: F401
import queue  # noqa: F401
from functools import reduce  # noqa: F401
from io import StringIO  # noqa: F401
from itertools import zip_longest  # noqa: F401

range = builtins.range
xrange = builtins.range
zip = builtins.zip
map = builtins.map
filter = builtins.filter
input = builtins.input
raw_input = builtins.input
zip_longest = zip_longest
