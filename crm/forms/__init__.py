"""Flask-WTF forms, one module per audience, on a shared BaseForm."""
