"""`sklearn.grid_search` (removed in scikit-learn 0.20), served inside `minikeras run`.

`GridSearchCV` and `RandomizedSearchCV` are `sklearn.model_selection`'s with
scikit-learn 0.17's signatures and defaults: 3-fold cross-validation,
`fit_params` and `iid` (accepted; today's averaging is unweighted), and the
scorer names of the time, whose values were losses to minimise
('log_loss', 'mean_squared_error', ...), translated to today's negated ones
('neg_log_loss', ...), which rank models the same way. The other names
(`ParameterGrid`, `ParameterSampler`, ...) are `sklearn.model_selection`'s:
the old module's names, today's behaviour (results in `cv_results_`;
`grid_scores_` is gone).
"""
from sklearn import model_selection

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


def __getattr__(name):
    try:
        return getattr(model_selection, name)
    except AttributeError:
        raise AttributeError('sklearn.grid_search (served from sklearn.model_selection) has '
                             'no %r' % name)
