"""The studio's pages and endpoints, a module per page family (previews/urls.py is their table of contents).
Staff only; every POST carries a CSRF token. Views are thin: they parse the request, call one service, and
answer."""
