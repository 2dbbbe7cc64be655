"""Keep secrets out of anything we print or write.

Connection URLs travel through flags, environment variables and error messages from drivers;
every one of those can end up in a CI log, so passwords are masked at the places where text
leaves the program. A URL is read with libpq's own rules (psycopg's ``conninfo_to_dict``), so
what we mask is exactly what the driver would send as the password; a URL libpq cannot read,
or reads into a host or database name holding an ``@`` (an unencoded ``@`` or ``/`` in the
password), is shown only up to its user name.
"""

import re
from typing import Any

from medallion_ibis.errors import ConfigurationError

MASK = "****"
_SECRET_KEYS = ("password", "sslpassword")
_URL_START = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:@/?#\s]*)", re.I)
_USER_KEYWORD = re.compile(r"\buser\s*=\s*('[^']*'|[^\s']+)", re.I)
_PASSWORD_IN_URL = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*://)(?P<user>[^:@/\s]*):[^\s'\"]*@", re.I
)
_PASSWORD_KEYWORD = re.compile(r"((?:ssl)?password\s*=\s*)('[^']*'|\S+)", re.I)


def check_connection_url(url: str) -> None:
    """Refuse, before any driver sees it, a URL libpq cannot read or one where an unencoded
    ``@`` or ``/`` in the password moved part of it into the host or database name: the
    driver's error would then echo that part of the password."""
    parts = _libpq_parts(url)
    if parts is None:
        raise ConfigurationError(
            f"the PostgreSQL URL {redact_url(url)} cannot be read; percent-encode special "
            "characters in the password (space %20, % %25, @ %40, / %2F)"
        ) from None
    if any("@" in str(value) for key, value in parts.items() if key not in _SECRET_KEYS):
        raise ConfigurationError(
            f"the PostgreSQL URL {redact_url(url)} has an '@' or '/' where libpq expects the "
            "host; percent-encode them in the password (@ as %40, / as %2F)"
        )


def _libpq_parts(url: str) -> dict[str, Any] | None:
    """The URL's parts as libpq reads them, or None when libpq cannot read it.

    psycopg is imported here, not at the top: every command (``--help`` too) imports this
    module, and the driver costs a tenth of a second to load.
    """
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    try:
        return conninfo_to_dict(url)
    except ProgrammingError:
        return None


def redact_url(url: str) -> str:
    """The URL (or ``key=value`` string) with its password masked and everything else kept."""
    parts = _libpq_parts(url)
    if parts is None:
        return _up_to_user(url)
    if any("@" in str(value) for key, value in parts.items() if key not in _SECRET_KEYS):
        return _up_to_user(url)
    if not any(key in parts for key in _SECRET_KEYS):
        return url
    shown = {key: MASK if key in _SECRET_KEYS else str(value) for key, value in parts.items()}
    if _URL_START.match(url):
        return _as_url(url, shown)
    return " ".join(f"{key}={_quoted(value)}" for key, value in shown.items())


def redact_text(text: str) -> str:
    """Mask passwords inside free text such as a driver's error message."""
    text = _PASSWORD_IN_URL.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    return _PASSWORD_KEYWORD.sub(lambda m: f"{m.group(1)}{MASK}", text)


def _up_to_user(url: str) -> str:
    """Nothing after the user name: the rest may be a password libpq could not delimit."""
    url_start = _URL_START.match(url)
    if url_start:
        return f"{url_start['scheme']}{url_start['user']}:{MASK}"
    user = _USER_KEYWORD.search(url)
    return f"user={user.group(1)} {MASK}" if user else MASK


def _as_url(url: str, shown: dict[str, str]) -> str:
    """Rebuild a URL from libpq's reading of it, the password already masked."""
    url_start = _URL_START.match(url)
    assert url_start is not None
    user = shown.pop("user", "")
    password = shown.pop("password", None)
    credentials = user + (f":{password}" if password else "")
    hosts = shown.pop("host", "").split(",")
    ports = shown.pop("port", "").split(",")
    location = ",".join(
        (f"[{host}]" if ":" in host else host) + (f":{port}" if port else "")
        for host, port in zip(hosts, ports + [""] * (len(hosts) - len(ports)), strict=False)
    )
    database = shown.pop("dbname", None)
    query = "&".join(f"{key}={value}" for key, value in shown.items())
    return (
        f"{url_start['scheme']}{credentials}{'@' if credentials else ''}{location}"
        f"{'/' + database if database is not None else ''}{'?' + query if query else ''}"
    )


def _quoted(value: str) -> str:
    if value and not any(character in value for character in " '\\"):
        return value
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
