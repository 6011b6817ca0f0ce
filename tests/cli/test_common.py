import math

from digitlab.cli.common import fmt


def test_fmt_gives_short_figures_and_readable_parameters():
    assert fmt(None) == "-" and fmt(True) == "yes" and fmt(False) == "no"
    assert fmt(0.97141) == "0.9714" and fmt(14.6912) == "14.69" and fmt(math.inf) == "inf"
    assert fmt({"kernel": "linear", "C": 0.06251373574521749, "n_neighbors": 4}) == "kernel=linear C=0.06251 n_neighbors=4"
    assert fmt({"C": 1e-5}) == "C=1e-05"


def test_version_and_help_read_cleanly(cli):
    from digitlab import __version__

    assert cli("--version").out.strip() == f"digitlab {__version__}"
    helped = cli("train", "--help")
    assert helped.code == 0 and "Usage: digitlab train [OPTIONS] [MODEL]" in helped.out
    for noise in ("<bool>", "<list[str]>", "{model", "seed 00"):
        assert noise not in helped.out + cli("info", "--help").out + cli("models", "--help").out


def test_an_unknown_option_is_typers_usage_error_not_a_traceback(cli):
    result = cli("train", "knn", "--bogus")
    assert result.code == 2 and "No such option: --bogus" in result.err and "Traceback" not in result.err


def test_ctrl_c_anywhere_exits_130(cli, monkeypatch):
    from digitlab.cli import core

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(core, "load_data", interrupted)
    result = cli("train", "knn", "--dataset", "mnist-mini")
    assert result.code == 130 and "interrupted" in result.err


def test_models_speak_of_the_notebooks_and_hide_internal_settings(cli):
    listed = cli("models", "--json").json()["models"]
    text = str(listed)
    assert "seed 0" not in text and "notebook" in text
    for row in listed:
        assert not {"progress", "verbose", "checkpoint_path", "resume_from"} & set(row["defaults"]), row["name"]
