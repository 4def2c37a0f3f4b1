"""What a request wrote, from the queries it ran (CaptureQueriesContext)."""

import re

# The session's expiry is renewed on every request (security: 30 minutes without a request); that is not a write of
# the back office's data.
_NOT_DATA = ("django_session",)
_WRITE = re.compile(r'^\s*(INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)


def data_writes(queries) -> list[str]:
    """The statements among `queries` that wrote a table of the back office's data."""
    writes = []
    for query in queries:
        match = _WRITE.match(query["sql"])
        if match and match.group(2) not in _NOT_DATA:
            writes.append(query["sql"])
    return writes
