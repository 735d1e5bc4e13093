"""Command-line values shared by every subcommand: comma-separated lists."""
from .errors import InputError


def parse_list(text: str, kind, what: str, example: str = "10,25,50", nonempty: bool = False) -> list:
    """``text`` split at commas, each part converted by ``kind``; ``nonempty``: an empty list is an error too."""
    try:
        values = [kind(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InputError(f"{what} must be a comma-separated list, e.g. {example}; got {text!r}") from None
    if nonempty and not values:
        raise InputError(f"{what} is empty; give e.g. {example}")
    return values
