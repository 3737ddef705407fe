import unittest

from text import slugify


class HiddenSlugifyTest(unittest.TestCase):
    def test_runs(self):
        self.assertEqual(slugify("  Many   spaces  "), "many-spaces")

    def test_symbols(self):
        self.assertEqual(slugify("C++ & Rust: 2024?"), "c-rust-2024")
