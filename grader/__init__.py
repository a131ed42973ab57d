"""Property-based autograder for the deep-learning course's exercises."""

__version__ = "0.1.0"
