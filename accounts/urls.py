from django.contrib.auth.views import LoginView
from django.urls import include, path

from .forms import LoginForm
from .views import SignUpView, invites, tokens

urlpatterns = [
    path("signup/", SignUpView.as_view(), name="signup"),
    path("tokens/", tokens, name="tokens"),
    path("invites/", invites, name="invites"),
    # Before django.contrib.auth.urls: failed logins throttled (accounts.forms).
    path("login/", LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("", include("django.contrib.auth.urls")),
]
