"""Staff logins throttled (django-axes): after LOGIN_FAILURE_LIMIT (5) wrong passwords for
one username from one address, that pair is refused for LOGIN_LOCKOUT_MINUTES (15), even
with the right password; a success resets the count. The pair, not the account alone, so
nobody can lock the owner out from elsewhere by guessing, and not the address alone, so
the shop's own staff behind one router are not locked out by a colleague's typos.

Behind a proxy every request comes from the proxy's address; LOGIN_PROXY_COUNT (the
number of proxies in front of gunicorn, 1 behind nginx) makes the address the one the
nearest proxy saw, the last of X-Forwarded-For that is not a proxy's. A client cannot
choose it: what it writes into X-Forwarded-For comes before what the proxies append."""

from django.conf import settings


def client_ip(request):
    """The address a login attempt came from (settings.AXES_CLIENT_IP_CALLABLE)."""
    proxies = settings.LOGIN_PROXY_COUNT
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [a for a in forwarded if a]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")
