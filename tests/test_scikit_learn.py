"""keras.wrappers.scikit_learn: the estimators in scikit-learn's own model selection."""
import numpy as np
import pytest

from minikeras.layers import Activation, Dense
from minikeras.models import Sequential
from minikeras.wrappers.scikit_learn import KerasClassifier, KerasRegressor

sklearn = pytest.importorskip('sklearn')
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402


def blobs(n=60, classes=3, seed=0):
    rs = np.random.RandomState(seed)
    y = np.arange(n) % classes
    centres = np.eye(classes, 4) * 4
    x = (centres[y] + rs.normal(0, 0.5, size=(n, 4))).astype('float32')
    return x, y


def build_classifier(hidden=8, classes=3):
    model = Sequential()
    model.add(Dense(hidden, input_dim=4))
    model.add(Activation('relu'))
    model.add(Dense(classes))
    model.add(Activation('softmax'))
    model.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
    return model


def test_classifier_fit_predict_score():
    x, y = blobs()
    clf = KerasClassifier(build_classifier, hidden=16, nb_epoch=40, batch_size=10, verbose=0)
    history = clf.fit(x, y)
    assert len(history.history['loss']) == 40
    assert clf.classes_.tolist() == [0, 1, 2]
    predicted = clf.predict(x, verbose=0)
    assert predicted.shape == (60,)
    proba = clf.predict_proba(x, verbose=0)
    assert proba.shape == (60, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    np.testing.assert_array_equal(predicted, proba.argmax(axis=1))
    assert clf.score(x, y) == pytest.approx(np.mean(predicted == y))
    assert clf.score(x, y) > 0.9


def test_binary_predict_proba_has_two_columns():
    def build():
        model = Sequential()
        model.add(Dense(1, input_dim=4, activation='sigmoid'))
        model.compile(loss='binary_crossentropy', optimizer='sgd', metrics=['accuracy'])
        return model
    x, y = blobs(classes=2)
    clf = KerasClassifier(build, nb_epoch=1, verbose=0)
    clf.fit(x, y)
    proba = clf.predict_proba(x, verbose=0)
    p = clf.model.predict(x)
    np.testing.assert_allclose(proba, np.hstack([1 - p, p]))


def test_grid_search_and_cross_validation():
    x, y = blobs()
    clf = KerasClassifier(build_classifier, nb_epoch=5, batch_size=10, verbose=0)
    grid = GridSearchCV(clf, {'hidden': [2, 16], 'nb_epoch': [1, 40]}, cv=2)
    grid.fit(x, y)
    assert grid.best_params_['nb_epoch'] == 40
    assert set(grid.cv_results_['params'][0]) == {'hidden', 'nb_epoch'}
    clf = KerasClassifier(build_classifier, hidden=16, nb_epoch=40, batch_size=10, verbose=0)
    scores = cross_val_score(clf, x, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.75  # chance: 1/3


def test_regressor_and_params():
    rs = np.random.RandomState(1)
    x = rs.normal(size=(40, 4)).astype('float32')
    y = x @ np.array([1., -2., 0.5, 3.], dtype='float32')

    def build(lr=0.1):
        from minikeras.optimizers import SGD
        model = Sequential()
        model.add(Dense(1, input_dim=4))
        model.compile(loss='mse', optimizer=SGD(lr=lr))
        return model
    reg = KerasRegressor(build, lr=0.05, nb_epoch=30, batch_size=8, verbose=0)
    assert reg.get_params() == {'build_fn': build, 'lr': 0.05, 'nb_epoch': 30, 'batch_size': 8,
                                'verbose': 0}
    assert reg.set_params(nb_epoch=60) is reg and reg.sk_params['nb_epoch'] == 60
    reg.fit(x, y)
    predicted = reg.predict(x)
    assert predicted.shape == (40,)
    mse = float(np.mean((predicted - y) ** 2))
    assert reg.score(x, y, verbose=0) == pytest.approx(-mse, rel=1e-4)
    assert mse < 0.05


def test_build_fn_object_and_subclass():
    class Builder(object):
        def __call__(self, hidden=4):
            return build_classifier(hidden)

    class MyClassifier(KerasClassifier):
        def __call__(self, hidden=4):
            return build_classifier(hidden)
    x, y = blobs()
    for clf in (KerasClassifier(Builder(), hidden=6, nb_epoch=1, verbose=0),
                MyClassifier(hidden=6, nb_epoch=1, verbose=0)):
        clf.fit(x, y)
        assert clf.model.layers[0].output_dim == 6


def test_errors():
    with pytest.raises(ValueError, match="'nb_epochs' is not a legal parameter"):
        KerasClassifier(build_classifier, nb_epochs=3)
    with pytest.raises(ValueError, match="'hiden' is not a legal parameter"):
        KerasClassifier(build_classifier).set_params(hiden=3)
    with pytest.raises(ValueError, match='give build_fn'):
        KerasClassifier()
    with pytest.raises(ValueError, match='call fit first'):
        KerasClassifier(build_classifier).predict(np.zeros((1, 4)))

    def no_accuracy():
        model = build_classifier()
        model.compile(loss='categorical_crossentropy', optimizer='sgd')
        return model
    x, y = blobs()
    clf = KerasClassifier(no_accuracy, nb_epoch=1, verbose=0)
    clf.fit(x, y)
    with pytest.raises(ValueError, match='metrics=\\["accuracy"\\]'):
        clf.score(x, y, verbose=0)


def test_legacy_sklearn_grid_search_under_the_runner(tmp_path):
    import subprocess
    import sys
    import textwrap
    script = tmp_path / 's.py'
    script.write_text(textwrap.dedent('''
        import numpy as np
        from sklearn.grid_search import GridSearchCV
        from keras.models import Sequential
        from keras.layers import Dense, Activation
        from keras.wrappers.scikit_learn import KerasClassifier
        def build(hidden=4):
            m = Sequential()
            m.add(Dense(hidden, input_dim=4)); m.add(Activation('relu'))
            m.add(Dense(3)); m.add(Activation('softmax'))
            m.compile(loss='categorical_crossentropy', optimizer='adam', metrics=['accuracy'])
            return m
        rs = np.random.RandomState(0)
        y = np.arange(30) % 3
        x = (np.eye(3, 4)[y] * 4 + rs.normal(0, .5, (30, 4))).astype('float32')
        g = GridSearchCV(KerasClassifier(build, nb_epoch=2, verbose=0), {'hidden': [2, 5]},
                         scoring='log_loss', n_jobs=1)
        g.fit(x, y)
        print(sorted(g.best_params_), g.cv, g.scoring)
    '''))
    result = subprocess.run([sys.executable, '-m', 'minikeras', 'run', str(script)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "['hidden'] 3 neg_log_loss"
