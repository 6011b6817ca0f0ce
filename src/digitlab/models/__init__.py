"""digitlab's models: the registry of names, the estimators and their files.

``registry`` (name -> factory with documented defaults), ``classical`` (the seeds' scikit-learn models),
``knn`` + ``features`` (the fast k-NN engine), ``neural`` (the PyTorch nets), ``persist`` (model files).
Importing this package imports none of them, so ``import digitlab.models`` stays light (no PyTorch); each
is imported when named (``from digitlab.models import registry``).
"""

__all__ = ["registry", "persist", "classical", "knn", "features", "neural"]
