"""Argument checks shared by the callbacks; each error names the argument and what is allowed."""


def integer(name, value, minimum):
    """Return ``value`` if it is an int >= ``minimum`` (bools refused), else raise ValueError."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}, got {value!r}.")
    return value
