"""Unsupervised pre-training: RBMs (CD-k, PCD), log-partition estimates, DBNs, stacked DAEs.

- :class:`BernoulliRBM`, :class:`GaussianBernoulliRBM`: scikit-learn estimators.
- :func:`exact_log_partition`, :func:`ais_log_partition`: log Z by enumeration / AIS.
- :class:`RBMPopulation`: K RBMs of one shape trained in one pass (stacked weights).
- :class:`DBN`, :class:`StackedDenoisingAutoencoder`: greedy layer-wise pre-training,
  unrolled into a trainlab MLP with ``to_module()``.
- :func:`run_pretrain`: what ``trainlab pretrain CONFIG`` runs; :func:`load_module`: the same
  unrolled MLP from such a run directory.
"""

from __future__ import annotations

from .autoencoder import StackedDenoisingAutoencoder
from .dbn import DBN, arrays_dataset, fine_tune, unroll
from .partition import AISResult, ais_log_partition, exact_log_partition, log_likelihood
from .population import PopulationMember, RBMPopulation
from .rbm import BernoulliRBM, GaussianBernoulliRBM
from .run import load_module, run_pretrain

__all__ = [
    "BernoulliRBM",
    "GaussianBernoulliRBM",
    "exact_log_partition",
    "ais_log_partition",
    "AISResult",
    "log_likelihood",
    "RBMPopulation",
    "PopulationMember",
    "DBN",
    "StackedDenoisingAutoencoder",
    "unroll",
    "fine_tune",
    "arrays_dataset",
    "load_module",
    "run_pretrain",
]
