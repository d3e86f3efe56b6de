"""`sklearn.grid_search`, removed from scikit-learn in 0.20, for legacy scripts.

Served by `minikeras run` only when the installed scikit-learn lacks it.
`GridSearchCV` is today's `sklearn.model_selection.GridSearchCV` with the
0.17 signature and defaults: 3-fold cross-validation, `fit_params`, `iid`
(accepted; today's averaging is unweighted), and the scorer names of the
time, whose values were losses to minimise ('log_loss',
'mean_squared_error', ...), translated to today's negated ones
('neg_log_loss', ...), which rank models the same way.
"""
from sklearn import model_selection
from sklearn.model_selection import ParameterGrid, ParameterSampler  # noqa: F401

OLD_SCORER_NAMES = {
    'log_loss': 'neg_log_loss',
    'mean_squared_error': 'neg_mean_squared_error',
    'mean_absolute_error': 'neg_mean_absolute_error',
    'median_absolute_error': 'neg_median_absolute_error',
}


def _scoring(scoring):
    return OLD_SCORER_NAMES.get(scoring, scoring) if isinstance(scoring, str) else scoring


class GridSearchCV(model_selection.GridSearchCV):
    """Exhaustive search over a parameter grid (scikit-learn 0.17's signature)."""

    def __init__(self, estimator, param_grid, scoring=None, fit_params=None, n_jobs=1, iid=True,
                 refit=True, cv=None, verbose=0, pre_dispatch='2*n_jobs', error_score='raise'):
        super(GridSearchCV, self).__init__(estimator=estimator, param_grid=param_grid,
                                           scoring=_scoring(scoring), n_jobs=n_jobs, refit=refit,
                                           cv=3 if cv is None else cv, verbose=verbose,
                                           pre_dispatch=pre_dispatch, error_score=error_score)
        self.fit_params = fit_params
        self.iid = iid

    def fit(self, X, y=None, **fit_params):
        params = dict(self.fit_params or {})
        params.update(fit_params)
        return super(GridSearchCV, self).fit(X, y, **params)


class RandomizedSearchCV(model_selection.RandomizedSearchCV):
    """Randomized search over parameters (scikit-learn 0.17's signature)."""

    def __init__(self, estimator, param_distributions, n_iter=10, scoring=None, fit_params=None,
                 n_jobs=1, iid=True, refit=True, cv=None, verbose=0, pre_dispatch='2*n_jobs',
                 random_state=None, error_score='raise'):
        super(RandomizedSearchCV, self).__init__(
            estimator=estimator, param_distributions=param_distributions, n_iter=n_iter,
            scoring=_scoring(scoring), n_jobs=n_jobs, refit=refit, cv=3 if cv is None else cv,
            verbose=verbose, pre_dispatch=pre_dispatch, random_state=random_state,
            error_score=error_score)
        self.fit_params = fit_params
        self.iid = iid

    def fit(self, X, y=None, **fit_params):
        params = dict(self.fit_params or {})
        params.update(fit_params)
        return super(RandomizedSearchCV, self).fit(X, y, **params)
