"""`sklearn.grid_search` (removed in scikit-learn 0.20), served inside `minikeras run`.

`GridSearchCV`, `RandomizedSearchCV`, `ParameterGrid` and `ParameterSampler`
are `sklearn.model_selection`'s: the old module's names, today's behaviour
(results in `cv_results_`; `grid_scores_` is gone).
"""
from sklearn import model_selection


def __getattr__(name):
    try:
        return getattr(model_selection, name)
    except AttributeError:
        raise AttributeError('sklearn.grid_search (served from sklearn.model_selection) has '
                             'no %r' % name)
