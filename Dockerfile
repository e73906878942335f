# Production image: gunicorn serving the tracker; Firestore through Application
# Default Credentials (the runtime's service account, or GOOGLE_APPLICATION_CREDENTIALS).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_ENV=production \
    PORT=8000

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings, not secrets: throwaway values for this one step.
RUN SECRET_KEY=collectstatic-only ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    GOOGLE_CLOUD_PROJECT=build python manage.py collectstatic --noinput \
    && useradd --create-home --uid 10001 tracker
USER tracker

EXPOSE 8000
# The probe sends a Host that ALLOWED_HOSTS accepts (127.0.0.1 is refused once
# the real host names are listed).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "issuetracker.healthprobe"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "issuetracker.wsgi:application"]
