"""Commands of the classification chapter (binary, multiclass, multilabel, search, show)."""
