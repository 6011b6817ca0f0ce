import math

from digitlab.cli.common import fmt


def test_fmt_gives_short_figures_and_readable_parameters():
    assert fmt(None) == "-" and fmt(True) == "yes" and fmt(False) == "no"
    assert fmt(0.97141) == "0.9714" and fmt(14.6912) == "14.69" and fmt(math.inf) == "inf"
    assert fmt({"kernel": "linear", "C": 0.06251373574521749, "n_neighbors": 4}) == "kernel=linear C=0.06251 n_neighbors=4"
    assert fmt({"C": 1e-5}) == "C=1e-05"
