"""Python 2 scripts under `minikeras run`: translated to Python 3 on the fly.

A script that does not compile as Python 3 is handed to fissix (the
maintained fork of lib2to3, the engine of `2to3`), with 2to3's default
fixers: print statements, `xrange`, `iteritems`, `has_key`, `except E, e`,
`raw_input`, long and octal literals, backticks, `unicode`, `dict.keys()`
wrapped in `list()`, and the renamed standard modules (`StringIO`, `Queue`,
`urllib2`, `itertools.izip`, ...).

A script that compiles as Python 3 but uses what only Python 2 had (a
`from __future__ import print_function` script calling `xrange`, `.iteritems()`
or importing `cStringIO`) gets a narrower translation: Python 3's grammar, and
only the fixers that rename (`_RENAMING_FIXERS`), none that changes what valid
Python 3 code means (`input`, `map`, `zip`, `print`).

The translation is compiled with the line numbers of the original file, so
tracebacks and `linecache` show the lines the user wrote. Nothing of the
script is written to disk (fissix keeps only its grammar tables, in its own
cache folder).

What no fixer changes is the meaning of `/` between integers: it stays
Python 3's true division, and the notice printed on stderr says so.
"""
import ast
import difflib
import importlib.abc
import importlib.machinery
import importlib.util
import io
import os
import sys
import tokenize

TRANSLATOR = 'fissix'

# `fix_import` rewrites `import helper` into `from . import helper` when a
# helper.py sits beside the file; a script runs as `__main__` with its folder
# on sys.path, where only the absolute import works.
_SKIPPED_FIXERS = ('fix_import',)

# For scripts that are valid Python 3: fixers that only rename Python 2 names.
_RENAMING_FIXERS = ('basestring', 'dict', 'execfile', 'getcwdu', 'has_key', 'imports',
                    'imports2', 'intern', 'itertools', 'itertools_imports', 'long',
                    'raw_input', 'reduce', 'reload', 'unicode', 'urllib', 'xrange')

# What only Python 2 had, as a Python 3 parse of the script sees it.
_PYTHON2_BUILTINS = frozenset([
    'xrange', 'raw_input', 'unicode', 'unichr', 'basestring', 'long', 'execfile', 'reduce',
    'intern', 'reload', 'getcwdu'])
_PYTHON2_METHODS = frozenset(['iteritems', 'itervalues', 'iterkeys', 'has_key'])
_PYTHON2_MODULES = frozenset([
    'StringIO', 'cStringIO', 'Queue', 'urllib2', 'urlparse', 'ConfigParser', 'httplib',
    'HTMLParser', 'cookielib', 'Tkinter', 'tkMessageBox', 'tkFileDialog', 'SocketServer',
    'copy_reg', '__builtin__', 'htmlentitydefs', 'robotparser', 'anydbm', 'whichdb'])
_PYTHON2_ITERTOOLS = frozenset(['izip', 'imap', 'ifilter', 'ifilterfalse', 'izip_longest'])
_PYTHON2_URLLIB = frozenset(['urlopen', 'urlencode', 'quote', 'quote_plus', 'unquote',
                             'unquote_plus', 'urlretrieve', 'pathname2url', 'url2pathname'])


class TranslationError(Exception):
    """A script that is neither valid Python 3 nor Python 2 that fissix translates."""


def decode_source(source_bytes):
    """The text of a Python source file, honouring its coding cookie and BOM."""
    encoding, _ = tokenize.detect_encoding(io.BytesIO(source_bytes).readline)
    text = source_bytes.decode(encoding)
    return text[1:] if text.startswith('\ufeff') else text


def _refactoring_tool(python3_grammar=False):
    try:
        from fissix import pygram, refactor
    except ImportError:
        return None
    if python3_grammar:
        tool = refactor.RefactoringTool(['fissix.fixes.fix_' + name for name in _RENAMING_FIXERS])
        tool.grammar = pygram.python_grammar_no_print_and_exec_statement
        tool.driver.grammar = tool.grammar
        return tool
    fixers = [name for name in refactor.get_fixers_from_package('fissix.fixes')
              if name.rsplit('.', 1)[-1] not in _SKIPPED_FIXERS]
    return refactor.RefactoringTool(fixers)


