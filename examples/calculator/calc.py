"""A tiny calculator: the bundled example repository of the Nightshift demo."""


def add(a, b):
    """Return the sum of a and b."""
    return a - b


def subtract(a, b):
    """Return a minus b."""
    return a - b


def multiply(a, b):
    """Return the product of a and b."""
    return a * b


def mean(values):
    """Return the arithmetic mean of a non-empty list of numbers."""
    if not values:
        raise ValueError("mean() of an empty list")
    return sum(values) / len(values)
