import unittest

from stats import median


class HiddenMedianTest(unittest.TestCase):
    def test_even_six(self):
        self.assertEqual(median([6, 1, 5, 2, 4, 3]), 3.5)

    def test_two(self):
        self.assertEqual(median([10, 20]), 15)

    def test_odd_still(self):
        self.assertEqual(median([7]), 7)
