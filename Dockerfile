# The app image used by docker-compose.yml for web (gunicorn, the CMD), push (uvicorn),
# worker, beat and the X sandbox; deploy/k8s runs the same image.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1000 twelp
WORKDIR /app

COPY pyproject.toml README.md ./
COPY twelp twelp
COPY inbox inbox
COPY agents agents
RUN pip install .

COPY manage.py ./
COPY templates templates
# The UI's Spanish (issue 21): the compiled .mo files are committed, no gettext needed.
COPY locale locale
COPY static static
RUN DEBUG=true python manage.py collectstatic --no-input --verbosity 0

USER twelp
EXPOSE 8000
CMD ["gunicorn", "twelp.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--threads", "4", "--keep-alive", "75", "--no-control-socket", \
     "--access-logfile", "-"]
