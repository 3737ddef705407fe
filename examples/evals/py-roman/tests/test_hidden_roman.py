import unittest

from roman import to_roman


class HiddenRomanTest(unittest.TestCase):
    def test_larger(self):
        self.assertEqual(to_roman(14), "XIV")
        self.assertEqual(to_roman(40), "XL")
        self.assertEqual(to_roman(1994), "MCMXCIV")
        self.assertEqual(to_roman(3999), "MMMCMXCIX")
