"""Bearer-token authentication for `/api/v1/`: `Authorization: Bearer <token>`."""

from django.http import HttpRequest
from ninja.security import HttpBearer

from opora.accounts.models import User
from opora.accounts.services import api_token_authenticate


class BearerAuth(HttpBearer):
    """Accept a live ApiToken (not revoked, its user active); the request then acts as its user."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        api_token = api_token_authenticate(raw=token.strip())
        if api_token is None:
            return None
        request.user = api_token.user
        # Which token acted, kept on the request (opora.accounts.actors); HttpRequest does not
        # declare the attribute.
        request.api_token = api_token  # type: ignore[attr-defined]
        return api_token.user
