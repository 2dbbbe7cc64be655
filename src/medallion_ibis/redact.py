"""Keep secrets out of anything we print or write.

Connection URLs travel through flags, environment variables and error messages from drivers;
every one of those can end up in a CI log, so passwords are masked at the places where text
leaves the program.
"""

import re

MASK = "****"
_PASSWORD_IN_URL = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:@/\s]*):[^@\s]*@", re.I)
_PASSWORD_KEYWORD = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.I)


def redact_url(url: str) -> str:
    """The URL with its password (if any) masked.

    The credentials end at the last ``@``, so a password holding an unencoded ``/``, ``?``,
    ``#`` or ``@`` is masked whole instead of being mistaken for part of the host or path.
    """
    scheme, separator, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not separator or not at or ":" not in credentials:
        return url
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:{MASK}@{location}"


def redact_text(text: str) -> str:
    """Mask passwords inside free text such as a driver's error message."""
    text = _PASSWORD_IN_URL.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _PASSWORD_KEYWORD.sub(lambda m: f"{m.group(1)}{MASK}", text)
