"""Submit-path benchmark: the real /callback submit against a one-INSERT Flask baseline.

Kept out of the `crm` package so that nothing here can ship with the app.
"""
