"""The one exception type for bad user input."""


class InputError(ValueError):
    """Raised for input that is wrong before anything runs: a bad file, option or value.

    The message names the function (or file and line) and says what to do instead; the
    command line prints it as one line and exits with status 2.
    """
