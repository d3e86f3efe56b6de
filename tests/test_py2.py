"""Python 2 scripts under `minikeras run`: translated by fissix, run with their own line numbers."""
import os
import subprocess
import sys
import textwrap

import pytest

from minikeras.compat import py2

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytest.importorskip('fissix')


def run(script, stdin='', env=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run([sys.executable, '-m', 'minikeras', 'run', script], cwd=ROOT,
                          input=stdin, env=full_env, capture_output=True, text=True,
                          timeout=300)


def write(path, text):
    path.write_text(textwrap.dedent(text).lstrip('\n'))
    return str(path)


PY2_SCRIPT = r'''
import StringIO, cStringIO, Queue, urllib, urllib2
from itertools import izip
import keras
counts = {'a': 1L, 'b': 0777}
print "first key:", sorted(counts.keys())[0], counts.keys()[0] in counts, `6 * 7`
for key, value in sorted(counts.iteritems()):
    print key, value,
print
if counts.has_key('a') and not counts.has_key('z'):
    print "has a"
try:
    raise ValueError, "boom"
except ValueError, e:
    print "caught", e
name = raw_input()
print unicode("hello ") + name, isinstance(u"x", unicode), type(10L).__name__
print [i * i for i in xrange(4)], list(izip([1, 2], 'ab'))
print 7 / 2, 7 // 2, 2 ** 40 / 2 ** 40
buffer = StringIO.StringIO(); buffer.write("io"); print buffer.getvalue(),
print cStringIO.StringIO("c").read(), Queue.Queue().empty(), urllib.quote("a b")
print urllib2.Request("http://example.invalid/").get_method(), keras.__name__
'''


def test_python2_script_is_translated_and_runs(tmp_path):
    result = run(write(tmp_path / 'legacy.py', PY2_SCRIPT), stdin='world\n')
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        'first key: a True 42',
        'a 1 b 511 ',
        'has a',
        'caught boom',
        "hello world True int",
        "[0, 1, 4, 9] [(1, 'a'), (2, 'b')]",
        '3.5 3 1.0',
        'io c True a%20b',
        'GET minikeras',
    ]
    notice = [line for line in result.stderr.splitlines() if 'Python 2' in line]
    assert len(notice) == 1
    assert 'legacy.py is Python 2 (line 4:' in notice[0]
    assert 'translated to Python 3 with fissix' in notice[0]
    assert "Integer `/` keeps Python 3's meaning (7 / 2 == 3.5)" in notice[0]


