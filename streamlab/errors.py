"""The error a user can fix: the CLI prints it as one line and exits non-zero."""


class UserError(Exception):
    """Something the user can fix; the message says what is wrong and how to fix it."""
