"""The server's version: the installed distribution's (pyproject.toml's
`version`), shown in the v1 `hello` frame and the chat_build_info metric.
CHANGELOG.md says what each version changed."""

from importlib import metadata

try:
    VERSION = metadata.version("chat-server")
except metadata.PackageNotFoundError:  # run from a tree that was not installed
    VERSION = "0+unknown"
