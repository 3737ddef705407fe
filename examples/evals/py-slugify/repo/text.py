"""Text helpers."""


def slugify(text):
    """URL slug of a title."""
    return text.lower().replace(" ", "-")
