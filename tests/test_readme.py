"""The README's Python example runs as written, and says what it says."""

import re
from pathlib import Path

from PIL import Image

README = Path(__file__).resolve().parent.parent / "README.md"


def test_the_python_example_runs_as_written(tmp_path, monkeypatch, mini, capsys):
    import matplotlib

    matplotlib.use("Agg")
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Use it from Python"):]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    monkeypatch.chdir(tmp_path)
    Image.fromarray(255 - mini.X_test[0].reshape(28, 28)).resize((120, 120)).save("my_digit.png")  # a "scan"
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    assert float(printed[0]) > 0.97  # the accuracy the comment promises (0.98)
    noisy, cleaned = (float(v) for v in printed[1].split(" -> "))
    assert cleaned > noisy
    assert f"'label': {int(mini.y_test[0])}" in printed[2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["knn-fast.skops", "my_digit.png"]
