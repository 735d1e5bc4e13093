"""The one exception type a user may see: a message saying what is wrong and how to fix it."""


class InputError(ValueError):
    """Bad user input or a missing resource; ``str(err)`` is shown as-is (CLI ``error: ...``, app ``gr.Error``)."""
