"""Python 3.6's `re.split`, for the code of a script under `minikeras run`.

Python 3.7 changed `re.split`: a pattern that can match the empty string
now splits there too. Python 2.7 and 3.0-3.6 never split on an empty match,
and Keras's bAbI examples rely on it: `re.split('(\\W+)?', sent)` gave the
words and separators of `sent`, where Python 3.7+ adds empty strings and, for
the unmatched optional group, None (on which `x.strip()` fails).

The rule of Python 3.6 (CPython's `pattern_split`), which `split` follows:
search from the current position; an empty match is skipped (the search
resumes one character further, or stops when it is at the end of the
string or right after the last split); a non-empty match cuts the string
and contributes its groups (None for a group that did not take part); what
follows the last cut is the last item, even when empty. Python 3.5-3.6 also
warned (FutureWarning) about patterns that could match the empty string and
rejected those that can only match it; the run does neither.

`install(script_dir)` replaces the module function `re.split` by one that
serves this rule to callers whose code lives under the script's folder (the
script and its own modules), and Python's current rule to everything else
(the standard library, NumPy, minikeras). Compiled patterns' `.split` method
is Python's own (a C method that cannot be replaced).
"""
import os
import re
import sys

_original_split = re.split


def split(pattern, string, maxsplit=0, flags=0):
    """`re.split` as Python 2.7 and 3.0-3.6 computed it (no split on an empty match).

    # Arguments
        pattern: a pattern string or a compiled pattern.
        string: the string to split.
        maxsplit: the most splits to make (0: no limit).
        flags: `re` flags, for a pattern string.

    # Returns
        The list of pieces, with the groups of each splitting match between them.
    """
    compiled = re.compile(pattern, flags)
    pieces = []
    last = position = 0
    end = len(string)
    splits = 0
    while not maxsplit or splits < maxsplit:
        match = compiled.search(string, position)
        if match is None:
            break
        start, stop = match.span()
        if start == stop:
            if last == end or stop == end:
                break
            position = stop + 1
            continue
        pieces.append(string[last:start])
        pieces.extend(match.groups())
        splits += 1
        last = position = stop
    pieces.append(string[last:])
    return pieces


def install(script_dir):
    """Serves `split` to the code under `script_dir` through `re.split` (idempotent)."""
    folder = os.path.join(os.path.abspath(script_dir), '')

    def script_split(pattern, string, maxsplit=0, flags=0):
        caller = sys._getframe(1).f_code.co_filename
        if os.path.abspath(caller).startswith(folder):
            return split(pattern, string, maxsplit, flags)
        return _original_split(pattern, string, maxsplit, flags)

    script_split.__doc__ = _original_split.__doc__
    script_split.minikeras_py36 = True
    re.split = script_split
