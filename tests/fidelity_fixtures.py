"""Golden numbers from real Keras 3 (tests/fixtures/fidelity/NAME.npz and
NAME_manifest.json, each written by the make_NAME_fixtures.py beside them),
read once for the fidelity tests."""
import json
import os

import numpy as np

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixtures', 'fidelity')


class Fixtures(object):
    """One fixture file: its manifest's cases and each case's arrays.

    # Arguments
        name: the file's stem ('recurrent' reads recurrent.npz and
            recurrent_manifest.json).
    """

    def __init__(self, name):
        with open(os.path.join(FIXTURES, name + '_manifest.json')) as f:
            self.manifest = json.load(f)
        with np.load(os.path.join(FIXTURES, name + '.npz')) as data:
            self._arrays = {key: data[key] for key in data.files}
        self.cases = self.manifest['cases']
        self.by_name = {case['name']: case for case in self.cases}

    def arrays(self, case):
        """{array name: value} of one case (a case dict or its name)."""
        prefix = (case if isinstance(case, str) else case['name']) + '/'
        return {key[len(prefix):]: value for key, value in self._arrays.items()
                if key.startswith(prefix)}


def assert_close(got, want, rtol, atol_factor, what):
    """`got` equals Keras 3's `want` within rtol, plus an absolute part of
    `atol_factor` times want's largest entry."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, '%s: shape %s, Keras 3 has %s' % (what, got.shape, want.shape)
    np.testing.assert_allclose(got, want, rtol=rtol,
                               atol=atol_factor * float(np.max(np.abs(want))), err_msg=what)
