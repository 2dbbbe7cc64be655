"""Keep secrets out of anything we print or write.

Connection URLs travel through flags, environment variables and error messages from drivers;
every one of those can end up in a CI log, so passwords are masked at the single place where
text leaves the program.
"""

import re
from urllib.parse import urlsplit, urlunsplit

_PASSWORD_IN_URL = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:/@\s]+):[^@\s]*@", re.I)
_PASSWORD_KEYWORD = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.I)
MASK = "****"


def redact_url(url: str) -> str:
    """Return the URL with its password (if any) replaced by a mask."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username}:{MASK}@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def redact_text(text: str) -> str:
    """Mask passwords inside free text such as a driver's error message."""
    text = _PASSWORD_IN_URL.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _PASSWORD_KEYWORD.sub(lambda m: f"{m.group(1)}{MASK}", text)
