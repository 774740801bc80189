from django.conf import settings
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import RedirectURLMixin
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from django.views.generic import CreateView

from chat.realtime.state import throttle

from .forms import SignUpForm, client_address
from .models import ApiToken, Invite, TokenLimitReached
from .tokens import list_tokens, revoke_token


class SignUpView(RedirectURLMixin, CreateView):
    """Sign up, log in, and go back where the visitor was going (`next`,
    checked like the login view's: same host only).

    CHAT_SIGNUP: "open", "invite" (an unused invite code, from the link
    `manage.py chat_invite` prints) or "closed" (403). At most
    CHAT_SIGNUPS_PER_ADDRESS accounts per client address per
    CHAT_SIGNUP_WINDOW seconds (429).
    """

    form_class = SignUpForm
    template_name = "registration/signup.html"
    next_page = "chat:index"

    def dispatch(self, request, *args, **kwargs):
        if settings.CHAT_SIGNUP == "closed":
            return self._refused("Sign-up is closed here; ask an administrator.", 403)
        return super().dispatch(request, *args, **kwargs)

    def get_initial(self):
        return {**super().get_initial(), "invite": self.request.GET.get("invite", "")}

    def form_valid(self, form):
        key = f"signup:addr:{client_address(self.request)}"
        wait = throttle.wait_seconds({key: settings.CHAT_SIGNUPS_PER_ADDRESS})
        if wait:
            form.add_error(
                None,
                f"Too many accounts were made from this address; try again in "
                f"{wait} seconds.",
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        # Not super().form_valid(): it would save the form again, and
        # UserCreationForm.save() re-hashes the password, which logs the
        # new session out (its auth hash no longer matches).
        self.object = form.save()
        throttle.add([key], settings.CHAT_SIGNUP_WINDOW)
        login(self.request, self.object)  # signed up means logged in
        return HttpResponseRedirect(self.get_success_url())

    def _refused(self, detail: str, status: int):
        self.object = None
        form = self.get_form_class()()
        form.cleaned_data = {}  # add_error needs it; the form stays unbound
        form.add_error(None, detail)
        return self.render_to_response(self.get_context_data(form=form), status=status)

    def get_success_url(self) -> str:
        return RedirectURLMixin.get_success_url(self)

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=self.get_redirect_url(), **kwargs)


@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    """The user's API tokens: list, create (shown once), delete."""
    created = None
    error = None
    if request.method == "POST":
        if "delete" in request.POST:
            try:
                token_id = int(request.POST["delete"])
            except ValueError:
                token_id = 0
            if not revoke_token(request.user, token_id):
                error = "No such token of yours (already deleted?)."
            else:
                return redirect("tokens")
        else:
            try:
                _row, created = ApiToken.objects.issue(request.user)
            except TokenLimitReached as exc:
                error = exc.detail
    context = {
        "tokens": list_tokens(request.user),
        "created": created,
        "error": error,
        "limit": settings.CHAT_TOKENS_PER_USER,
    }
    return render(request, "registration/tokens.html", context)


def may_invite(user) -> bool:
    """Staff, and the owner of a room, may make sign-up links."""
    from chat.models import Membership

    if not user.is_active:
        return False
    if user.is_staff:
        return True
    return Membership.objects.filter(user=user, role=Membership.Role.OWNER).exists()


@login_required
@require_http_methods(["GET", "POST"])
def invites(request):
    """Staff and room owners: make a one-use sign-up link (CHAT_SIGNUP=invite)."""
    if not may_invite(request.user):
        return render(
            request,
            "registration/invites.html",
            {"refused": "Only staff and room owners make invite links."},
            status=403,
        )
    link = None
    if request.method == "POST":
        invite = Invite.objects.create(created_by=request.user)
        link = request.build_absolute_uri(f"{reverse('signup')}?invite={invite.code}")
    unused = Invite.objects.filter(used_at__isnull=True).count()
    context = {"link": link, "unused": unused, "policy": settings.CHAT_SIGNUP}
    return render(request, "registration/invites.html", context)
