"""Staff sign-in."""

from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from crm.forms.base import BaseForm


class LoginForm(BaseForm):
    email = EmailField("Email", validators=[DataRequired("Enter your email."), Length(max=254)])
    password = PasswordField(
        "Password", validators=[DataRequired("Enter your password."), Length(max=256)]
    )