def _module_missing(name):
    try:
        return importlib.util.find_spec(name) is None
    except (ImportError, ValueError):
        return True


def python2_usage(tree):
    """The first use of a Python 2-only name in a Python 3 AST, as (line, text), or None.

    Builtins count only where the script defines no such name itself (a
    `try: xrange except NameError: xrange = range` guard defines it).
    """
    defined, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            defined.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            defined.add(node.name)
        elif isinstance(node, ast.arg):
            defined.add(node.arg)
        elif isinstance(node, ast.alias):
            defined.add((node.asname or node.name).split('.')[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            defined.add(node.name)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            if node.id in _PYTHON2_BUILTINS and node.id not in defined:
                found.append((node.lineno, node.id))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr in _PYTHON2_METHODS:
                found.append((node.lineno, '.%s()' % node.func.attr))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in _PYTHON2_MODULES and _module_missing(alias.name):
                    found.append((node.lineno, 'import %s' % alias.name))
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            if node.module in _PYTHON2_MODULES and _module_missing(node.module):
                found.append((node.lineno, 'from %s import' % node.module))
            elif node.module == 'itertools':
                found.extend((node.lineno, 'itertools.' + a.name) for a in node.names
                             if a.name in _PYTHON2_ITERTOOLS)
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if ((node.value.id == 'itertools' and node.attr in _PYTHON2_ITERTOOLS)
                    or (node.value.id == 'urllib' and node.attr in _PYTHON2_URLLIB)):
                found.append((node.lineno, '%s.%s' % (node.value.id, node.attr)))
    return min(found) if found else None


def _translator_error_line(error):
    """The line number fissix's parser or tokenizer reports, or None."""
    context = getattr(error, 'context', None)  # pgen2 ParseError: (prefix, (line, column))
    if context is not None:
        try:
            return int(context[1][0])
        except (TypeError, IndexError, ValueError):
            return None
    if isinstance(error, SyntaxError):  # the tokenizer's IndentationError
        return error.lineno
    if len(error.args) > 1 and isinstance(error.args[1], tuple):  # TokenError(msg, (line, col))
        return error.args[1][0]
    return None


def _describe_python3_error(error):
    return 'line %s: %s' % (error.lineno, error.msg)


def _line_text(lines, lineno):
    if lineno is not None and 1 <= lineno <= len(lines):
        return lines[lineno - 1].rstrip('\n')
    return ''


def _expand_leading_tabs(text):
    """Python 2 read a tab in indentation as up to 8 columns; Python 3 refuses a mix."""
    out = []
    for line in text.splitlines(True):
        body = line.lstrip(' \t')
        indent = line[:len(line) - len(body)]
        out.append(indent.expandtabs(8) + body if '\t' in indent else line)
    return ''.join(out)


def line_map(original_lines, translated_lines):
    """Maps each translated line number (1-based) to an original one.

    # Returns
        `(mapping, changed)`: a dict translated line -> original line, and the
        set of translated lines whose text differs from the original line.
    """
    matcher = difflib.SequenceMatcher(None, [line.rstrip('\r\n') for line in original_lines],
                                      [line.rstrip('\r\n') for line in translated_lines],
                                      autojunk=False)
    mapping, changed = {}, set()
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        for j in range(j1, j2):
            if tag == 'equal':
                i = i1 + (j - j1)
            elif i2 > i1:  # replaced: pair lines in order, extra ones go to the last
                i = min(i1 + (j - j1), i2 - 1)
                changed.add(j + 1)
            else:  # inserted by a fixer: blame the line before
                i = max(i1 - 1, 0)
                changed.add(j + 1)
            mapping[j + 1] = i + 1
    return mapping, changed


def _code_span(lines, lineno):
    """Byte columns of the first and past the last non-blank character of a line."""
    text = _line_text(lines, lineno)
    return (len(text.encode('utf-8')) - len(text.lstrip().encode('utf-8')),
            len(text.rstrip().encode('utf-8')))


def _renumber(tree, mapping, changed, original_lines):
    """Moves every node of `tree` onto the original file's line numbers.

    On lines a fixer rewrote, columns of the translation mean nothing in the
    original text: a node there spans the whole original line.
    """
    last = max(mapping) if mapping else 1
    for node in ast.walk(tree):
        if not hasattr(node, 'lineno') or node.lineno is None:
            continue
        start, end = node.lineno, getattr(node, 'end_lineno', None) or node.lineno
        node.lineno = mapping.get(min(start, last), 1)
        node.end_lineno = max(mapping.get(min(end, last), node.lineno), node.lineno)
        if start in changed:
            node.col_offset = _code_span(original_lines, node.lineno)[0]
        if end in changed or getattr(node, 'end_col_offset', None) is None:
            node.end_col_offset = _code_span(original_lines, node.end_lineno)[1]
        if node.end_lineno == node.lineno and node.end_col_offset < node.col_offset:
            node.col_offset, node.end_col_offset = _code_span(original_lines, node.lineno)
    return tree


class Translation(object):
    """A Python 2 script translated for this run.

    # Attributes
        code: the code object, compiled with the original file's name and lines.
        source: the translated Python 3 text.
        reason: why it was translated: the original's first Python 3
            SyntaxError, or its first Python 2-only name.
        parses_as_python3: True when only Python 2 names were renamed.
        changed_lines: how many original lines the translation rewrote.
    """

    def __init__(self, code, source, reason, parses_as_python3, changed_lines):
        self.code = code
        self.source = source
        self.reason = reason
        self.parses_as_python3 = parses_as_python3
        self.changed_lines = changed_lines

    def notice(self, display_name, brief=False):
        """The line `minikeras run` prints on stderr (`brief`: without the note on `/`)."""
        what = ('uses Python 2 names (%s): renamed' if self.parses_as_python3
                else 'is Python 2 (%s): translated to Python 3') % self.reason
        text = 'minikeras: %s %s with %s for this run (%d line%s changed).' % (
            display_name, what, TRANSLATOR, self.changed_lines,
            '' if self.changed_lines == 1 else 's')
        if brief:
            return text
        return (text + ' Integer `/` keeps Python 3\'s meaning (7 / 2 == 3.5): write `//` '
                'where the script means floor division.')


def translate(source_bytes, filename):
    """Compiles a script, translating it from Python 2 when it needs it.

    # Arguments
        source_bytes: the script's file content.
        filename: its path (used in code objects, tracebacks and messages).

    # Returns
        None when the script is Python 3 (run it as it is), else a
        `Translation`.

    # Raises
        TranslationError: the script is not Python 3, and fissix is missing
            or cannot turn it into valid Python 3; the message names the line.
    """
    try:
        tree = compile(source_bytes, filename, 'exec', ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        return _translate_python2(source_bytes, filename, error)
    usage = python2_usage(tree)
    if usage is None:
        return None
    return _rename_python2_names(source_bytes, filename, 'line %d: %s' % usage)


def _rename_python2_names(source_bytes, filename, reason):
    """A valid Python 3 script with Python 2 names: renamed, or None (run it as it is)
    when fissix is missing or cannot read newer syntax."""
    text = decode_source(source_bytes)
    tool = _refactoring_tool(python3_grammar=True)
    if tool is None:
        return None
    try:
        translated = str(tool.refactor_string(text if text.endswith('\n') else text + '\n',
                                              filename))
        return _compile_translation(text, translated, filename, reason, True)
    except Exception:  # fissix's grammar lags behind Python's (match, except*, ...)
        return None


def _translate_python2(source_bytes, filename, python3_error):
    try:
        text = decode_source(source_bytes)
    except (SyntaxError, UnicodeDecodeError) as error:
        raise TranslationError('%s: cannot decode the source: %s' % (filename, error))
    original_lines = text.splitlines(True)
    tool = _refactoring_tool()
    if tool is None:
        raise TranslationError(
            '%s is not valid Python 3 (%s)\n    %s\nIf it is a Python 2 script, minikeras run '
            'translates it with fissix: pip install fissix (or minikeras[py2])'
            % (filename, _describe_python3_error(python3_error),
               _line_text(original_lines, python3_error.lineno).strip()))
    try:
        # lib2to3's grammar wants a final newline
        translated = str(tool.refactor_string(text if text.endswith('\n') else text + '\n',
                                              filename))
    except Exception as error:  # fissix's ParseError, TokenError, IndentationError
        line = _translator_error_line(error)
        raise TranslationError(
            '%s parses neither as Python 3 nor as Python 2:\n'
            '  Python 3: %s\n  Python 2 (%s): line %s: %s\n    %s'
            % (filename, _describe_python3_error(python3_error), TRANSLATOR, line,
               getattr(error, 'msg', None) or error.args[0],
               _line_text(original_lines, line or python3_error.lineno).strip()))
    try:
        compile(translated, filename, 'exec', dont_inherit=True)
    except TabError:
        translated = _expand_leading_tabs(translated)
    except SyntaxError:
        pass  # reported by _compile_translation, on the original line
    return _compile_translation(text, translated, filename,
                                _describe_python3_error(python3_error), False)


def _compile_translation(text, translated, filename, reason, parses_as_python3):
    original_lines = text.splitlines(True)
    translated_lines = translated.splitlines(True)
    mapping, changed = line_map(original_lines, translated_lines)
    try:
        tree = ast.parse(translated, filename)
    except SyntaxError as error:
        line = mapping.get(error.lineno, error.lineno)
        raise TranslationError(
            '%s is Python 2, but line %s is still not valid Python 3 after %s translated it: '
            '%s\n    %s\n  (translated: %s)'
            % (filename, line, TRANSLATOR, error.msg, _line_text(original_lines, line).strip(),
               _line_text(translated_lines, error.lineno).strip()))
    _renumber(tree, mapping, changed, original_lines)
    code = compile(tree, filename, 'exec', dont_inherit=True)
    return Translation(code, translated, reason, parses_as_python3,
                       len({mapping[j] for j in changed}))


class _TranslatingLoader(importlib.machinery.SourceFileLoader):
    """Loads a module of the script's own folder, translating it when it is Python 2.

    No bytecode is cached: a translated module must not be found, already
    translated, by a later plain `python` run.
    """

    def get_code(self, fullname):
        path = self.get_filename(fullname)
        source_bytes = self.get_data(path)
        try:
            translation = translate(source_bytes, path)
        except TranslationError as error:
            raise ImportError('cannot import %s: %s' % (fullname, error), name=fullname,
                              path=path)
        if translation is None:
            return compile(source_bytes, path, 'exec', dont_inherit=True)
        print(translation.notice(os.path.relpath(path), brief=True), file=sys.stderr)
        return translation.code


class LocalModuleFinder(importlib.abc.MetaPathFinder):
    """Finds the modules of a script's folder (and its packages) with `_TranslatingLoader`.

    # Arguments
        folder: the script's folder. Installed packages below it (a virtual
            environment in the project) are left to the normal import system.
    """

    def __init__(self, folder):
        self.folder = os.path.join(os.path.abspath(folder), '')

    def find_spec(self, fullname, path=None, target=None):
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return None
        origin = os.path.abspath(spec.origin)
        below = origin[len(self.folder):].split(os.sep)
        if (not origin.startswith(self.folder) or not origin.endswith('.py')
                or 'site-packages' in below or 'dist-packages' in below):
            return None
        spec.loader = _TranslatingLoader(fullname, spec.origin)
        return spec


def install_local_translation(folder):
    """Translates the Python 2 modules of `folder` as the script imports them (idempotent).

    The finder goes just before the path-based one, after the `keras` alias.
    """
    if any(isinstance(f, LocalModuleFinder) for f in sys.meta_path):
        return
    try:
        position = sys.meta_path.index(importlib.machinery.PathFinder)
    except ValueError:
        position = len(sys.meta_path)
    sys.meta_path.insert(position, LocalModuleFinder(folder))
