"""scikit-learn estimators around a model-building function, as
`keras.wrappers.scikit_learn` (Keras 1.2.2).

scikit-learn itself is not imported: the estimators follow its protocol
(`get_params`/`set_params`, `fit`, `predict`, `score`), so `GridSearchCV`,
`cross_val_score` and `Pipeline` accept them.
"""
from __future__ import absolute_import

import copy
import inspect
import types

import numpy as np

from ..models import Sequential
from ..utils.np_utils import to_categorical


def _argument_names(fn):
    try:
        parameters = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return set()
    return {name for name, p in parameters.items()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}


def _loss_name(model):
    loss = getattr(model, 'loss', None)
    return getattr(loss, '__name__', loss)


class BaseWrapper(object):
    """Base of `KerasClassifier` and `KerasRegressor`; not used directly.

    # Arguments
        build_fn: a function, an object with `__call__`, or None (then the
            subclass's own `__call__` builds the model). It returns a
            compiled model; its arguments are looked up in `sk_params`.
        **sk_params: arguments of `build_fn` and of the model's `fit`,
            `predict`, `predict_classes`, `predict_proba` and `evaluate`
            (e.g. `nb_epoch`, `batch_size`), all tunable by a grid search.
            Arguments given to `fit`/`predict`/`score` themselves win.
    """

    def __init__(self, build_fn=None, **sk_params):
        self.build_fn = build_fn
        self.sk_params = sk_params
        self.check_params(sk_params)

    def _builder(self):
        if self.build_fn is None:
            return self.__call__
        if isinstance(self.build_fn, (types.FunctionType, types.MethodType)):
            return self.build_fn
        if not callable(self.build_fn):
            raise ValueError('%s: build_fn must be a function or an object with __call__, got %r'
                             % (type(self).__name__, self.build_fn))
        return self.build_fn.__call__

    def check_params(self, params):
        """Raises ValueError for a parameter that no building, fitting or
        predicting function takes (a typo)."""
        if self.build_fn is None and not callable(self):
            raise ValueError('%s: give build_fn, or subclass it with a __call__ that builds '
                             'the model' % type(self).__name__)
        legal = set()
        for fn in (Sequential.fit, Sequential.predict, Sequential.predict_classes,
                   Sequential.predict_proba, Sequential.evaluate, self._builder()):
            legal |= _argument_names(fn)
        legal.discard('self')
        for name in params:
            if name not in legal:
                raise ValueError('%s: %r is not a legal parameter (legal: the arguments of '
                                 'build_fn and of fit, predict and evaluate: %s)'
                                 % (type(self).__name__, name, ', '.join(sorted(legal))))

    def get_params(self, **params):
        """Returns the estimator's parameters: `build_fn` and `sk_params`."""
        res = copy.deepcopy(self.sk_params)
        res.update({'build_fn': self.build_fn})
        return res

    def set_params(self, **params):
        """Updates `sk_params` (checked like the constructor's); returns self."""
        self.check_params(params)
        self.sk_params.update(params)
        return self

    def filter_sk_params(self, fn, override=None):
        """Returns the `sk_params` that `fn` takes, updated with `override`."""
        names = _argument_names(fn)
        res = {name: value for name, value in self.sk_params.items() if name in names}
        res.update(override or {})
        return res

    def fit(self, x, y, **kwargs):
        """Builds a new model with `build_fn` and fits it to `(x, y)`.

        # Arguments
            x: array of shape (n_samples, n_features).
            y: array of shape (n_samples,) or (n_samples, n_outputs); class
                indices are one-hot encoded for a categorical crossentropy.
            **kwargs: arguments of the model's `fit`, beating `sk_params`.

        # Returns
            The `History` of the fit.
        """
        builder = self._builder()
        self.model = builder(**self.filter_sk_params(builder))
        y = self._targets(y)
        fit_args = copy.deepcopy(self.filter_sk_params(Sequential.fit))
        fit_args.update(kwargs)
        return self.model.fit(x, y, **fit_args)

    def _targets(self, y):
        y = np.asarray(y)
        if _loss_name(self.model) == 'categorical_crossentropy' and y.ndim != 2:
            y = to_categorical(y)
        return y

    def __sklearn_tags__(self):
        # scikit-learn >= 1.6 asks every estimator for its tags; it is
        # imported only then, by scikit-learn's own caller.
        from sklearn.utils import ClassifierTags, RegressorTags, Tags, TargetTags
        classifier = self._estimator_type == 'classifier'
        return Tags(estimator_type=self._estimator_type,
                    target_tags=TargetTags(required=True),
                    classifier_tags=ClassifierTags() if classifier else None,
                    regressor_tags=None if classifier else RegressorTags(),
                    non_deterministic=True)

    def _fitted_model(self, method):
        model = getattr(self, 'model', None)
        if model is None:
            raise ValueError('%s.%s: call fit first (there is no model yet)'
                             % (type(self).__name__, method))
        return model


