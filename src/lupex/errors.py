"""The one exception type that means "the input is wrong, and here is why"."""


class LupexError(Exception):
    """A problem with the user's input or files, stated so a person can fix it.

    The command line prints the message as a single ``lupex: error: ...`` line and
    exits with status 2. Library code raises it for bad input only; programming
    errors stay ordinary exceptions.
    """
