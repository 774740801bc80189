"""Page preferences: theme (system, light, dark) and language.

A logged-in user's choice is stored in `Preference`, so every device gets it;
at login it is copied into the session, which is where every request reads
it (no query per page). A visitor's choice lives in the session only.
Without a choice the page follows the system (prefers-color-scheme) and the
browser's language (LocaleMiddleware, Accept-Language).
"""

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.decorators import sync_and_async_middleware
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from chat.protocol.v1 import ChatError, ErrorCode

from .models import InvalidDisplayName, Preference, clean_display_name

SESSION_KEY = "preferences"
THEMES = [code for code, _ in Preference.THEMES]


def _language_codes() -> list[str]:
    return [code for code, _ in settings.LANGUAGES]


def _activate(request: HttpRequest, prefs: dict) -> None:
    language = prefs.get("language")
    if language in _language_codes():
        translation.activate(language)
        request.LANGUAGE_CODE = language


@sync_and_async_middleware
def preference_middleware(get_response):
    """The user's language, when they chose one, over the browser's.

    After LocaleMiddleware (which picked the browser's) and the session.
    """
    if iscoroutinefunction(get_response):

        async def middleware(request):
            _activate(request, await request.session.aget(SESSION_KEY, {}))
            return await get_response(request)

    else:

        def middleware(request):
            _activate(request, request.session.get(SESSION_KEY, {}))
            return get_response(request)

    return middleware


def preferences(request: HttpRequest) -> dict:
    """Template context: `theme` ("system", "light" or "dark") and
    `language_chosen` ("" for the browser's)."""
    session = getattr(request, "session", None)
    prefs = session.get(SESSION_KEY, {}) if session is not None else {}
    return {
        "theme": prefs.get("theme", "system"),
        "language_chosen": prefs.get("language", ""),
        "display_name": prefs.get("display_name", ""),
        "avatar_api_url": "/api/v1/users/me/avatar",
    }


@receiver(post_delete, sender=Preference)
def _delete_avatar_file(sender, instance: Preference, **kwargs) -> None:
    """A deleted user's (or row's) picture leaves the storage too."""
    if instance.avatar.name:
        instance.avatar.storage.delete(instance.avatar.name)


@receiver(user_logged_in)
def _load_on_login(sender, request, user, **kwargs) -> None:
    if request is None:
        return
    row = Preference.objects.filter(user=user).first()
    if row is not None:
        request.session[SESSION_KEY] = {
            "theme": row.theme,
            "language": row.language,
            "display_name": row.display_name,
        }


@require_POST
def save(request: HttpRequest) -> HttpResponse:
    """POST theme and/or language (and a logged-in user's display_name):
    saved for the user (or the visitor's session). Answers JSON to `Accept: application/json`, else goes back to
    `next`. A value out of its list is refused with 400, saying which."""
    prefs = dict(request.session.get(SESSION_KEY, {}))
    for field, allowed in (("theme", THEMES), ("language", ["", *_language_codes()])):
        if field not in request.POST:
            continue
        value = request.POST[field]
        if value not in allowed:
            detail = f"{field} must be one of: {', '.join(repr(a) for a in allowed)}."
            refused = ChatError(ErrorCode.BAD_FRAME, detail)
            return JsonResponse(refused.as_dict(), status=refused.status)
        prefs[field] = value
    defaults = {
        "theme": prefs.get("theme", "system"),
        "language": prefs.get("language", ""),
    }
    # The display name is the user's (chat.services.profiles shows it), not
    # the session's: only for a logged-in user.
    if "display_name" in request.POST and request.user.is_authenticated:
        try:
            defaults["display_name"] = clean_display_name(request.POST["display_name"])
        except InvalidDisplayName as exc:
            refused = ChatError(ErrorCode.BAD_FRAME, str(exc))
            return JsonResponse(refused.as_dict(), status=refused.status)
    if request.user.is_authenticated:
        row, _ = Preference.objects.update_or_create(
            user=request.user, defaults=defaults
        )
        defaults["display_name"] = prefs["display_name"] = row.display_name
    request.session[SESSION_KEY] = prefs
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(defaults)
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("chat:index")
    return redirect(target)
