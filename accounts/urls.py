from django.conf import settings
from django.contrib.auth import urls as auth_urls
from django.urls import path

from .views import SignUpView

urlpatterns = [
    path("signup/", SignUpView.as_view(), name="signup"),
    # Log in/out, password change; password reset only where e-mail can be
    # sent (EMAIL_URL; the console with `make run`), else those pages are 404.
    *(
        pattern
        for pattern in auth_urls.urlpatterns
        if settings.CHAT_PASSWORD_RESET
        or not (getattr(pattern, "name", None) or "").startswith("password_reset")
    ),
]
