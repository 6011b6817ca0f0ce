"""The errors digitlab raises for bad input: one sentence each, shown without a traceback."""


class DigitlabError(Exception):
    """A problem with the user's input or environment, explained in one sentence.

    The command line prints the message and exits non-zero; a library user can catch it.
    """

    exit_code = 1


class DataError(DigitlabError):
    """A data file or folder is missing, unreadable or not what was expected."""


class DatasetNotFound(DataError):
    """A dataset's files are not where they were looked for, and no download was tried (an explicit data folder
    lacking them, or downloading turned off)."""


class DownloadError(DataError):
    """A dataset was found nowhere and no mirror gave a good copy of its files (now, or in a recent attempt)."""


class OutputError(DigitlabError):
    """A file digitlab was asked to write cannot be written (a folder, a full disk, no permission, ...)."""


class ModelError(DigitlabError):
    """An unknown model or parameter, or a model file that cannot be trusted or read."""


class UsageError(DigitlabError):
    """An option value that makes no sense (a digit outside 0..9, a bad noise spec, ...)."""

    exit_code = 2


class ParameterError(UsageError):
    """A task parameter with a value it cannot take, e.g. ``cv must be at least 2``.

    ``parameter`` is the keyword name (``cv``, ``n_train``), so the command line can name its own flag
    (``--cv``, ``--n-train``) in front of ``problem`` instead.
    """

    def __init__(self, parameter: str, problem: str):
        self.parameter = parameter
        self.problem = problem
        super().__init__(f"{parameter} {problem}")


class ClusterError(DigitlabError):
    """A Dask scheduler that cannot be reached, or workers that cannot run digitlab's fits.

    ``instead`` is a value of the task's ``scheduler`` parameter to suggest: the sentence ends "or use
    scheduler='local:N'." in Python, and the command line words it with its flag (``worded``).
    """

    def __init__(self, problem: str, instead: str | None = None):
        self.problem, self.instead = problem, instead
        super().__init__(self.worded(lambda parameter, value: f"{parameter}={value!r}"))

    def worded(self, option) -> str:
        """The sentence, with ``option(parameter, value)`` writing the suggested setting."""
        return self.problem + (f" or use {option('scheduler', self.instead)}." if self.instead else ".")
