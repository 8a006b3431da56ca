"""gunicorn's settings for production (read from the working directory by every gunicorn the
Dockerfile and docker-compose.yml start).

The access log names the path only (``%(U)s``), never the query string (``%(q)s``, ``%(r)s``)
or the referer: a search (``?q=``) or a link from an EPJ (``/launch?cpr=``) carries CPR numbers
in its query, and an access log is no place for health data."""

accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
