"""A real OpenID provider for the tests and the demo: django-oauth-toolkit in a Django project of its own.

It runs as a separate process (``tests.oidc_provider.server``), with its own SQLite database
and RSA key, and speaks the whole protocol: discovery, authorization code with PKCE, signed
ID tokens, userinfo with a ``groups`` claim (the user's Django groups here) and RP-initiated
logout. Nothing in it is the portal's code.
"""
