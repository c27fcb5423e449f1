"""Unbound extensions, bound to an app in create_app().

The submit rate limits are crm/services/rate_limits.py (one Redis round trip per submit),
not Flask-Limiter: its hooks ran on every request and counted nothing.
"""

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from crm.models.base import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
