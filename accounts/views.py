from django.contrib.auth import login
from django.contrib.auth.views import RedirectURLMixin
from django.http import HttpResponseRedirect
from django.views.generic import CreateView

from .forms import SignUpForm


class SignUpView(RedirectURLMixin, CreateView):
    """Sign up, log in, and go back where the visitor was going (`next`,
    checked like the login view's: same host only)."""

    form_class = SignUpForm
    template_name = "registration/signup.html"
    next_page = "chat:index"

    def form_valid(self, form):
        # Not super().form_valid(): it would save the form again, and
        # UserCreationForm.save() re-hashes the password, which logs the
        # new session out (its auth hash no longer matches).
        self.object = form.save()
        login(self.request, self.object)  # signed up means logged in
        return HttpResponseRedirect(self.get_success_url())

    def get_success_url(self) -> str:
        return RedirectURLMixin.get_success_url(self)

    def get_context_data(self, **kwargs):
        return super().get_context_data(next=self.get_redirect_url(), **kwargs)
