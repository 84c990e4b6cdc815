"""An auth plugin for the reference broker: users log in with a token from a file.

    mqtt-broker --auth-plugin token_auth:TokenAuth --plugin-opt tokens_file=tokens.txt

(with this directory on ``PYTHONPATH``). Each line of the file is ``user token``. A
client logs in with its user name and its token as the password; a user may publish
and subscribe under ``users/<user>/`` and subscribe to ``public/#``. The plugin knows
the users of its file only: beside ``--password-file`` the files decide for everyone
else (``--auth-rule first``, the default).
"""

from __future__ import annotations

import asyncio
import hmac
from pathlib import Path

from mqtt_common.src.auth import Action, AsyncAuthInterface, AuthCredentials


class TokenAuth(AsyncAuthInterface):
    """Tokens by user name, read from ``tokens_file`` (``--plugin-opt tokens_file=F``)."""

    def __init__(self, tokens_file: str) -> None:
        self.tokens: dict[str, bytes] = {}
        for number, line in enumerate(Path(tokens_file).read_text().splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            user, _, token = line.strip().partition(" ")
            if not token:
                msg = f"{tokens_file}:{number}: give 'user token'"
                raise ValueError(msg)
            self.tokens[user] = token.strip().encode()

    async def knows(self, credentials: AuthCredentials) -> bool:
        """Return whether the client is a user of the file."""
        return credentials.username in self.tokens

    async def authenticate(self, credentials: AuthCredentials) -> bool:
        """Return whether the password is the user's token (compared in constant time)."""
        # A real provider would ask a service here; the await is where it would wait.
        await asyncio.sleep(0)
        token = self.tokens.get(credentials.username or "")
        return token is not None and hmac.compare_digest(token, credentials.password or b"")

    async def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
        """Return whether it is under ``users/<user>/``, or reads ``public/#``."""
        own = f"users/{credentials.username}/"
        if topic.startswith(own):
            return True
        return action is not Action.PUBLISH and (
            topic == "public/#" or topic.startswith("public/")
        )
