from django.conf import settings
from django.contrib.auth import urls as auth_urls
from django.contrib.auth.views import LoginView
from django.urls import path

from .forms import LoginForm
from .views import SignUpView, invites, tokens

urlpatterns = [
    path("signup/", SignUpView.as_view(), name="signup"),
    path("tokens/", tokens, name="tokens"),
    path("invites/", invites, name="invites"),
    # Before django.contrib.auth's: failed logins throttled (accounts.forms).
    path("login/", LoginView.as_view(authentication_form=LoginForm), name="login"),
    # Log in/out, password change; password reset only where e-mail can be
    # sent (EMAIL_URL; the console with `make run`), else those pages are 404.
    *(
        pattern
        for pattern in auth_urls.urlpatterns
        if settings.CHAT_PASSWORD_RESET
        or not (getattr(pattern, "name", None) or "").startswith("password_reset")
    ),
]
