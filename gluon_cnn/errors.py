"""Errors that carry one sentence for the user; the command-line tools print them without a traceback."""


class UserError(Exception):
    """Bad input from the user: the message says what is wrong and how to fix it."""


class UnknownModelError(UserError, KeyError):
    def __str__(self):  # KeyError would print the message in quotes
        return str(self.args[0])


class InputShapeError(UserError, ValueError):
    """An input batch whose shape the network cannot take."""