class KerasClassifier(BaseWrapper):
    """The scikit-learn classifier API for a model built by `build_fn`."""

    _estimator_type = 'classifier'

    def fit(self, x, y, **kwargs):
        """Builds a new model and fits it (see `BaseWrapper.fit`). Sets
        `classes_` (the labels seen, or the columns of one-hot targets), which
        scikit-learn's probability scorers read; as in Keras 1.2.2, `predict`
        returns class indices, so labels should be 0 to n - 1."""
        y_array = np.asarray(y)
        self.classes_ = np.unique(y_array) if y_array.ndim == 1 else np.arange(y_array.shape[1])
        return super(KerasClassifier, self).fit(x, y, **kwargs)

    def predict(self, x, **kwargs):
        """Returns the class index of each sample, shape (n_samples,).

        # Arguments
            x: array of shape (n_samples, n_features).
            **kwargs: arguments of the model's `predict_classes`.
        """
        model = self._fitted_model('predict')
        kwargs = self.filter_sk_params(Sequential.predict_classes, kwargs)
        return model.predict_classes(x, **kwargs)

    def predict_proba(self, x, **kwargs):
        """Returns class probabilities, shape (n_samples, n_classes); a single
        sigmoid output becomes two columns `[1 - p, p]` as scikit-learn expects.

        # Arguments
            x: array of shape (n_samples, n_features).
            **kwargs: arguments of the model's `predict_proba`.
        """
        model = self._fitted_model('predict_proba')
        kwargs = self.filter_sk_params(Sequential.predict_proba, kwargs)
        probs = model.predict_proba(x, **kwargs)
        if probs.shape[1] == 1:
            probs = np.hstack([1 - probs, probs])
        return probs

    def score(self, x, y, **kwargs):
        """Returns the model's accuracy on `(x, y)`.

        # Raises
            ValueError: the model was compiled without `metrics=['accuracy']`.
        """
        model = self._fitted_model('score')
        kwargs = self.filter_sk_params(Sequential.evaluate, kwargs)
        outputs = model.evaluate(x, self._targets(y), **kwargs)
        if not isinstance(outputs, list):
            outputs = [outputs]
        for name, output in zip(model.metrics_names, outputs):
            if name == 'acc':
                return output
        raise ValueError('KerasClassifier.score: the model is not configured to compute '
                         'accuracy; pass metrics=["accuracy"] to model.compile()')


class KerasRegressor(BaseWrapper):
    """The scikit-learn regressor API for a model built by `build_fn`."""

    _estimator_type = 'regressor'

    def predict(self, x, **kwargs):
        """Returns the predictions, squeezed to shape (n_samples,) for one output.

        # Arguments
            x: array of shape (n_samples, n_features).
            **kwargs: arguments of the model's `predict`.
        """
        model = self._fitted_model('predict')
        kwargs = self.filter_sk_params(Sequential.predict, kwargs)
        return np.squeeze(model.predict(x, **kwargs))

    def score(self, x, y, **kwargs):
        """Returns the negated loss on `(x, y)`, so that greater is better, as
        scikit-learn's model selection assumes (Keras 1.2.2 returned the loss
        itself, which made a grid search pick the worst model)."""
        model = self._fitted_model('score')
        kwargs = self.filter_sk_params(Sequential.evaluate, kwargs)
        loss = model.evaluate(x, y, **kwargs)
        if isinstance(loss, list):
            loss = loss[0]
        return -loss
