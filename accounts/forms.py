from django.contrib.auth.forms import UserCreationForm


class SignUpForm(UserCreationForm):
    """Django's sign-up form, with a weak password's error under *Password*.

    Django checks the password's strength on the confirmation field and shows
    the error there (issue 19: "a weak-password error shows under Password
    confirmation"); a mismatch still shows under the confirmation. (The
    type: ignore: django-stubs does not declare this method yet.)
    """

    def validate_password_for_user(self, user, password_field_name="password1"):
        super().validate_password_for_user(  # type: ignore[misc]
            user, password_field_name=password_field_name
        )
