"""Log-in and sign-up forms with the abuse limits of docs/security.md."""

import re
from typing import TYPE_CHECKING

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UserCreationForm
from django.core.exceptions import ValidationError

from .credentials import CredentialsRefused, LoginThrottled, check_credentials
from .models import Invite

# New accounts only (existing users keep theirs): no look-alikes (a Cyrillic
# "а" in "dаve"), nothing a URL, a mention or a log line must escape.
USERNAME_RE = re.compile(r"[a-z0-9._-]{3,32}")
USERNAME_RULE = "3 to 32 characters: lowercase letters a-z, digits, and . - _ only."


def client_address(request) -> str:
    """The client's IP (uvicorn puts the proxy's X-Forwarded-For there when
    the proxy is in FORWARDED_ALLOW_IPS)."""
    return request.META.get("REMOTE_ADDR", "") if request is not None else ""


if TYPE_CHECKING:  # what the mixin is mixed into
    _LoginForm = AuthenticationForm
else:
    _LoginForm = object


class ThrottledLoginMixin(_LoginForm):
    """AuthenticationForm.clean through accounts.credentials: failed logins
    counted per account and per address, refused with a clear message at the
    limit."""

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            address = client_address(self.request)
            try:
                self.user_cache = check_credentials(
                    self.request, username, password, address
                )
            except LoginThrottled as exc:
                raise ValidationError(exc.detail, code="throttled") from None
            except CredentialsRefused:
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class SignUpForm(UserCreationForm):
    """UserCreationForm, with the username rule for new accounts and, under
    CHAT_SIGNUP=invite, an unused invite code."""

    invite = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].help_text = USERNAME_RULE
        if settings.CHAT_SIGNUP != "invite":
            del self.fields["invite"]

    def clean_username(self):
        username = super().clean_username()
        if not USERNAME_RE.fullmatch(username or ""):
            raise ValidationError(f"Choose another username: {USERNAME_RULE}")
        return username

    def validate_password_for_user(self, user, password_field_name="password1"):
        """A weak password's error under *Password* (Django puts it under the
        confirmation; a mismatch still shows there). django-stubs does not
        declare this method yet, hence the ignore."""
        super().validate_password_for_user(  # type: ignore[misc]
            user, password_field_name=password_field_name
        )

    def clean_invite(self):
        code = self.cleaned_data.get("invite") or ""
        invite = Invite.objects.usable(code)
        if invite is None:
            raise ValidationError(
                "Sign-up here needs an invite link, unused, from a staff member."
            )
        return invite

    def save(self, commit=True):
        user = super().save(commit=commit)
        invite = self.cleaned_data.get("invite")
        if commit and invite is not None:
            invite.use(user)
        return user