def test_python3_script_is_not_translated(tmp_path):
    script = write(tmp_path / 'modern.py', '''
        d = {'a': 1}
        print(7 / 2, list(d.items()))
    ''')
    result = run(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "3.5 [('a', 1)]\n"
    assert 'Python 2' not in result.stderr


def test_traceback_points_at_the_original_lines(tmp_path):
    script = write(tmp_path / 'fails.py', '''
        import sys

        def divide(a, b):
            print "dividing", a, b
            return a / b

        for i in xrange(2):
            print divide(10, 1 - i)
    ''')
    result = run(script)
    assert result.returncode == 1
    assert result.stdout == 'dividing 10 1\n10.0\ndividing 10 0\n'
    expected = '\n'.join([
        '  File "%s", line 8, in <module>' % script,
        '    print divide(10, 1 - i)',
        '  File "%s", line 5, in divide' % script,
        '    return a / b'] + (['           ~~^~~'] if sys.version_info >= (3, 11) else []) + [
        'ZeroDivisionError: division by zero'])
    assert result.stderr.rstrip('\n').endswith(expected), result.stderr


def test_lines_added_by_a_fixer_keep_later_lines_in_place(tmp_path):
    # fix_urllib turns this one import into two statements on two lines.
    script = write(tmp_path / 'grows.py', '''
        from urllib2 import urlopen, HTTPError
        print "ok"
        raise KeyError("line three")
    ''')
    result = run(script)
    assert result.returncode == 1
    assert result.stdout == 'ok\n'
    assert '  File "%s", line 3, in <module>' % script in result.stderr
    assert '    raise KeyError("line three")' in result.stderr


def test_classes_of_a_translated_script_pickle_as_main(tmp_path):
    script = write(tmp_path / 'pickles.py', '''
        import cPickle
        class Point(object):
            def __init__(self, x):
                self.x = x
        print cPickle.loads(cPickle.dumps(Point(3))).x
    ''')
    result = run(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == '3\n'


def test_python2_tab_indentation_is_read_as_python2_did(tmp_path):
    script = tmp_path / 'tabs.py'
    script.write_text('if True:\n        x = 1\n\tprint "tab", x\n')
    result = run(str(script))
    assert result.returncode == 0, result.stderr
    assert result.stdout == 'tab 1\n'


def test_untranslatable_line_is_named_without_a_traceback(tmp_path):
    script = write(tmp_path / 'keyword.py', '''
        print "python 2"
        async = True
        print async
    ''')
    result = run(script)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert 'is Python 2, but line 2 is still not valid Python 3' in result.stderr
    assert '    async = True' in result.stderr


def test_neither_python3_nor_python2_names_the_line(tmp_path):
    script = write(tmp_path / 'broken.py', '''
        print "fine"
        x = = 2
    ''')
    result = run(script)
    assert result.returncode == 1
    assert 'Traceback' not in result.stderr
    assert 'parses neither as Python 3 nor as Python 2' in result.stderr
    assert 'Python 2 (fissix): line 2' in result.stderr
    assert '    x = = 2' in result.stderr


def test_missing_fissix_names_the_package(tmp_path):
    blocker = tmp_path / 'blocker'
    blocker.mkdir()
    (blocker / 'fissix.py').write_text('raise ImportError("simulated: fissix not installed")\n')
    script = write(tmp_path / 'p2.py', 'print "x"\n')
    result = run(script, env={'PYTHONPATH': os.pathsep.join([str(blocker), ROOT])})
    assert result.returncode == 1
    assert 'is not valid Python 3 (line 1:' in result.stderr
    assert 'pip install fissix' in result.stderr


def test_line_map_pairs_equal_replaced_and_inserted_lines():
    original = ['a\n', 'b\n', 'c\n', 'd\n']
    translated = ['a\n', 'B1\n', 'B2\n', 'c\n', 'D\n']
    mapping, changed = py2.line_map(original, translated)
    assert mapping == {1: 1, 2: 2, 3: 2, 4: 3, 5: 4}
    assert changed == {2, 3, 5}


def test_translate_returns_none_for_python3_and_keeps_original_numbering():
    assert py2.translate(b'print(1)\n', 'x.py') is None
    translation = py2.translate(b'x = 1\nprint x\ny = `x`\n', 'x.py')
    assert translation.source == 'x = 1\nprint(x)\ny = repr(x)\n'
    assert translation.changed_lines == 2
    lines = sorted({line for _, _, line in translation.code.co_lines() if line})
    assert lines == [1, 2, 3]


def test_python3_script_with_python2_names_gets_them_renamed(tmp_path):
    script = write(tmp_path / 'future.py', '''
        from __future__ import print_function
        import cPickle, cStringIO
        from itertools import izip
        counts = {'a': 1, 'b': 2}
        for key, value in sorted(counts.iteritems()):
            print(key, value, counts.has_key(key))
        print(list(izip(xrange(2), 'xy')), reduce(lambda a, b: a * b, [2, 3, 4]))
        print(cStringIO.StringIO('memory').read(), 7 / 2)
        raise KeyError('line 9')
    ''')
    result = run(script)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        'a 1 True', 'b 2 True', "[(0, 'x'), (1, 'y')] 24", 'memory 3.5']
    assert ('minikeras: future.py uses Python 2 names (line 2: import cStringIO): renamed with '
            'fissix for this run' in result.stderr)
    assert "Integer `/` keeps Python 3's meaning" in result.stderr
    assert '  File "%s", line 9, in <module>' % script in result.stderr


def test_renaming_keeps_python3_meaning_of_print_and_input(tmp_path):
    script = write(tmp_path / 'modern_calls.py', '''
        d = {'k': 'v'}
        print('items:', list(d.iteritems()))
        print(input())
        print(list(map(len, ['ab'])), zip([1], [2]).__class__.__name__)
    ''')
    result = run(script, stdin='1 + 1\n')
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["items: [('k', 'v')]", '1 + 1', '[2] zip']
    assert 'uses Python 2 names (line 2: .iteritems())' in result.stderr


def test_python3_script_guarding_python2_names_is_left_alone(tmp_path):
    script = write(tmp_path / 'guarded.py', '''
        try:
            xrange
        except NameError:
            xrange = range
        try:
            from StringIO import StringIO
        except ImportError:
            from io import StringIO
        print(list(xrange(2)), StringIO('s').read())
    ''')
    result = run(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == '[0, 1] s\n'
    assert 'Python 2' in result.stderr  # the StringIO import is renamed: io.StringIO
    assert '(line 6: from StringIO import)' in result.stderr


@pytest.mark.parametrize('source, usage', [
    ('print(1)\n', None),
    ('xrange = range\nfor i in xrange(3): pass\n', None),
    ('def f(unicode):\n    return unicode\n', None),
    ('x = 1\nfor i in xrange(3): pass\n', (2, 'xrange')),
    ('import itertools\nitertools.izip([], [])\n', (2, 'itertools.izip')),
    ('import urllib\nurllib.urlencode({})\n', (2, 'urllib.urlencode')),
    ('import io\nimport Queue\n', (2, 'import Queue')),
    ('d = {}\nd.has_key(1)\nd.iteritems()\n', (2, '.has_key()')),
])
def test_python2_usage_in_python3_code(source, usage):
    import ast
    assert py2.python2_usage(ast.parse(source)) == usage


def test_python2_modules_beside_the_script_are_translated_too(tmp_path):
    (tmp_path / 'pkg').mkdir()
    write(tmp_path / 'pkg' / '__init__.py', 'SCALE = 10L\n')
    write(tmp_path / 'helper.py', '''
        import pkg

        def describe(x):
            print "helper got", x
            return x * pkg.SCALE / 0
    ''')
    write(tmp_path / 'modern_helper.py', 'def twice(x):\n    return 2 * x\n')
    script = write(tmp_path / 'main.py', '''
        import helper, modern_helper
        print(modern_helper.twice(21))
        helper.describe(4)
    ''')
    result = run(script)
    assert result.returncode == 1
    assert result.stdout == '42\nhelper got 4\n'
    assert 'helper.py is Python 2 (line 4:' in result.stderr
    assert '__init__.py is Python 2 (line 1:' in result.stderr
    assert 'main.py' not in result.stderr.split('Traceback')[0]  # Python 3: not translated
    assert ('  File "%s", line 5, in describe\n    return x * pkg.SCALE / 0'
            % (tmp_path / 'helper.py')) in result.stderr
    # Nothing translated is cached where a plain `python` run would find it.
    assert not list(tmp_path.rglob('*.pyc'))


def test_untranslatable_module_import_names_its_line(tmp_path):
    write(tmp_path / 'broken_helper.py', 'print "ok"\nasync = 1\n')
    script = write(tmp_path / 'main.py', '''
        try:
            import broken_helper
        except ImportError as error:
            print('ImportError:', error)
    ''')
    result = run(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('ImportError: cannot import broken_helper: ')
    assert 'line 2 is still not valid Python 3' in result.stdout


def test_crlf_and_missing_final_newline_count_only_rewritten_lines():
    translation = py2.translate(b'x = 1\r\nprint "crlf", x\r\ny = x', 'crlf.py')
    assert translation.changed_lines == 1
    assert translation.source.splitlines() == ['x = 1', 'print("crlf", x)', 'y = x']
