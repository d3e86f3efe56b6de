"""Python 3.6's re.split, served to a script's own code under `minikeras run`.

The expected lists are written by hand from the rule Python 2.7 and 3.0-3.6
documented ("split will never split a string on an empty pattern match") and
CPython 3.6's `pattern_split` (an empty match is skipped; the groups of a
splitting match come between the pieces, None where a group took no part;
the rest after the last split is the last piece, even when empty).
"""
import re
import subprocess
import sys
import textwrap

import pytest

from minikeras.compat.neighbours_re import split

CASES = [
    # Keras's bAbI tokenizer: words and separators, no None, no empty strings inside
    (r'(\W+)?', 'Bob dropped the apple.', ['Bob', ' ', 'dropped', ' ', 'the', ' ', 'apple', '.',
                                           '']),
    (r'(\W+)?', 'Where is the apple?', ['Where', ' ', 'is', ' ', 'the', ' ', 'apple', '?', '']),
    (r'(\W+)?', 'Mary went to the bathroom', ['Mary', ' ', 'went', ' ', 'to', ' ', 'the', ' ',
                                              'bathroom']),
    # Python 3.6's documentation
    (r'\W+', 'Words, words, words.', ['Words', 'words', 'words', '']),
    (r'(\W+)', 'Words, words, words.', ['Words', ', ', 'words', ', ', 'words', '.', '']),
    (r'(\W+)', '...words, words...', ['', '...', 'words', ', ', 'words', '...', '']),
    ('x*', 'foo', ['foo']),
    (r'\W*', '...words...', ['', 'words', '']),
    ('x*', 'axbc', ['a', 'bc']),
    # a group that does not take part gives None, as in every Python
    (r'(a)|b', 'xbyaz', ['x', None, 'y', 'a', 'z']),
]


@pytest.mark.parametrize('pattern,string,expected', CASES)
def test_split_as_python_3_6(pattern, string, expected):
    assert split(pattern, string) == expected


def test_maxsplit_and_flags():
    assert split(r'\W+', 'Words, words, words.', 1) == ['Words', 'words, words.']
    assert split('[a-f]+', '0a3B9', flags=re.IGNORECASE) == ['0', '3', '9']
    assert split(re.compile('x*'), 'axbc') == ['a', 'bc']


def test_keras_babi_tokenize_under_minikeras_run(tmp_path):
    """Only the script's own code gets 3.6's rule; the standard library keeps its own."""
    script = tmp_path / 'tok.py'
    script.write_text(textwrap.dedent(r'''
        import re
        def tokenize(sent):
            return [x.strip() for x in re.split('(\W+)?', sent) if x.strip()]
        print(tokenize('Bob dropped the apple. Where is the apple?'))
        import importlib.util, os
        helper = os.path.join(os.path.dirname(re.__file__), 'textwrap.py')
        # a caller outside the script's folder: Python's own rule
        code = compile("import re\nresult = re.split('x*', 'axbc')", helper, 'exec')
        scope = {}
        exec(code, scope)
        print(scope['result'])
    ''').lstrip())
    result = subprocess.run([sys.executable, '-m', 'minikeras', 'run', str(script)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == str(['Bob', 'dropped', 'the', 'apple', '.', 'Where', 'is', 'the', 'apple',
                            '?'])
    assert lines[1] == str(_python_split('x*', 'axbc'))


def _python_split(pattern, string):
    return re.split(pattern, string)


def test_plain_import_leaves_re_alone():
    import minikeras  # noqa: F401
    assert not getattr(re.split, 'minikeras_py36', False)
